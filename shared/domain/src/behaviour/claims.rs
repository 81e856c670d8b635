//! Whether the call GuardDuty flagged can do what the finding's tactic says.
//!
//! An anomaly finding (`DefenseEvasion:IAMUser/AnomalousBehavior` and its kin) names one API and
//! files it under the tactic that API usually serves. The first thing an analyst does is open
//! that call and read its parameters: a `PutBucketLifecycle` that keeps logs two years evades
//! nothing, an inline policy that only denies escalates nothing. When every flagged call in the
//! window is of that kind, the finding's claim is refuted by its own evidence.
//!
//! Only refutations that follow from how the API works are listed, per tactic; a call that
//! removes access refutes escalation and persistence but not impact (locking defenders out is
//! ATT&CK T1531). A refutation weighs as a strong behaviour, below a decisive one: other calls
//! of the window can still show an intrusion, and they are weighed on their own.

use super::BenignReading;
use super::WindowCalls;
use crate::activity::NotableEvent;
use crate::classify::Signal;

/// What an anomaly finding claims: the tactic (the finding type's prefix) and the API it
/// flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim<'a> {
    pub tactic: &'a str,
    pub api: &'a str,
}

/// The weight of a refuted claim: that of a strong behaviour (see [`super::catalogue::STRONG`]).
const REFUTED: i32 = -30;

/// A lifecycle rule keeping objects at least this long shortens nothing an investigation of this
/// finding needs: it is as long as CloudTrail's own event history keeps management events.
const LOG_RETENTION_DAYS: u64 = 90;

/// AWS managed policies that only take access away: what responders attach to contain a
/// principal (`AWSCompromisedKeyQuarantine`, `...V2`, `...V3`, `AWSDenyAll`).
const RESTRICTIVE_POLICIES: [&str; 2] = ["policy/AWSCompromisedKeyQuarantine", "policy/AWSDenyAll"];

/// `Attach{User,Role,Group}Policy` of one of the [`RESTRICTIVE_POLICIES`].
pub(super) fn attaches_restrictive_policy(e: &NotableEvent) -> bool {
    matches!(
        e.event_name.as_str(),
        "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy"
    ) && e
        .targets
        .iter()
        .any(|t| t.starts_with("policyArn=") && RESTRICTIVE_POLICIES.iter().any(|p| t.contains(p)))
}

/// Why a flagged call cannot serve the tactic, if it cannot.
fn cannot_serve(tactic: &str, e: &NotableEvent) -> Option<&'static str> {
    let source = e.event_source.as_deref().unwrap_or_default();
    match tactic {
        "DefenseEvasion" | "Stealth" => match (source, e.event_name.as_str()) {
            ("guardduty.amazonaws.com", "CreateThreatIntelSet" | "UpdateThreatIntelSet") => {
                Some("a threat list can only make GuardDuty raise more findings")
            }
            ("cloudtrail.amazonaws.com", "StartLogging") => Some("it turns logging on"),
            ("s3.amazonaws.com", "PutBucketLifecycle" | "PutBucketLifecycleConfiguration") => e
                .details
                .expiry_days
                .is_some_and(|d| d >= LOG_RETENTION_DAYS)
                .then_some(
                    "its rules keep objects at least 90 days, as long as CloudTrail's event history",
                ),
            _ => None,
        },
        "PrivilegeEscalation" | "Persistence" => match e.event_name.as_str() {
            "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy" => e
                .details
                .denies_only
                .then_some("the policy only denies, and escalation needs an allow"),
            "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy" => {
                attaches_restrictive_policy(e)
                    .then_some("the policy only takes access away (an AWS quarantine or deny-all policy)")
            }
            _ => None,
        },
        _ => None,
    }
}

