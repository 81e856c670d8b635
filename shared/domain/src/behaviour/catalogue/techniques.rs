//! The ATT&CK techniques the catalogue recognises, as the notice names them.

use crate::behaviour::Technique;
use crate::classify::Signal;

macro_rules! technique {
    ($name:ident, $id:literal, $title:literal, $tactic:literal, $signal:expr) => {
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
    Signal::ImpairCloudLogs
);
technique!(
    IMPAIR_SECURITY_TOOLS,
    "T1562.001",
    "Impair Defenses: Disable or Modify Tools",
    "Defense Evasion",
    Signal::ImpairSecurityTools
);
technique!(
    OPEN_CLOUD_FIREWALL,
    "T1562.007",
    "Impair Defenses: Disable or Modify Cloud Firewall",
    "Defense Evasion",
    Signal::OpenCloudFirewall
);
technique!(
    LEAVE_ORGANIZATION,
    "T1666",
    "Modify Cloud Resource Hierarchy",
    "Defense Evasion",
    Signal::LeaveOrganization
);
technique!(
    TRANSFER_TO_CLOUD_ACCOUNT,
    "T1537",
    "Transfer Data to Cloud Account",
    "Exfiltration",
    Signal::ShareOutsideAccount
);
technique!(
    OUTSIDE_TRUST,
    "T1098.003",
    "Account Manipulation: Additional Cloud Roles",
    "Persistence",
    Signal::TrustOutsideAccount
);
technique!(
    PRIVILEGED_POLICY,
    "T1098.003",
    "Account Manipulation: Additional Cloud Roles",
    "Privilege Escalation",
    Signal::PrivilegedPolicyAttached
);
technique!(
    ADDITIONAL_CREDENTIALS,
    "T1098.001",
    "Account Manipulation: Additional Cloud Credentials",
    "Persistence",
    Signal::CredentialsForOthers
);
technique!(
    CREATE_CLOUD_ACCOUNT,
    "T1136.003",
    "Create Account: Cloud Account",
    "Persistence",
    Signal::CloudAccountCreated
);
technique!(
    FUNCTION_OPENED,
    "T1098",
    "Account Manipulation",
    "Persistence",
    Signal::FunctionOpenedOutside
);
technique!(
    SERVERLESS_CODE,
    "T1648",
    "Serverless Execution",
    "Persistence",
    Signal::FunctionCodeChanged
);
technique!(
    SECRETS_HARVEST,
    "T1555.006",
    "Credentials from Password Stores: Cloud Secrets Management Stores",
    "Credential Access",
    Signal::SecretsHarvest
);
technique!(
    UNSECURED_CREDENTIALS,
    "T1552",
    "Unsecured Credentials",
    "Credential Access",
    Signal::InstanceCredentialsHarvest
);
technique!(
    CLOUD_DISCOVERY,
    "T1580",
    "Cloud Infrastructure Discovery",
    "Discovery",
    Signal::DiscoveryBurst
);
technique!(
    PERMISSION_PROBING,
    "T1580",
    "Cloud Infrastructure Discovery (trying what the credentials may do)",
    "Discovery",
    Signal::DeniedProbing
);
technique!(
    CLOUD_ADMIN_COMMAND,
    "T1651",
    "Cloud Administration Command",
    "Execution",
    Signal::RemoteCommand
);
technique!(
    DIRECT_VM_CONNECTION,
    "T1021.008",
    "Remote Services: Direct Cloud VM Connections",
    "Lateral Movement",
    Signal::DirectVmConnection
);
technique!(
    USER_DATA_CHANGED,
    "T1059.009",
    "Command and Scripting Interpreter: Cloud API (instance user data)",
    "Execution",
    Signal::UserDataChanged
);
technique!(
    RESOURCE_HIJACKING,
    "T1496",
    "Resource Hijacking",
    "Impact",
    Signal::ResourceHijacking
);
technique!(
    SERVICE_HIJACKING,
    "T1496.004",
    "Resource Hijacking: Cloud Service Hijacking",
    "Impact",
    Signal::ModelAccessHijacking
);
technique!(
    DATA_DESTRUCTION,
    "T1485",
    "Data Destruction",
    "Impact",
    Signal::MassDeletion
);
technique!(
    KEY_DESTRUCTION,
    "T1485",
    "Data Destruction (encryption keys disabled or scheduled for deletion)",
    "Impact",
    Signal::KeysDisabled
);
technique!(
    CONSOLE_WITHOUT_MFA,
    "T1078.004",
    "Valid Accounts: Cloud Accounts",
    "Initial Access",
    Signal::ConsoleWithoutMfa
);
technique!(
    PASSWORD_GUESSING,
    "T1110",
    "Brute Force (console password)",
    "Credential Access",
    Signal::ConsolePasswordGuessing
);

technique!(
    ACCOUNT_DISCOVERY,
    "T1087.004",
    "Account Discovery: Cloud Account",
    "Discovery",
    Signal::IamConfigurationDump
);
technique!(
    ALTERNATE_AUTHENTICATION,
    "T1550.001",
    "Use Alternate Authentication Material: Application Access Token",
    "Defense Evasion",
    Signal::ConsoleFromAccessKeys
);
technique!(
    REGION_SWEEP,
    "T1580",
    "Cloud Infrastructure Discovery (across regions)",
    "Discovery",
    Signal::RegionSweep
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
