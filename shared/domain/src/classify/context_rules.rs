//! Rules that use the core context (CloudTrail activity, baselines, VPC Flow Logs), each
//! documented with why it points the way it does; every other log source's rules are in its own
//! module (`crate::dns`, `crate::kube`). They only fire when the context has the rows they need: missing
//! context is neutral, never evidence.

use super::Evidence;
use crate::activity::{network, parse_ip};
use crate::classify::Signal;
use crate::enrich::ContextSummary;
use crate::finding::{Family, Finding};
use crate::text::field;

pub type ContextRule = fn(&Finding, &ContextSummary) -> Option<Evidence>;

pub const ALL: &[ContextRule] = &[
    brute_force_outcome,
    probe_all_rejected,
    data_sent_to_remote,
    remote_ip_history,
    new_user_agent,
    failures_then_successes,
    sensitive_calls_from_new_network,
    quiet_known_principal,
    familiar_changes,
];

/// A few words for the subject line, for the signals that change what GuardDuty alone says
/// (a Low brute force that got in, a High finding whose principal behaved as usual): the
/// on-call reads them on a lock screen before opening the notice.
pub fn subject_phrase(signal: Signal) -> Option<&'static str> {
    Some(match signal {
        Signal::AcceptedAfterBruteForce => "accepted sessions",
        Signal::BruteForceAllRejected | Signal::ProbeAllRejected => "all flows rejected",
        Signal::DataSentToRemote => "data sent out",
        Signal::SensitiveCallsFromNewNetwork => "sensitive calls, new network",
        Signal::FailuresThenSuccesses => "denied then allowed",
        Signal::NewIpForPrincipal => "new IP for principal",
        Signal::UsualBehaviour => "usual behaviour",
        Signal::ImpairCloudLogs => "logging impaired",
        Signal::ImpairSecurityTools => "detection disabled",
        Signal::LeaveOrganization => "left organization",
        Signal::ShareOutsideAccount => "shared outside account",
        Signal::TrustOutsideAccount => "role trusts outsider",
        Signal::PrivilegedPolicyAttached => "admin policy attached",
        Signal::CredentialsForOthers => "credentials minted",
        Signal::CloudAccountCreated => "user created",
        Signal::FunctionOpenedOutside => "function opened",
        Signal::FunctionCodeChanged => "function code changed",
        Signal::UserDataChanged => "user data changed",
        Signal::OpenCloudFirewall => "port opened to world",
        Signal::RemoteCommand => "remote commands",
        Signal::DirectVmConnection => "VM connections",
        Signal::SecretsHarvest => "secrets harvested",
        Signal::InstanceCredentialsHarvest => "passwords harvested",
        Signal::DiscoveryBurst => "discovery burst",
        Signal::DeniedProbing => "denied probing",
        Signal::ResourceHijacking => "GPU/bulk launches",
        Signal::ModelAccessHijacking => "model access enabled",
        Signal::MassDeletion => "mass deletion",
        Signal::KeysDisabled => "keys disabled",
        Signal::InfrastructureAsCode => "infrastructure as code",
        Signal::AwsServiceActing => "AWS service acting",
        Signal::MfaSession => "MFA session",
        Signal::ReadOnlyWindow => "read-only",
        Signal::FamiliarChanges => "familiar changes",
        Signal::ClaimRefuted => "flagged call harmless",
        _ => return None,
    })
}

