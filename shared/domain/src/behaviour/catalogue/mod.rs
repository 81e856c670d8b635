//! The catalogue: attacker behaviours recognisable from the window's calls alone.
//!
//! Two kinds of entry:
//! - **telling calls** (`telling`): one call shows the technique (a trail stopped, a
//!   snapshot shared with another account). Denied attempts count: they show intent, and an
//!   intruder's first tries with stolen keys are often refused.
//! - **volume** (`volume`): each call is routine, many of them across many resources within
//!   the window is not. Thresholds are set where a person or an application doing its job stays
//!   well below: an application reads its own one or two secrets, an administrator fetches the
//!   password of the one instance they connect to.
//!
//! Weights come in three classes, each with its reason:
//! - [`DECISIVE`] (40): the action's only common legitimate purpose is a planned change
//!   (audit logs stopped, data shared with another account, a role trusting another account,
//!   leaving the organisation). With no benign reading it decides the verdict alone, even
//!   against a Low severity (-10).
//! - [`STRONG`] (30): routine for administrators in small doses, but the standard persistence,
//!   privilege and credential-access steps of an intrusion (credentials minted for another
//!   user, an admin policy attached, a harvest of secrets).
//! - [`MODERATE`] (20): legitimate operations work as often as attacks (remote commands, direct
//!   VM connections, a discovery burst): they raise a Medium finding to the threshold only
//!   with something else.
//!
//! A few entries weigh less, each saying why.
//!
//! References: the Stratus Red Team AWS technique catalogue, the ATT&CK cloud matrix (IaaS),
//! and the AWS API reference of each call.

mod techniques;
mod telling;
mod volume;

pub use techniques::*;
pub use volume::DENIED_APIS_AT;

use super::{CallRef, Technique, WindowCalls};
use crate::activity::{NotableEvent, api_name, is_auth_error};

pub const DECISIVE: i32 = 40;
pub const STRONG: i32 = 30;
pub const MODERATE: i32 = 20;

/// At most this many calls are listed per observation: the count says the rest.
pub(super) const CALLS_SHOWN: usize = 5;

/// How many instances make a sweep rather than an administrator's errand: one person connects
/// to the instance they work on, so secrets (Windows passwords, user data) or sessions reached
/// on several instances at once are a harvest or a fan-out.
pub(super) const INSTANCES_AT: usize = 3;

/// A behaviour seen in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub technique: &'static Technique,
    pub weight: i32,
    /// One sentence: what was done, how often, to how many resources.
    pub summary: String,
    /// The calls that show it, oldest first (at most `CALLS_SHOWN`).
    pub calls: Vec<CallRef>,
}

/// The value of a `key=value` target of a notable event.
pub(super) fn target<'e>(e: &'e NotableEvent, key: &str) -> Option<&'e str> {
    e.targets
        .iter()
        .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
}

pub(super) fn denied(e: &NotableEvent) -> bool {
    e.error_code.as_deref().is_some_and(is_auth_error)
}

pub(super) fn call_ref(e: &NotableEvent) -> CallRef {
    let target = e
        .details
        .granted_to
        .first()
        .map(|g| format!("to {g}"))
        .or_else(|| e.details.instance_type.clone())
        .or_else(|| e.targets.first().cloned());
    CallRef {
        time: e.time,
        api: api_name(e.event_source.as_deref(), &e.event_name),
        target,
        denied: denied(e),
    }
}