/// The claim refuted, when the window holds the flagged calls and none of them can serve the
/// finding's tactic.
pub fn refute(claim: &Claim, w: &WindowCalls) -> Option<BenignReading> {
    let flagged: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| e.event_name == claim.api)
        .collect();
    let reasons: Vec<&'static str> = flagged
        .iter()
        .map(|e| cannot_serve(claim.tactic, e))
        .collect::<Option<_>>()?;
    let reason = reasons.first()?;
    Some(BenignReading {
        signal: Signal::ClaimRefuted,
        sentence: format!(
            "the flagged {} ({}) cannot serve {}: {reason}",
            claim.api,
            match flagged.len() {
                1 => "1 call".to_owned(),
                n => format!("{n} calls"),
            },
            claim.tactic
        ),
        weight: REFUTED,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn event(record: Value) -> NotableEvent {
        NotableEvent::of_json(record)
    }

    fn call(source: &str, name: &str, params: Value) -> NotableEvent {
        event(
            json!({"eventTime": "2026-01-01T10:00:00Z", "eventSource": source,
            "eventName": name, "readOnly": false, "userAgent": "console.amazonaws.com",
            "sourceIPAddress": "198.51.100.7", "requestParameters": params,
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/ops",
                "accountId": "1", "userName": "ops"}}),
        )
    }

    fn refuted(tactic: &str, api: &str, events: &[NotableEvent]) -> bool {
        let refs: Vec<&NotableEvent> = events.iter().collect();
        let w = WindowCalls {
            events: &refs,
            activity: &[],
            account: Some("1"),
        };
        refute(&Claim { tactic, api }, &w).is_some()
    }

    fn lifecycle(days: u64) -> NotableEvent {
        call(
            "s3.amazonaws.com",
            "PutBucketLifecycle",
            json!({"bucketName": "trail-logs", "LifecycleConfiguration": {"Rule": {
                "Expiration": {"Days": days}, "Status": "Enabled"}}}),
        )
    }

    #[test]
    fn a_long_retention_refutes_evasion_and_a_short_one_does_not() {
        assert!(refuted(
            "DefenseEvasion",
            "PutBucketLifecycle",
            &[lifecycle(730)]
        ));
        assert!(!refuted(
            "DefenseEvasion",
            "PutBucketLifecycle",
            &[lifecycle(1)]
        ));
        // Every flagged call must be harmless.
        assert!(!refuted(
            "DefenseEvasion",
            "PutBucketLifecycle",
            &[lifecycle(730), lifecycle(1)]
        ));
    }

    #[test]
    fn a_threat_list_refutes_evasion_and_a_trusted_ip_list_does_not() {
        let threat = call(
            "guardduty.amazonaws.com",
            "CreateThreatIntelSet",
            json!({"name": "Example", "format": "TXT", "activate": false}),
        );
        assert!(refuted("DefenseEvasion", "CreateThreatIntelSet", &[threat]));
        let trusted = call(
            "guardduty.amazonaws.com",
            "CreateIPSet",
            json!({"name": "Example", "format": "TXT", "activate": true}),
        );
        assert!(!refuted("DefenseEvasion", "CreateIPSet", &[trusted]));
    }

    #[test]
    fn taking_access_away_refutes_escalation_but_not_impact() {
        let deny_all = call(
            "iam.amazonaws.com",
            "PutUserPolicy",
            json!({"userName": "x", "policyName": "DenyAll", "policyDocument":
                r#"{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}"#}),
        );
        assert!(refuted(
            "PrivilegeEscalation",
            "PutUserPolicy",
            std::slice::from_ref(&deny_all)
        ));
        assert!(!refuted("Impact", "PutUserPolicy", &[deny_all]));
        let quarantine = call(
            "iam.amazonaws.com",
            "AttachUserPolicy",
            json!({"userName": "x",
                "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}),
        );
        assert!(refuted("Persistence", "AttachUserPolicy", &[quarantine]));
        let admin = call(
            "iam.amazonaws.com",
            "AttachUserPolicy",
            json!({"userName": "x", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        );
        assert!(!refuted(
            "PrivilegeEscalation",
            "AttachUserPolicy",
            &[admin]
        ));
    }

    #[test]
    fn a_claim_whose_call_is_not_in_the_window_stands() {
        assert!(!refuted("DefenseEvasion", "PutBucketLifecycle", &[]));
    }
}
