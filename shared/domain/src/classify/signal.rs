//! The name of every piece of evidence: what a notice's reader, a subscriber's filter and the
//! evaluation report see, so it is one closed list the compiler checks, never a string two
//! modules must spell alike.

use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! signals {
    ($($variant:ident = $name:literal,)*) => {
        /// A rule's or a behaviour's stable name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Signal {
            $($variant,)*
        }

        impl Signal {
            pub const ALL: &[Signal] = &[$(Signal::$variant,)*];

            /// The `snake_case` name, as reports and tests spell it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Signal::$variant => $name,)*
                }
            }
        }
    };
}

signals! {
    AcceptedAfterBruteForce = "accepted_after_brute_force",
    AuditTool = "audit_tool",
    AwsServiceActing = "aws_service_acting",
    Blocked = "blocked",
    BruteForceAllRejected = "brute_force_all_rejected",
    ClaimRefuted = "claim_refuted",
    CloudAccountCreated = "cloud_account_created",
    ConsoleFromAccessKeys = "console_from_access_keys",
    ConsolePasswordGuessing = "console_password_guessing",
    ConsoleWithoutMfa = "console_without_mfa",
    CredentialsForOthers = "credentials_for_others",
    DataSentToRemote = "data_sent_to_remote",
    DeniedProbing = "denied_probing",
    DirectVmConnection = "direct_vm_connection",
    DiscoveryBurst = "discovery_burst",
    DnsLookupContained = "dns_lookup_contained",
    DnsNamesUnderDomain = "dns_names_under_domain",
    DnsResolvedThenReached = "dns_resolved_then_reached",
    FailuresThenSuccesses = "failures_then_successes",
    FamiliarChanges = "familiar_changes",
    FamilyReading = "family_reading",
    FunctionCodeChanged = "function_code_changed",
    FunctionOpenedOutside = "function_opened_outside",
    HighFidelityType = "high_fidelity_type",
    IamConfigurationDump = "iam_configuration_dump",
    ImpairCloudLogs = "impair_cloud_logs",
    ImpairSecurityTools = "impair_security_tools",
    InfrastructureAsCode = "infrastructure_as_code",
    InstanceCredentialsHarvest = "instance_credentials_harvest",
    KeysDisabled = "keys_disabled",
    KnownIpForPrincipal = "known_ip_for_principal",
    KubeFurtherTechniques = "kube_further_techniques",
    KubeFurtherTechniquesRefused = "kube_further_techniques_refused",
    KubePermissionProbing = "kube_permission_probing",
    KnownScanner = "known_scanner",
    LeaveOrganization = "leave_organization",
    MassDeletion = "mass_deletion",
    MfaSession = "mfa_session",
    ModelAccessHijacking = "model_access_hijacking",
    NetworkUnseenInAccount = "network_unseen_in_account",
    NetworkUsualInAccount = "network_usual_in_account",
    NewIpForPrincipal = "new_ip_for_principal",
    NewUserAgent = "new_user_agent",
    NxdomainBurst = "nxdomain_burst",
    OpenCloudFirewall = "open_cloud_firewall",
    OwnTeardown = "own_teardown",
    PolicyFinding = "policy_finding",
    PrivilegedPolicyAttached = "privileged_policy_attached",
    ProbeAllRejected = "probe_all_rejected",
    ReadOnlyWindow = "read_only_window",
    RegionSweep = "region_sweep",
    RemoteCommand = "remote_command",
    ResourceHijacking = "resource_hijacking",
    ResourceRoleActor = "resource_role_actor",
    ResourceRoleTarget = "resource_role_target",
    RestrictiveChanges = "restrictive_changes",
    SampleFinding = "sample_finding",
    SecretsHarvest = "secrets_harvest",
    SensitiveCallsFromNewNetwork = "sensitive_calls_from_new_network",
    Severity = "severity",
    ShareOutsideAccount = "share_outside_account",
    ThreatList = "threat_list",
    Tor = "tor",
    TrustOutsideAccount = "trust_outside_account",
    UserDataChanged = "user_data_changed",
    UsualBehaviour = "usual_behaviour",
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Signal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_snake_case() {
        let names: std::collections::BTreeSet<&str> =
            Signal::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), Signal::ALL.len());
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
    }
}