/// One piece of evidence per behaviour of the catalogue seen in the window, and per benign
/// reading of it (their weights and reasons are documented in [`crate::behaviour`]).
///
/// A window of reads only clears a finding that claims a change (persistence, privilege
/// escalation, defence evasion, impact, exfiltration). Discovery, reconnaissance, credential
/// access, credentials used from elsewhere or root use are claims about reading or about who
/// called: that the principal only read confirms or leaves them (an intruder's first hour with
/// stolen keys, or with root, is all reads), so that reading is left out for them.
pub fn behaviour_evidence<'a>(
    f: &Finding,
    c: &'a ContextSummary,
) -> impl Iterator<Item = Evidence> + 'a {
    const CLAIMS_A_CHANGE: [&str; 6] = [
        "Persistence:",
        "PrivilegeEscalation:",
        "DefenseEvasion:",
        "Impact:",
        "Exfiltration:",
        "Stealth:",
    ];
    let claims_reading = !CLAIMS_A_CHANGE
        .iter()
        .any(|p| f.finding_type.starts_with(p));
    let observed = c.behaviours.iter().map(|o| Evidence {
        signal: o.technique.signal,
        sentence: format!(
            "{} {} ({}): {}",
            o.technique.id, o.technique.name, o.technique.tactic, o.summary
        ),
        weight: o.weight,
    });
    let benign = c
        .benign
        .iter()
        .filter(move |b| !(claims_reading && b.signal == Signal::ReadOnlyWindow))
        .map(|b| Evidence {
            signal: b.signal,
            sentence: b.sentence.clone(),
            weight: b.weight,
        });
    observed.chain(benign)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// A rule's evidence, as rules return it.
pub(crate) fn ev(signal: Signal, sentence: String, weight: i32) -> Option<Evidence> {
    Some(Evidence {
        signal,
        sentence,
        weight,
    })
}

/// A brute force is noise until a login works: accepted sessions carrying data from the
/// attacking IP are the difference between an exposed port and a breach, so this outweighs a
/// Low severity on its own. All of its flows
/// rejected means the attempts never reached the service.
fn brute_force_outcome(f: &Finding, c: &ContextSummary) -> Option<Evidence> {
    if f.family() != Family::BruteForce || c.remotes.is_empty() {
        return None;
    }
    if let Some(r) = c
        .remotes
        .iter()
        .filter(|r| r.accepted_flows > 0 && r.accepted_bytes >= 10_000)
        .max_by_key(|r| r.accepted_bytes)
    {
        let ports: Vec<String> = r.service_ports.iter().map(ToString::to_string).collect();
        return ev(
            Signal::AcceptedAfterBruteForce,
            format!(
                "{} accepted flows ({}) with {} on port {} despite {} rejected",
                r.accepted_flows,
                mb(r.accepted_bytes),
                field(&r.ip, 60),
                ports.join(", "),
                r.rejected_flows
            ),
            50,
        );
    }
    if c.remotes.iter().all(|r| r.accepted_flows == 0) {
        let rejected: u64 = c.remotes.iter().map(|r| r.rejected_flows).sum();
        return ev(
            Signal::BruteForceAllRejected,
            format!("all {rejected} flows from the attacking IP(s) were rejected"),
            -15,
        );
    }
    None
}

/// A probe that only ever met rejections found nothing open to the prober.
fn probe_all_rejected(f: &Finding, c: &ContextSummary) -> Option<Evidence> {
    if f.family() != Family::PortProbe || c.remotes.is_empty() {
        return None;
    }
    c.remotes
        .iter()
        .all(|r| r.accepted_flows == 0)
        .then_some(())?;
    let rejected: u64 = c.remotes.iter().map(|r| r.rejected_flows).sum();
    ev(
        Signal::ProbeAllRejected,
        format!("all {rejected} flows from the probing IP(s) were rejected"),
        -20,
    )
}

/// Data sent to a C&C, mining pool or Tor peer is what turns a contact into an exfiltration
/// or a working implant.
fn data_sent_to_remote(f: &Finding, c: &ContextSummary) -> Option<Evidence> {
    if !matches!(
        f.family(),
        Family::CommandAndControl | Family::Lambda | Family::Tor | Family::CryptoMining
    ) {
        return None;
    }
    let r = c
        .remotes
        .iter()
        .filter(|r| r.sent_bytes >= 1_000_000)
        .max_by_key(|r| r.sent_bytes)?;
    ev(
        Signal::DataSentToRemote,
        format!(
            "{} sent to {} in accepted flows",
            mb(r.sent_bytes),
            field(&r.ip, 60)
        ),
        20,
    )
}

