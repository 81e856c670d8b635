//! The ATT&CK techniques the catalogue recognises, as the notice names them.

use crate::behaviour::Technique;

macro_rules! technique {
    ($name:ident, $id:literal, $title:literal, $tactic:literal, $signal:literal) => {
        pub const $name: Technique = Technique {
            id: $id,
            name: $title,
            tactic: $tactic,
            signal: $signal,
        };
    };
}

technique!(
    IMPAIR_CLOUD_LOGS,
    "T1562.008",
    "Impair Defenses: Disable or Modify Cloud Logs",
    "Defense Evasion",
    "impair_cloud_logs"
);
technique!(
    IMPAIR_SECURITY_TOOLS,
    "T1562.001",
    "Impair Defenses: Disable or Modify Tools",
    "Defense Evasion",
    "impair_security_tools"
);
technique!(
    OPEN_CLOUD_FIREWALL,
    "T1562.007",
    "Impair Defenses: Disable or Modify Cloud Firewall",
    "Defense Evasion",
    "open_cloud_firewall"
);
technique!(
    LEAVE_ORGANIZATION,
    "T1666",
    "Modify Cloud Resource Hierarchy",
    "Defense Evasion",
    "leave_organization"
);
technique!(
    TRANSFER_TO_CLOUD_ACCOUNT,
    "T1537",
    "Transfer Data to Cloud Account",
    "Exfiltration",
    "share_outside_account"
);
technique!(
    OUTSIDE_TRUST,
    "T1098.003",
    "Account Manipulation: Additional Cloud Roles",
    "Persistence",
    "trust_outside_account"
);
technique!(
    PRIVILEGED_POLICY,
    "T1098.003",
    "Account Manipulation: Additional Cloud Roles",
    "Privilege Escalation",
    "privileged_policy_attached"
);
technique!(
    ADDITIONAL_CREDENTIALS,
    "T1098.001",
    "Account Manipulation: Additional Cloud Credentials",
    "Persistence",
    "credentials_for_others"
);
technique!(
    CREATE_CLOUD_ACCOUNT,
    "T1136.003",
    "Create Account: Cloud Account",
    "Persistence",
    "cloud_account_created"
);
technique!(
    FUNCTION_OPENED,
    "T1098",
    "Account Manipulation",
    "Persistence",
    "function_opened_outside"
);
technique!(
    SERVERLESS_CODE,
    "T1648",
    "Serverless Execution",
    "Persistence",
    "function_code_changed"
);
technique!(
    SECRETS_HARVEST,
    "T1555.006",
    "Credentials from Password Stores: Cloud Secrets Management Stores",
    "Credential Access",
    "secrets_harvest"
);
technique!(
    UNSECURED_CREDENTIALS,
    "T1552",
    "Unsecured Credentials",
    "Credential Access",
    "instance_credentials_harvest"
);
technique!(
    CLOUD_DISCOVERY,
    "T1580",
    "Cloud Infrastructure Discovery",
    "Discovery",
    "discovery_burst"
);
technique!(
    PERMISSION_PROBING,
    "T1580",
    "Cloud Infrastructure Discovery (trying what the credentials may do)",
    "Discovery",
    "denied_probing"
);
technique!(
    CLOUD_ADMIN_COMMAND,
    "T1651",
    "Cloud Administration Command",
    "Execution",
    "remote_command"
);
technique!(
    DIRECT_VM_CONNECTION,
    "T1021.008",
    "Remote Services: Direct Cloud VM Connections",
    "Lateral Movement",
    "direct_vm_connection"
);
technique!(
    USER_DATA_CHANGED,
    "T1059.009",
    "Command and Scripting Interpreter: Cloud API (instance user data)",
    "Execution",
    "user_data_changed"
);
technique!(
    RESOURCE_HIJACKING,
    "T1496",
    "Resource Hijacking",
    "Impact",
    "resource_hijacking"
);
technique!(
    SERVICE_HIJACKING,
    "T1496.004",
    "Resource Hijacking: Cloud Service Hijacking",
    "Impact",
    "model_access_hijacking"
);
technique!(
    DATA_DESTRUCTION,
    "T1485",
    "Data Destruction",
    "Impact",
    "mass_deletion"
);
technique!(
    KEY_DESTRUCTION,
    "T1485",
    "Data Destruction (encryption keys disabled or scheduled for deletion)",
    "Impact",
    "keys_disabled"
);
technique!(
    CONSOLE_WITHOUT_MFA,
    "T1078.004",
    "Valid Accounts: Cloud Accounts",
    "Initial Access",
    "console_without_mfa"
);
technique!(
    PASSWORD_GUESSING,
    "T1110",
    "Brute Force (console password)",
    "Credential Access",
    "console_password_guessing"
);

technique!(
    ACCOUNT_DISCOVERY,
    "T1087.004",
    "Account Discovery: Cloud Account",
    "Discovery",
    "iam_configuration_dump"
);
technique!(
    ALTERNATE_AUTHENTICATION,
    "T1550.001",
    "Use Alternate Authentication Material: Application Access Token",
    "Defense Evasion",
    "console_from_access_keys"
);
technique!(
    REGION_SWEEP,
    "T1580",
    "Cloud Infrastructure Discovery (across regions)",
    "Discovery",
    "region_sweep"
);

/// Every technique of the catalogue, for the README's table and tests.
pub const TECHNIQUES: [&Technique; 27] = [
    &IMPAIR_CLOUD_LOGS,
    &IMPAIR_SECURITY_TOOLS,
    &OPEN_CLOUD_FIREWALL,
    &LEAVE_ORGANIZATION,
    &TRANSFER_TO_CLOUD_ACCOUNT,
    &OUTSIDE_TRUST,
    &PRIVILEGED_POLICY,
    &ADDITIONAL_CREDENTIALS,
    &CREATE_CLOUD_ACCOUNT,
    &FUNCTION_OPENED,
    &SERVERLESS_CODE,
    &SECRETS_HARVEST,
    &UNSECURED_CREDENTIALS,
    &CLOUD_DISCOVERY,
    &PERMISSION_PROBING,
    &CLOUD_ADMIN_COMMAND,
    &DIRECT_VM_CONNECTION,
    &USER_DATA_CHANGED,
    &RESOURCE_HIJACKING,
    &SERVICE_HIJACKING,
    &DATA_DESTRUCTION,
    &KEY_DESTRUCTION,
    &CONSOLE_WITHOUT_MFA,
    &PASSWORD_GUESSING,
    &ACCOUNT_DISCOVERY,
    &ALTERNATE_AUTHENTICATION,
    &REGION_SWEEP,
];
