//! Facts derived from a finding that several steps need (dedupe, classification, the notice),
//! computed in one place so they agree.

use super::model::{Finding, RemoteIpDetails, ResourceRole, ResourceType, Service, name_tag};
use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use serde_json::Value;
use std::collections::BTreeSet;

/// Parse the timestamps findings carry: RFC 3339 from EventBridge and the API, and the
/// space-separated form with up to nanoseconds that exports and copies use.
///
/// Years outside 0000-9999 are unreadable like any other bad time: `%Y` also takes signed and
/// longer years (`-262143-01-01T00:00:00`, chrono's minimum), and the scope window's look-back
/// from such a time overflowed (a panic found while fuzzing the finding parser).
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .map(|t| t.and_utc())
}

/// The resource a person would look up first, named the way the console names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSummary {
    pub kind: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

/// A broad family of finding types, each with its own reading (classification rules) and its
/// own "do next" steps. Every type GuardDuty documents belongs to one; `Other` is for types it
/// has not documented yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    BruteForce,
    PortProbe,
    RootCredential,
    CredentialExfiltration,
    CryptoMining,
    /// Traffic to command-and-control, malware, phishing or drop-point infrastructure.
    CommandAndControl,
    /// Our workload attacking others: denial of service, spam, port sweeps.
    OutboundAbuse,
    /// Unusual ports, volumes, resolvers or metadata access of a workload.
    NetworkAnomaly,
    Tor,
    /// API calls from an address on a threat list.
    MaliciousCaller,
    S3,
    /// A bucket or the account opened to the public.
    S3Exposure,
    /// GuardDuty's anomaly model: an IAM principal's calls of one tactic are unusual for it.
    IamAnomaly,
    /// Audit logging or password policy weakened.
    Stealth,
    /// Calls from a penetration-testing distribution.
    PenTest,
    Kubernetes,
    Rds,
    Malware,
    Runtime,
    AttackSequence,
    Lambda,
    Other,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BruteForce => "brute force",
            Self::PortProbe => "port probe",
            Self::RootCredential => "root credential use",
            Self::CredentialExfiltration => "credential exfiltration",
            Self::CryptoMining => "crypto mining",
            Self::CommandAndControl => "command and control",
            Self::OutboundAbuse => "outbound abuse",
            Self::NetworkAnomaly => "network anomaly",
            Self::Tor => "Tor",
            Self::MaliciousCaller => "malicious caller",
            Self::S3 => "S3 data access",
            Self::S3Exposure => "S3 exposure",
            Self::IamAnomaly => "IAM anomalous behaviour",
            Self::Stealth => "logging or policy weakened",
            Self::PenTest => "penetration-testing tools",
            Self::Kubernetes => "Kubernetes",
            Self::Rds => "RDS",
            Self::Malware => "malware",
            Self::Runtime => "runtime",
            Self::AttackSequence => "attack sequence",
            Self::Lambda => "Lambda",
            Self::Other => "other",
        }
    }
}

impl Finding {
    pub(super) fn service(&self) -> Option<&Service> {
        self.service.as_ref()
    }

    /// Sample findings come from `CreateSampleFindings`: a `[SAMPLE]` title, or
    /// `additionalInfo.sample`, which newer findings nest in the JSON string `additionalInfo.value`.
    pub fn is_sample(&self) -> bool {
        if self
            .title
            .as_deref()
            .is_some_and(|t| t.trim_start().starts_with("[SAMPLE]"))
        {
            return true;
        }
        let Some(info) = self.service().and_then(|s| s.additional_info.as_ref()) else {
            return false;
        };
        if is_true(info.get("sample")) {
            return true;
        }
        info.get("value")
            .and_then(Value::as_str)
            .and_then(|raw| serde_json::from_str::<Value>(raw).ok())
            .is_some_and(|inner| is_true(inner.get("sample")))
    }

    pub fn is_archived(&self) -> bool {
        self.service().is_some_and(|s| s.archived)
    }

    /// How many times GuardDuty saw the activity; a finding without a count was seen once.
    pub fn count(&self) -> i64 {
        self.service().and_then(|s| s.count).unwrap_or(1).max(1)
    }

    pub fn resource_role(&self) -> Option<&ResourceRole> {
        self.service().and_then(|s| s.resource_role.as_ref())
    }

    pub fn first_seen(&self) -> Option<DateTime<Utc>> {
        self.service()
            .and_then(|s| s.event_first_seen.as_deref())
            .and_then(parse_time)
    }