/// A principal calling from an address it has used for weeks is most likely its owner; one it
/// never used before, with history to compare against, is what stolen credentials look like.
/// A new address inside a network the principal already uses is how dynamic addresses look,
/// so it weighs less than a new address in a new network. When sensitive calls came from that
/// new network, [`sensitive_calls_from_new_network`] already counts the address: one
/// observation is one piece of evidence.
fn remote_ip_history(_: &Finding, c: &ContextSummary) -> Option<Evidence> {
    let days = c.history_days.filter(|_| c.history_sufficient)?;
    if let Some(ip) = c.new_ips.first() {
        let known_network = c.new_networks.is_empty();
        let counted_as_network = c.sensitive_from_new_networks.iter().any(|n| {
            parse_ip(ip)
                .map(network)
                .is_some_and(|net| net == n.network)
        });
        if counted_as_network {
            return None;
        }
        return ev(
            Signal::NewIpForPrincipal,
            format!(
                "{} never used by this principal in {days} days of history{}",
                field(ip, 60),
                if known_network {
                    " (but its network was)"
                } else {
                    ", nor its network"
                }
            ),
            if known_network { 5 } else { 15 },
        );
    }
    let (ip, used) = c.known_ips.iter().max_by_key(|(_, d)| *d)?;
    (*used >= 7).then_some(())?;
    ev(
        Signal::KnownIpForPrincipal,
        format!(
            "{} used by this principal since {used} days before the finding",
            field(ip, 60)
        ),
        -15,
    )
}

fn new_user_agent(_: &Finding, c: &ContextSummary) -> Option<Evidence> {
    let days = c.history_days.filter(|_| c.history_sufficient)?;
    let ua = c.new_user_agents.first()?;
    ev(
        Signal::NewUserAgent,
        format!(
            "user agent {:?} new for this principal ({days} days of history)",
            field(ua, 80)
        ),
        10,
    )
}

/// Denied calls followed by successful ones from the same address is how an intruder probes
/// what stolen credentials can do. Only refusals count: NotFound and conflicts are noise.
fn failures_then_successes(_: &Finding, c: &ContextSummary) -> Option<Evidence> {
    let ip = c.failures_then_success.as_ref()?;
    ev(
        Signal::FailuresThenSuccesses,
        format!(
            "denied calls then successful ones from {} ({} of {} calls denied)",
            field(ip, 60),
            c.api_denied,
            c.api_calls
        ),
        20,
    )
}

/// Identity, audit-trail, key or configuration changes made from a network the principal had
/// never used are the step after stolen credentials work: persistence or defence evasion.
/// Calls from its usual networks are what administrators do every day, and weigh nothing.
fn sensitive_calls_from_new_network(_: &Finding, c: &ContextSummary) -> Option<Evidence> {
    let days = c.history_days.filter(|_| c.history_sufficient)?;
    let worst = c
        .sensitive_from_new_networks
        .iter()
        .max_by_key(|n| n.count)?;
    let calls: Vec<String> = worst.calls.iter().take(4).map(|a| field(a, 60)).collect();
    ev(
        Signal::SensitiveCallsFromNewNetwork,
        format!(
            "{} sensitive call{} ({}) from {}, a network this principal never used in {days} days",
            worst.count,
            if worst.count == 1 { "" } else { "s" },
            calls.join(", "),
            field(&worst.network, 60)
        ),
        25,
    )
}

/// A principal that, in the window, only used known addresses, made no denied and no
/// sensitive call, behaved as usual.
fn quiet_known_principal(_: &Finding, c: &ContextSummary) -> Option<Evidence> {
    (c.history_sufficient
        && c.new_ips.is_empty()
        && !c.known_ips.is_empty()
        && c.new_user_agents.is_empty()
        && c.api_calls > 0
        && c.api_denied == 0
        && c.sensitive_calls == 0
        && c.behaviours.is_empty())
    .then_some(())?;
    ev(
        Signal::UsualBehaviour,
        format!(
            "{} calls in the window, none denied or sensitive, from known addresses and user agents",
            c.api_calls
        ),
        -20,
    )
}