pub(super) fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// Every behaviour the window's calls show, strongest first; one observation per technique
/// signal, however many calls show it.
pub fn observe(w: &WindowCalls) -> Vec<Observation> {
    let mut out = telling::observe_telling(w);
    out.extend(volume::console_password_guessing(w));
    out.extend(volume::secrets_harvest(w));
    out.extend(volume::instance_credentials_harvest(w));
    out.extend(volume::discovery_burst(w));
    out.extend(volume::denied_probing(w));
    out.extend(volume::region_sweep(w));
    out.extend(volume::mass_deletion(w));
    out.sort_by_key(|o| std::cmp::Reverse(o.weight));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Signal;
    use crate::enrich::ActivityRow;
    use serde_json::{Value, json};

    fn event(source: &str, name: &str, params: Value, error: Option<&str>) -> NotableEvent {
        let mut r = json!({"eventTime": "2026-01-01T10:00:00Z", "eventSource": source,
            "eventName": name, "readOnly": false, "requestParameters": params,
            "sourceIPAddress": "198.51.100.7",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ops",
                "accountId": "111122223333", "userName": "ops"}});
        if let Some(code) = error {
            r["errorCode"] = code.into();
        }
        NotableEvent::of_json(r)
    }

    fn observed(events: &[NotableEvent]) -> Vec<(Signal, i32)> {
        let refs: Vec<&NotableEvent> = events.iter().collect();
        observe(&WindowCalls {
            events: &refs,
            activity: &[],
            account: Some("111122223333"),
        })
        .into_iter()
        .map(|o| (o.technique.signal, o.weight))
        .collect()
    }

    #[test]
    fn sharing_leaves_the_account_only_when_another_account_or_anyone_gains_access() {
        let share = |who: &str| {
            event(
                "ec2.amazonaws.com",
                "ModifySnapshotAttribute",
                json!({"createVolumePermission": {"add": {"items": [{"userId": who}]}}}),
                None,
            )
        };
        assert_eq!(
            observed(&[share("444455556666")]),
            [(Signal::ShareOutsideAccount, DECISIVE)]
        );
        assert!(observed(&[share("111122223333")]).is_empty());
    }

    #[test]
    fn refusals_count_as_attempts_and_other_failures_as_nothing() {
        let stop = |error| {
            event(
                "cloudtrail.amazonaws.com",
                "StopLogging",
                json!({"name": "t"}),
                error,
            )
        };
        assert_eq!(
            observed(&[stop(Some("AccessDenied"))]),
            [(Signal::ImpairCloudLogs, DECISIVE)]
        );
        assert!(observed(&[stop(Some("TrailNotFoundException"))]).is_empty());
    }

    #[test]
    fn credentials_for_oneself_are_rotation_not_persistence() {
        let key = |user: &str| {
            event(
                "iam.amazonaws.com",
                "CreateAccessKey",
                json!({"userName": user}),
                None,
            )
        };
        assert!(observed(&[key("ops")]).is_empty());
        assert_eq!(
            observed(&[key("backdoor")]),
            [(Signal::CredentialsForOthers, STRONG)]
        );
    }

    /// Console sign-ins as CloudTrail records them (the AWS documentation's failure and success
    /// examples, at the times given).
    fn sign_in(time: &str, ok: bool) -> NotableEvent {
        NotableEvent::of_json(json!({"eventTime": time,
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "eventType": "AwsConsoleSignIn", "sourceIPAddress": "203.0.113.9",
            "additionalEventData": {"MFAUsed": "No"},
            "responseElements": {"ConsoleLogin": if ok { "Success" } else { "Failure" }},
            "errorMessage": if ok { Value::Null } else { "Failed authentication".into() },
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ops",
                "accountId": "111122223333", "userName": "ops"}}))
    }

    #[test]
    fn failed_sign_ins_count_only_when_one_then_works() {
        let failures: Vec<NotableEvent> = ["10:00:01", "10:00:04", "10:00:07"]
            .iter()
            .map(|t| sign_in(&format!("2026-01-01T{t}Z"), false))
            .collect();
        assert!(
            !observed(&failures)
                .iter()
                .any(|(s, _)| *s == Signal::ConsolePasswordGuessing)
        );
        let mut then_in = failures.clone();
        then_in.push(sign_in("2026-01-01T10:00:10Z", true));
        assert!(observed(&then_in).contains(&(Signal::ConsolePasswordGuessing, STRONG)));
        let one_typo = vec![failures[0].clone(), sign_in("2026-01-01T10:00:10Z", true)];
        assert!(
            !observed(&one_typo)
                .iter()
                .any(|(s, _)| *s == Signal::ConsolePasswordGuessing)
        );
    }

    #[test]
    fn root_minting_its_own_access_key_is_persistence() {
        let e = NotableEvent::of_json(json!({
            "eventTime": "2026-01-01T10:00:00Z", "eventSource": "iam.amazonaws.com",
            "eventName": "CreateAccessKey", "readOnly": false, "requestParameters": {},
            "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root",
                "accountId": "111122223333"}}));
        assert_eq!(observed(&[e]), [(Signal::CredentialsForOthers, STRONG)]);
    }

    fn signals(events: &[NotableEvent]) -> Vec<Signal> {
        observed(events).into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn the_generalising_entries_fire_on_their_calls_and_not_on_their_routine_cousins() {
        let iam = |name: &str, params: Value| event("iam.amazonaws.com", name, params, None);
        assert!(
            signals(&[iam("GetAccountAuthorizationDetails", json!({}))])
                .contains(&Signal::IamConfigurationDump)
        );
        assert!(
            signals(&[iam("CreateLoginProfile", json!({"userName": "ops"}))])
                .contains(&Signal::CredentialsForOthers)
        );
        assert!(signals(&[iam("CreateAccessKey", json!({"userName": "ops"}))]).is_empty());
        let sign_in_token = event("signin.amazonaws.com", "GetSigninToken", json!({}), None);
        assert!(signals(&[sign_in_token]).contains(&Signal::ConsoleFromAccessKeys));
        let launch = |kind: &str| {
            event(
                "ec2.amazonaws.com",
                "RunInstances",
                json!({"instanceType": kind, "instancesSet": {"items": [{"maxCount": 1}]}}),
                None,
            )
        };
        assert!(signals(&[launch("c5.24xlarge")]).contains(&Signal::ResourceHijacking));
        assert!(signals(&[launch("m5.metal")]).contains(&Signal::ResourceHijacking));
        assert!(signals(&[launch("t3.micro")]).is_empty());
        let unblock = event(
            "s3.amazonaws.com",
            "DeleteBucketPublicAccessBlock",
            json!({"bucketName": "b"}),
            None,
        );
        assert_eq!(
            observed(&[unblock]),
            [(Signal::ShareOutsideAccount, MODERATE)]
        );
    }

    fn activity(region: &str, user_agent: &str) -> ActivityRow {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        ActivityRow {
            subject: "CT#arn#x".into(),
            event_source: "ec2.amazonaws.com".into(),
            event_name: "DescribeInstances".into(),
            outcome: "success".into(),
            source_ip: "198.51.100.7".into(),
            region: region.into(),
            count: 1,
            first: t,
            last: t,
            user_agent: user_agent.into(),
            live: false,
        }
    }

    #[test]
    fn calls_in_five_regions_outside_the_console_are_a_sweep() {
        let regions = [
            "us-east-1",
            "us-west-2",
            "eu-west-1",
            "ap-south-1",
            "sa-east-1",
        ];
        let sweep = |ua: &str| -> Vec<Signal> {
            let rows: Vec<ActivityRow> = regions.iter().map(|r| activity(r, ua)).collect();
            let refs: Vec<&ActivityRow> = rows.iter().collect();
            observe(&WindowCalls {
                events: &[],
                activity: &refs,
                account: None,
            })
            .into_iter()
            .map(|o| o.technique.signal)
            .collect()
        };
        assert_eq!(sweep("aws-cli/2.15"), [Signal::RegionSweep]);
        assert!(sweep("console.ec2.amazonaws.com").is_empty());
    }

    #[test]
    fn policies_are_read_for_what_they_allow_not_for_their_names() {
        let allow_all = r#"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#;
        let scoped =
            r#"{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
        let federation = |policy: &str| {
            event(
                "sts.amazonaws.com",
                "GetFederationToken",
                json!({"name": "broker", "policy": policy}),
                None,
            )
        };
        // One call, one observation, at the weight of its strongest reading.
        assert_eq!(
            observed(&[federation(allow_all)]),
            [(Signal::CredentialsForOthers, STRONG)]
        );
        assert_eq!(
            observed(&[federation(scoped)]),
            [(Signal::CredentialsForOthers, MODERATE)]
        );
        let inline = event(
            "iam.amazonaws.com",
            "PutUserPolicy",
            json!({"userName": "ops", "policyName": "ops-tools", "policyDocument": allow_all}),
            None,
        );
        assert_eq!(
            observed(&[inline]),
            [(Signal::PrivilegedPolicyAttached, STRONG)]
        );
        let expiry = |days: u64| {
            event(
                "s3.amazonaws.com",
                "PutBucketLifecycle",
                json!({"bucketName": "logs", "LifecycleConfiguration": {"Rule": {
                    "Expiration": {"Days": days}, "Status": "Enabled"}}}),
                None,
            )
        };
        assert_eq!(
            observed(&[expiry(1)]),
            [(Signal::ImpairCloudLogs, MODERATE)]
        );
        assert!(observed(&[expiry(365)]).is_empty());
    }

    #[test]
    fn one_observation_per_technique_however_many_calls() {
        let trails: Vec<NotableEvent> = ["StopLogging", "DeleteTrail"]
            .iter()
            .map(|n| event("cloudtrail.amazonaws.com", n, json!({"name": "t"}), None))
            .collect();
        let seen = observed(&trails);
        assert_eq!(seen, [(Signal::ImpairCloudLogs, DECISIVE)]);
    }
}