    pub fn last_seen(&self) -> Option<DateTime<Utc>> {
        self.service()
            .and_then(|s| s.event_last_seen.as_deref())
            .and_then(parse_time)
    }

    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at.as_deref().and_then(parse_time)
    }

    pub fn resource_type(&self) -> Option<&ResourceType> {
        self.resource.as_ref()?.resource_type.as_ref()
    }

    pub fn action_type(&self) -> Option<&str> {
        let action = self.service()?.action.as_ref()?;
        action.action_type.as_ref().map(|a| a.as_str())
    }

    /// The API call the finding is about (`awsApiCallAction.api`), for findings raised on one.
    pub fn flagged_api(&self) -> Option<&str> {
        let action = self.service()?.action.as_ref()?;
        action.aws_api_call_action.as_ref()?.api.as_deref()
    }

    /// Every remote IP details block the finding carries, whatever its action type.
    pub fn remote_ip_details(&self) -> Vec<&RemoteIpDetails> {
        let Some(action) = self.service().and_then(|s| s.action.as_ref()) else {
            return Vec::new();
        };
        let mut out: Vec<&RemoteIpDetails> = Vec::new();
        if let Some(a) = &action.network_connection_action {
            out.extend(a.remote_ip_details.as_ref());
        }
        if let Some(a) = &action.port_probe_action {
            out.extend(
                a.port_probe_details
                    .iter()
                    .filter_map(|d| d.remote_ip_details.as_ref()),
            );
        }
        if let Some(a) = &action.aws_api_call_action {
            out.extend(a.remote_ip_details.as_ref());
        }
        if let Some(a) = &action.rds_login_attempt_action {
            out.extend(a.remote_ip_details.as_ref());
        }
        if let Some(a) = &action.kubernetes_api_call_action {
            out.extend(a.remote_ip_details.as_ref());
        }
        out
    }

    /// Remote endpoints of the activity: IP addresses, and the domain of a DNS finding.
    pub fn remote_endpoints(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self
            .remote_ip_details()
            .into_iter()
            .filter_map(|d| d.ip().map(str::to_owned))
            .collect();
        if let Some(domain) = self
            .service()
            .and_then(|s| s.action.as_ref())
            .and_then(|a| a.dns_request_action.as_ref())
            .and_then(|d| d.domain.clone())
        {
            out.insert(domain);
        }
        out
    }

    /// Who performed the activity: the IAM principal, a remote account or AWS service domain,
    /// the Kubernetes user or the database user.
    pub fn actors(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(resource) = &self.resource {
            if let Some(key) = &resource.access_key_details
                && let Some(who) = key.user_name.as_ref().or(key.principal_id.as_ref())
            {
                out.insert(who.clone());
            }
            if let Some(user) = resource
                .kubernetes_details
                .as_ref()
                .and_then(|k| k.kubernetes_user_details.as_ref())
                .and_then(|u| u.username.clone())
            {
                out.insert(user);
            }
            if let Some(user) = resource
                .rds_db_user_details
                .as_ref()
                .and_then(|u| u.user.clone())
            {
                out.insert(user);
            }
        }
        if let Some(api) = self
            .service()
            .and_then(|s| s.action.as_ref())
            .and_then(|a| a.aws_api_call_action.as_ref())
        {
            if let Some(account) = api
                .remote_account_details
                .as_ref()
                .and_then(|r| r.account_id.clone())
            {
                out.insert(format!("account {account}"));
            }
            if let Some(domain) = api.domain_details.as_ref().and_then(|d| d.domain.clone()) {
                out.insert(domain);
            }
        }
        out
    }

    /// Names of the threat lists that matched, with their threat names.
    pub fn threat_intel(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = self
            .service()
            .and_then(|s| s.evidence.as_ref())
            .map(|e| {
                e.threat_intelligence_details
                    .iter()
                    .map(|d| {
                        (
                            d.threat_list_name
                                .clone()
                                .unwrap_or_else(|| "unnamed".into()),
                            d.threat_names.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Older findings name the list in additionalInfo instead of evidence.
        if let Some(name) = self
            .service()
            .and_then(|s| s.additional_info.as_ref())
            .and_then(|i| i.get("threatListName"))
            .and_then(Value::as_str)
            && !out.iter().any(|(n, _)| n == name)
        {
            out.push((name.to_owned(), Vec::new()));
        }
        out
    }

    /// The domain a DNS finding names (`dnsRequestAction.domain`), spelled as the Resolver
    /// ingest spells query names (lower case, no final dot) so the two can be compared.
    pub fn dns_domain(&self) -> Option<String> {
        let raw = self
            .service()
            .and_then(|s| s.action.as_ref())
            .and_then(|a| a.dns_request_action.as_ref())
            .and_then(|d| d.domain.as_deref())?;
        let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        (!name.is_empty()).then_some(name)
    }

    /// Whether GuardDuty reports the connection, probe or query as blocked.
    pub fn is_blocked(&self) -> bool {
        let Some(action) = self.service().and_then(|s| s.action.as_ref()) else {
            return false;
        };
        action
            .network_connection_action
            .as_ref()
            .is_some_and(|a| a.blocked)
            || action.port_probe_action.as_ref().is_some_and(|a| a.blocked)
            || action
                .dns_request_action
                .as_ref()
                .is_some_and(|a| a.blocked)
    }

    pub fn resource_summary(&self) -> ResourceSummary {
        let unknown = || ResourceSummary {
            kind: "resource".into(),
            id: None,
            name: None,
        };
        let Some(resource) = &self.resource else {
            return unknown();
        };
        let kind = resource
            .resource_type
            .as_ref()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_else(|| "resource".into());
        let (id, name) = if let Some(i) = &resource.instance_details {
            (i.instance_id.clone(), name_tag(&i.tags).map(str::to_owned))
        } else if let Some(k) = &resource.access_key_details {
            (
                k.access_key_id.clone().or_else(|| k.principal_id.clone()),
                k.user_name.clone(),
            )
        } else if let Some(b) = resource.s3_bucket_details.first() {
            (b.name.clone().or_else(|| b.arn.clone()), None)
        } else if let Some(e) = &resource.eks_cluster_details {
            (e.name.clone(), name_tag(&e.tags).map(str::to_owned))
        } else if let Some(e) = &resource.ecs_cluster_details {
            (e.name.clone(), None)
        } else if let Some(r) = &resource.rds_db_instance_details {
            (
                r.db_instance_identifier
                    .clone()
                    .or_else(|| r.db_cluster_identifier.clone()),
                r.engine.clone(),
            )
        } else if let Some(l) = &resource.lambda_details {
            (l.function_name.clone(), None)
        } else if let Some(c) = &resource.container_details {
            (c.name.clone().or_else(|| c.id.clone()), c.image.clone())
        } else {
            (None, None)
        };
        ResourceSummary { kind, id, name }
    }

    pub fn family(&self) -> Family {
        let t = self.finding_type.as_str();
        let has = |needle: &str| t.contains(needle);
        let prefix = |p: &str| t.starts_with(p);
        if prefix("AttackSequence:") {
            Family::AttackSequence
        } else if has("RootCredentialUsage") {
            Family::RootCredential
        } else if has("CredentialExfiltration") {
            Family::CredentialExfiltration
        } else if has("BruteForce") {
            if has("RDS/") {
                Family::Rds
            } else {
                Family::BruteForce
            }
        } else if prefix("Recon:") && (has("PortProbe") || has("Portscan")) {
            Family::PortProbe
        } else if prefix("CryptoCurrency:")
            || has("Cryptomining")
            || has("CryptoMiner")
            || has("BitcoinDomainRequest")
        {
            Family::CryptoMining
        } else if has("DenialOfService") || has("Spambot") || has("PortSweep") {
            Family::OutboundAbuse
        } else if prefix("PenTest:") {
            Family::PenTest
        } else if prefix("Stealth:") || has("LoggingDisabled") {
            Family::Stealth
        } else if has("Tor") {
            Family::Tor
        } else if has("C&CActivity") || prefix("Backdoor:") {
            if has("Lambda/") {
                Family::Lambda
            } else {
                Family::CommandAndControl
            }
        } else if (prefix("Trojan:") || has("DomainRequest")) && !has("Lambda/") {
            Family::CommandAndControl
        } else if has("Kubernetes/") || has("EKS") {
            Family::Kubernetes
        } else if has("RDS/") {
            Family::Rds
        } else if has("MaliciousFile") || has("SuspiciousFile") {
            Family::Malware
        } else if has("Runtime/") {
            Family::Runtime
        } else if prefix("Policy:S3/") {
            Family::S3Exposure
        } else if has("S3/") {
            Family::S3
        } else if has("Lambda/") {
            Family::Lambda
        } else if has("IAMUser/") && has("MaliciousIPCaller") {
            Family::MaliciousCaller
        } else if has("IAMUser/") {
            Family::IamAnomaly
        } else if prefix("Behavior:EC2/")
            || prefix("DefenseEvasion:EC2/")
            || has("MetadataDNSRebind")
            || has("EC2/MaliciousIPCaller")
        {
            Family::NetworkAnomaly
        } else {
            Family::Other
        }
    }
}

fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(v: Value) -> Finding {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn timestamps_in_every_shape_seen_in_real_findings_parse() {
        for raw in [
            "2017-12-08T15:32:49Z",
            "2017-12-08T15:32:49.865Z",
            "2025-02-25 20:40:06.765",
            "2025-02-25 20:40:06.000000000",
        ] {
            assert!(parse_time(raw).is_some(), "{raw}");
        }
        assert!(parse_time("yesterday").is_none());
    }

    /// Regression for the `finding_event` fuzz target (found by review, replayed with it): a
    /// finding first seen at chrono's earliest time made the scope window's `first - look_back`
    /// overflow and panic. Such a time is now unreadable, and the window falls back on
    /// `updatedAt`, then on now, as for any unreadable time.
    #[test]
    fn a_time_at_the_edge_of_the_calendar_is_unreadable_not_a_panic() {
        for raw in [
            "-262143-01-01T00:00:00",
            "-0001-12-31 23:59:59",
            "+262143-12-31T23:59:59.999999999",
            "10000-01-01 00:00:00",
        ] {
            assert!(parse_time(raw).is_none(), "{raw}");
        }
        assert!(parse_time("0000-01-01T00:00:00").is_some());
        let bytes = br#"{"id":"a","type":"Recon:EC2/PortProbeUnprotectedPort","severity":5,"service":{"eventFirstSeen":"-262143-01-01T00:00:00","eventLastSeen":"-262143-01-01T00:00:00"}}"#;
        let event = crate::finding::parse_event_bytes(bytes).unwrap();
        assert_eq!(event.finding.first_seen(), None);
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let window = crate::scope::ScopeWindow::for_finding(
            &event.finding,
            chrono::Duration::hours(24),
            now,
        );
        assert_eq!(window.end, now);
    }

    #[test]
    fn sample_markers_are_recognised_in_all_three_places() {
        let base = json!({"id": "a", "type": "X", "severity": 2});
        let mut titled = base.clone();
        titled["title"] = json!("[SAMPLE] something");
        let mut flagged = base.clone();
        flagged["service"] = json!({"additionalInfo": {"sample": true}});
        let mut nested = base.clone();
        nested["service"] =
            json!({"additionalInfo": {"value": "{\"sample\":true}", "type": "default"}});
        let mut real = base.clone();
        real["service"] = json!({"additionalInfo": {"value": "{\"unusual\":{}}"}});
        assert!(finding(titled).is_sample());
        assert!(finding(flagged).is_sample());
        assert!(finding(nested).is_sample());
        assert!(!finding(real).is_sample());
        assert!(!finding(base).is_sample());
    }

    #[test]
    fn remote_endpoints_and_actors_come_from_every_action_type() {
        let f = finding(json!({"id": "a", "type": "X", "severity": 2,
            "resource": {"accessKeyDetails": {"userName": "alice"}},
            "service": {"action": {
                "awsApiCallAction": {"remoteIpDetails": {"ipAddressV4": "198.51.100.7"},
                    "remoteAccountDetails": {"accountId": "111122223333"}},
                "portProbeAction": {"portProbeDetails": [
                    {"remoteIpDetails": {"ipAddressV4": "203.0.113.9"}},
                    {"remoteIpDetails": {"ipAddressV6": "2001:db8::1"}}]},
                "dnsRequestAction": {"domain": "pool.example.com"}}}}));
        let endpoints: Vec<_> = f.remote_endpoints().into_iter().collect();
        assert_eq!(
            endpoints,
            [
                "198.51.100.7",
                "2001:db8::1",
                "203.0.113.9",
                "pool.example.com"
            ]
        );
        let actors: Vec<_> = f.actors().into_iter().collect();
        assert_eq!(actors, ["account 111122223333", "alice"]);
    }

    #[test]
    fn a_dns_domain_is_spelled_as_the_resolver_logs_spell_names() {
        let dns = |domain: Value| {
            finding(json!({"id": "a", "type": "X", "severity": 2,
                "service": {"action": {"dnsRequestAction": {"domain": domain}}}}))
            .dns_domain()
        };
        assert_eq!(
            dns(json!(" Pool.Example.COM. ")).as_deref(),
            Some("pool.example.com")
        );
        assert_eq!(dns(json!(".")), None);
        assert_eq!(dns(Value::Null), None);
    }

    #[test]
    fn families_follow_the_finding_type() {
        let fam = |t: &str| finding(json!({"id": "a", "type": t, "severity": 2})).family();
        assert_eq!(
            fam("UnauthorizedAccess:EC2/SSHBruteForce"),
            Family::BruteForce
        );
        assert_eq!(fam("Recon:EC2/PortProbeUnprotectedPort"), Family::PortProbe);
        assert_eq!(
            fam("Policy:IAMUser/RootCredentialUsage"),
            Family::RootCredential
        );
        assert_eq!(
            fam("CryptoCurrency:EC2/BitcoinTool.B!DNS"),
            Family::CryptoMining
        );
        assert_eq!(fam("Backdoor:EC2/C&CActivity.B"), Family::CommandAndControl);
        assert_eq!(
            fam("AttackSequence:S3/CompromisedData"),
            Family::AttackSequence
        );
        assert_eq!(
            fam("CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce"),
            Family::Rds
        );
        assert_eq!(fam("Impact:EC2/FutureUnknownThing"), Family::Other);
    }
}