/// Changes made with APIs the principal has used before (from networks it used before, which
/// `known_ip_for_principal` counts), with enough history to say so: the owner's habits. An
/// intruder with stolen keys rarely repeats the owner's calls.
fn familiar_changes(_: &Finding, c: &ContextSummary) -> Option<Evidence> {
    (c.history_sufficient
        && c.sensitive_calls > 0
        && c.new_apis.is_empty()
        && c.new_ips.is_empty()
        && c.new_networks.is_empty()
        && c.sensitive_from_new_networks.is_empty()
        && c.api_denied == 0)
        .then_some(())?;
    let days = c.history_days?;
    ev(
        Signal::FamiliarChanges,
        format!(
            "{} sensitive call(s) in the window, all with APIs this principal used in the {days} days before",
            c.sensitive_calls
        ),
        -15,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Signal;
    use crate::enrich::{RemoteTraffic, ServicePort};
    use crate::traffic::ServiceSide;
    use serde_json::json;

    fn finding(t: &str) -> Finding {
        serde_json::from_value(json!({"id": "a", "type": t, "severity": 2})).unwrap()
    }

    fn remote(accepted: u64, bytes: u64, rejected: u64) -> RemoteTraffic {
        RemoteTraffic {
            ip: "198.51.100.23".into(),
            accepted_flows: accepted,
            rejected_flows: rejected,
            accepted_bytes: bytes,
            sent_bytes: bytes / 2,
            service_ports: [ServicePort {
                port: 22,
                side: ServiceSide::Local,
            }]
            .into(),
        }
    }

    #[test]
    fn brute_force_with_accepted_data_is_strong_evidence_and_all_rejected_is_reassuring() {
        let f = finding("UnauthorizedAccess:EC2/SSHBruteForce");
        let breached = ContextSummary {
            remotes: vec![remote(3, 18_200_000, 409)],
            ..Default::default()
        };
        let e = brute_force_outcome(&f, &breached).unwrap();
        assert_eq!((e.signal, e.weight), (Signal::AcceptedAfterBruteForce, 50));
        assert!(
            e.sentence
                .contains("3 accepted flows (18.2 MB) with 198.51.100.23 on port 22")
        );
        let blocked = ContextSummary {
            remotes: vec![remote(0, 0, 409)],
            ..Default::default()
        };
        assert_eq!(brute_force_outcome(&f, &blocked).unwrap().weight, -15);
        assert!(
            brute_force_outcome(&f, &ContextSummary::default()).is_none(),
            "no context, no evidence"
        );
    }

    #[test]
    fn history_rules_need_history() {
        let f = finding("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS");
        let no_history = ContextSummary {
            new_ips: vec!["1.2.3.4".into()],
            ..Default::default()
        };
        assert!(remote_ip_history(&f, &no_history).is_none());
        let new = ContextSummary {
            new_ips: vec!["1.2.3.4".into()],
            new_networks: vec!["1.2.3.0/24".into()],
            history_days: Some(30),
            history_sufficient: true,
            ..Default::default()
        };
        assert_eq!(remote_ip_history(&f, &new).unwrap().weight, 15);
        let same_network = ContextSummary {
            new_networks: vec![],
            ..new.clone()
        };
        assert_eq!(remote_ip_history(&f, &same_network).unwrap().weight, 5);
        let known = ContextSummary {
            known_ips: vec![("203.0.113.7".into(), 14)],
            history_days: Some(30),
            history_sufficient: true,
            api_calls: 6,
            ..Default::default()
        };
        assert_eq!(remote_ip_history(&f, &known).unwrap().weight, -15);
        assert_eq!(quiet_known_principal(&f, &known).unwrap().weight, -20);
    }

    #[test]
    fn probes_that_met_only_rejections_lean_benign() {
        let f = finding("Recon:EC2/PortProbeUnprotectedPort");
        let c = ContextSummary {
            remotes: vec![remote(0, 0, 12)],
            ..Default::default()
        };
        assert_eq!(probe_all_rejected(&f, &c).unwrap().weight, -20);
    }
}
