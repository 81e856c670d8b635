//! Telling calls: one call shows the technique (a trail stopped, a snapshot shared with another
//! account), when its parameters say so. Denied attempts count: they show intent, and an
//! intruder's first tries with stolen keys are often refused.

use super::techniques::*;
use super::{
    CALLS_SHOWN, DECISIVE, INSTANCES_AT, MODERATE, Observation, STRONG, call_ref, denied, plural,
    target,
};
use crate::activity::{NotableEvent, PrincipalType, api_name};
use crate::behaviour::{Technique, WindowCalls};
use crate::classify::Signal;
use std::collections::{BTreeMap, BTreeSet};

/// A call that shows a technique on its own, when `when` holds.
struct TellingCall {
    source: &'static str,
    /// Exact names, or prefixes ending in `*` (Lambda's versioned names).
    names: &'static [&'static str],
    technique: &'static Technique,
    weight: i32,
    when: fn(&NotableEvent, &WindowCalls) -> bool,
}

fn always(_: &NotableEvent, _: &WindowCalls) -> bool {
    true
}

/// Succeeded or was refused: the call was made on purpose either way.
fn narrowed(e: &NotableEvent, _: &WindowCalls) -> bool {
    e.details.logging_narrowed
}

/// A grant to anyone, or to an account other than the caller's own.
fn grants_outside(e: &NotableEvent, w: &WindowCalls) -> bool {
    let own = e.account_id.as_deref().or(w.account);
    e.details
        .granted_to
        .iter()
        .any(|g| g == "*" || own.is_none_or(|own| !g.contains(own)))
}

/// A policy allowing every action on every resource, whatever it is called: inline, a new
/// default version of a managed policy, or the session policy of a federation token.
fn allows_everything(e: &NotableEvent, _: &WindowCalls) -> bool {
    e.details.allows_everything
}

/// Objects expire within a week. On a log bucket (Stratus Red Team's CloudTrail lifecycle
/// technique sets one day) that erases the record of an intrusion before anyone reads it; no
/// log retention is that short, but scratch buckets expire as fast, so the call alone is only
/// moderate.
fn expires_within_a_week(e: &NotableEvent, _: &WindowCalls) -> bool {
    e.details.expiry_days.is_some_and(|d| d <= 7)
}

/// Administrative managed policies: full control of the account or of IAM (which is the same
/// thing one call later).
fn privileged_policy(e: &NotableEvent, _: &WindowCalls) -> bool {
    const PRIVILEGED: [&str; 4] = [
        "policy/AdministratorAccess",
        "policy/IAMFullAccess",
        "policy/PowerUserAccess",
        "policy/AWSOrganizationsFullAccess",
    ];
    target(e, "policyArn").is_some_and(|arn| PRIVILEGED.iter().any(|p| arn.ends_with(p)))
}

/// Credentials made for someone else: an access key or password of another user. A user
/// rotating their own key is routine.
/// Root's own access keys count too: AWS advises never to create them, so one made in the
/// window is someone arranging to come back as root. So does a console password a user creates
/// for itself: people get theirs from an administrator; keys giving themselves a console is how
/// an intruder holding only an access key moves to the console.
fn for_another_user(e: &NotableEvent, _: &WindowCalls) -> bool {
    match target(e, "userName") {
        Some(user) => e.user_name.as_deref() != Some(user) || e.event_name == "CreateLoginProfile",
        None => e.principal_type == PrincipalType::Root && e.event_name == "CreateAccessKey",
    }
}

/// Layers from another account run code the account's owners never reviewed.
fn foreign_layers(e: &NotableEvent, w: &WindowCalls) -> bool {
    let own = e.account_id.as_deref().or(w.account);
    e.details
        .layers
        .iter()
        .any(|l| own.is_none_or(|own| !l.contains(own)))
}

pub(super) fn user_data(e: &NotableEvent, _: &WindowCalls) -> bool {
    e.details.attribute.as_deref() == Some("userData")
}

/// Administrative ports (SSH, RDP, databases) or every port, open to the whole internet.
fn admin_port_to_world(e: &NotableEvent, _: &WindowCalls) -> bool {
    const ADMIN_PORTS: [i64; 8] = [22, 3389, 3306, 5432, 1433, 6379, 9200, 27017];
    e.details.granted_to.iter().any(|g| {
        let Some((_, ports)) = g.rsplit_once(':') else {
            return false;
        };
        let (from, to) = ports.split_once('-').unwrap_or((ports, ports));
        let (from, to) = (from.parse().unwrap_or(-1), to.parse().unwrap_or(-1));
        from < 0 || ADMIN_PORTS.iter().any(|p| (from..=to).contains(p))
    })
}

/// GPU, machine-learning and FPGA families, the largest sizes of any family (16xlarge and up,
/// metal), or ten instances or more at once: what mining and model-training abuse launches.
fn hijacking_launch(e: &NotableEvent, _: &WindowCalls) -> bool {
    const ACCELERATED: [&str; 8] = ["p2.", "p3", "p4", "p5", "g4", "g5", "g6", "inf"];
    const ALSO: [&str; 4] = ["trn", "dl1", "f1.", "vt1"];
    const LARGEST: [&str; 6] = [
        ".16xlarge",
        ".18xlarge",
        ".24xlarge",
        ".32xlarge",
        ".48xlarge",
        ".metal",
    ];
    let kind = e.details.instance_type.as_deref().unwrap_or_default();
    let accelerated = ACCELERATED
        .iter()
        .chain(ALSO.iter())
        .any(|p| kind.starts_with(p));
    let largest = LARGEST.iter().any(|s| kind.ends_with(s));
    accelerated || largest || e.details.instance_count.is_some_and(|n| n >= 10)
}

/// A console sign-in that worked without MFA, by an IAM user or root. Federated and Identity
/// Center sign-ins always record `MFAUsed: No`: their MFA happens at the identity provider.
fn signed_in_without_mfa(e: &NotableEvent, _: &WindowCalls) -> bool {
    e.error_code.is_none()
        && e.mfa == Some(false)
        && matches!(
            e.principal_type,
            PrincipalType::IamUser | PrincipalType::Root
        )
}

#[rustfmt::skip]
const TELLING_CALLS: &[TellingCall] = &[
    TellingCall { source: "cloudtrail.amazonaws.com", names: &["StopLogging", "DeleteTrail"], technique: &IMPAIR_CLOUD_LOGS, weight: DECISIVE, when: always },
    TellingCall { source: "cloudtrail.amazonaws.com", names: &["PutEventSelectors"], technique: &IMPAIR_CLOUD_LOGS, weight: DECISIVE, when: narrowed },
    TellingCall { source: "ec2.amazonaws.com", names: &["DeleteFlowLogs"], technique: &IMPAIR_CLOUD_LOGS, weight: DECISIVE, when: always },
    TellingCall { source: "route53resolver.amazonaws.com", names: &["DeleteResolverQueryLogConfig", "DisassociateResolverQueryLogConfig"], technique: &IMPAIR_CLOUD_LOGS, weight: DECISIVE, when: always },
    // The record of every prompt and answer: what an investigation of model abuse rests on.
    TellingCall { source: "bedrock.amazonaws.com", names: &["DeleteModelInvocationLoggingConfiguration"], technique: &IMPAIR_CLOUD_LOGS, weight: DECISIVE, when: always },
    TellingCall { source: "s3.amazonaws.com", names: &["PutBucketLifecycle", "PutBucketLifecycleConfiguration"], technique: &IMPAIR_CLOUD_LOGS, weight: MODERATE, when: expires_within_a_week },
    TellingCall { source: "config.amazonaws.com", names: &["StopConfigurationRecorder", "DeleteConfigurationRecorder", "DeleteDeliveryChannel"], technique: &IMPAIR_CLOUD_LOGS, weight: DECISIVE, when: always },
    // Log groups are torn down with the stacks that own them: a deletion alone weighs less.
    TellingCall { source: "logs.amazonaws.com", names: &["DeleteLogGroup", "DeleteLogStream"], technique: &IMPAIR_CLOUD_LOGS, weight: MODERATE, when: always },
    TellingCall { source: "guardduty.amazonaws.com", names: &["DeleteDetector", "DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount", "DeleteMembers", "StopMonitoringMembers", "CreateIPSet", "UpdateIPSet"], technique: &IMPAIR_SECURITY_TOOLS, weight: DECISIVE, when: always },
    TellingCall { source: "securityhub.amazonaws.com", names: &["DisableSecurityHub", "BatchDisableStandards"], technique: &IMPAIR_SECURITY_TOOLS, weight: DECISIVE, when: always },
    TellingCall { source: "access-analyzer.amazonaws.com", names: &["DeleteAnalyzer"], technique: &IMPAIR_SECURITY_TOOLS, weight: DECISIVE, when: always },
    // Guardrails filter prompt attacks and sensitive data in model use; they are also retired
    // with the applications that used them, so a deletion alone is moderate.
    TellingCall { source: "bedrock.amazonaws.com", names: &["DeleteGuardrail"], technique: &IMPAIR_SECURITY_TOOLS, weight: MODERATE, when: always },
    TellingCall { source: "organizations.amazonaws.com", names: &["LeaveOrganization"], technique: &LEAVE_ORGANIZATION, weight: DECISIVE, when: always },
    TellingCall { source: "ec2.amazonaws.com", names: &["ModifySnapshotAttribute", "ModifyImageAttribute"], technique: &TRANSFER_TO_CLOUD_ACCOUNT, weight: DECISIVE, when: grants_outside },
    TellingCall { source: "rds.amazonaws.com", names: &["ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"], technique: &TRANSFER_TO_CLOUD_ACCOUNT, weight: DECISIVE, when: grants_outside },
    TellingCall { source: "s3.amazonaws.com", names: &["PutBucketPolicy"], technique: &TRANSFER_TO_CLOUD_ACCOUNT, weight: DECISIVE, when: grants_outside },
    // Removing a public access block is the step before a bucket or the account is opened; it
    // is also done on purpose for websites, so moderate.
    TellingCall { source: "s3.amazonaws.com", names: &["DeleteBucketPublicAccessBlock", "DeleteAccountPublicAccessBlock"], technique: &TRANSFER_TO_CLOUD_ACCOUNT, weight: MODERATE, when: always },
    TellingCall { source: "iam.amazonaws.com", names: &["CreateRole", "UpdateAssumeRolePolicy"], technique: &OUTSIDE_TRUST, weight: DECISIVE, when: grants_outside },
    TellingCall { source: "iam.amazonaws.com", names: &["AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"], technique: &PRIVILEGED_POLICY, weight: STRONG, when: privileged_policy },
    // A new default policy version can grant anything; its content is not in the aggregates.
    TellingCall { source: "iam.amazonaws.com", names: &["CreatePolicyVersion", "SetDefaultPolicyVersion"], technique: &PRIVILEGED_POLICY, weight: MODERATE, when: always },
    // Administrator by content: an inline policy or a new policy version allowing everything.
    TellingCall { source: "iam.amazonaws.com", names: &["PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "CreatePolicyVersion"], technique: &PRIVILEGED_POLICY, weight: STRONG, when: allows_everything },
    TellingCall { source: "iam.amazonaws.com", names: &["CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile"], technique: &ADDITIONAL_CREDENTIALS, weight: STRONG, when: for_another_user },
    // Trust anchors let certificates from outside AWS obtain role credentials.
    TellingCall { source: "rolesanywhere.amazonaws.com", names: &["CreateTrustAnchor", "UpdateTrustAnchor"], technique: &ADDITIONAL_CREDENTIALS, weight: STRONG, when: always },
    // Federation tokens outlive the deletion of the access key that minted them;
    // people rarely need them, brokers do (so only moderate). A broker scopes the session
    // policy to what its users need; one allowing everything keeps all of the key's power.
    TellingCall { source: "sts.amazonaws.com", names: &["GetFederationToken"], technique: &ADDITIONAL_CREDENTIALS, weight: MODERATE, when: always },
    TellingCall { source: "sts.amazonaws.com", names: &["GetFederationToken"], technique: &ADDITIONAL_CREDENTIALS, weight: STRONG, when: allows_everything },
    TellingCall { source: "iam.amazonaws.com", names: &["CreateUser"], technique: &CREATE_CLOUD_ACCOUNT, weight: MODERATE, when: always },
    // The whole IAM configuration in one call: users, roles, groups and every policy. Posture
    // tools call it too, so moderate.
    TellingCall { source: "iam.amazonaws.com", names: &["GetAccountAuthorizationDetails"], technique: &ACCOUNT_DISCOVERY, weight: MODERATE, when: always },
    // A console session minted from access keys (the federation endpoint): how an intruder with
    // keys gets a console; credential brokers use it too, so moderate.
    TellingCall { source: "signin.amazonaws.com", names: &["GetSigninToken"], technique: &ALTERNATE_AUTHENTICATION, weight: MODERATE, when: always },
    TellingCall { source: "lambda.amazonaws.com", names: &["AddPermission*"], technique: &FUNCTION_OPENED, weight: STRONG, when: grants_outside },
    TellingCall { source: "lambda.amazonaws.com", names: &["UpdateFunctionConfiguration*", "CreateFunction*"], technique: &SERVERLESS_CODE, weight: STRONG, when: foreign_layers },
    TellingCall { source: "lambda.amazonaws.com", names: &["UpdateFunctionCode*"], technique: &SERVERLESS_CODE, weight: MODERATE, when: always },
    TellingCall { source: "ec2.amazonaws.com", names: &["ModifyInstanceAttribute"], technique: &USER_DATA_CHANGED, weight: STRONG, when: user_data },
    TellingCall { source: "ec2.amazonaws.com", names: &["AuthorizeSecurityGroupIngress"], technique: &OPEN_CLOUD_FIREWALL, weight: MODERATE, when: admin_port_to_world },
    TellingCall { source: "ssm.amazonaws.com", names: &["SendCommand", "StartSession"], technique: &CLOUD_ADMIN_COMMAND, weight: MODERATE, when: always },
    TellingCall { source: "ec2-instance-connect.amazonaws.com", names: &["SendSSHPublicKey", "SendSerialConsoleSSHPublicKey"], technique: &DIRECT_VM_CONNECTION, weight: MODERATE, when: always },
    TellingCall { source: "ec2.amazonaws.com", names: &["EnableSerialConsoleAccess"], technique: &DIRECT_VM_CONNECTION, weight: MODERATE, when: always },
    TellingCall { source: "ec2.amazonaws.com", names: &["RunInstances"], technique: &RESOURCE_HIJACKING, weight: STRONG, when: hijacking_launch },
    // Enabling model access is a one-off account setup; done by a principal then invoking
    // models is how stolen keys are resold for LLM use.
    TellingCall { source: "bedrock.amazonaws.com", names: &["PutFoundationModelEntitlement", "CreateFoundationModelAgreement", "PutUseCaseForModelAccess"], technique: &SERVICE_HIJACKING, weight: MODERATE, when: always },
    TellingCall { source: "kms.amazonaws.com", names: &["ScheduleKeyDeletion", "DisableKey"], technique: &KEY_DESTRUCTION, weight: MODERATE, when: always },
    // Weak: many people still sign in without MFA; it matters beside what follows.
    TellingCall { source: "signin.amazonaws.com", names: &["ConsoleLogin"], technique: &CONSOLE_WITHOUT_MFA, weight: 10, when: signed_in_without_mfa },
];

fn name_matches(patterns: &[&str], name: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => *p == name,
    })
}

/// One observation per technique shown by telling calls, however many calls show it.
pub(super) fn observe_telling(w: &WindowCalls) -> Vec<Observation> {
    let mut by_signal: BTreeMap<Signal, (i32, &'static Technique, Vec<&NotableEvent>)> =
        BTreeMap::new();
    for e in w.events.iter().copied() {
        // A call that failed for any reason other than a refusal did nothing and showed no
        // intent we can read (a typo, a missing resource).
        if e.error_code.is_some() && !denied(e) {
            continue;
        }
        let source = e.event_source.as_deref().unwrap_or_default();
        for pattern in TELLING_CALLS {
            if pattern.source == source
                && name_matches(pattern.names, &e.event_name)
                && (pattern.when)(e, w)
            {
                let entry = by_signal.entry(pattern.technique.signal).or_insert((
                    pattern.weight,
                    pattern.technique,
                    Vec::new(),
                ));
                entry.0 = entry.0.max(pattern.weight);
                // A call may match two entries of one technique (plain, and by its content).
                if !entry.2.iter().any(|seen| std::ptr::eq(*seen, e)) {
                    entry.2.push(e);
                }
            }
        }
    }
    by_signal
        .into_values()
        .map(|(weight, technique, events)| {
            let fan_out = fan_out(technique, &events);
            let mut o = telling_observation(technique, weight.max(fan_out.0), &events);
            o.summary.push_str(&fan_out.1);
            o
        })
        .collect()
}

/// Interactive sessions (Session Manager, Instance Connect, serial console) opened on several
/// instances within the window: a person works in the one shell in front of them; three or
/// more in minutes is someone fanning out (the threshold of password harvesting,
/// [`INSTANCES_AT`]). `SendCommand` is left out: Run Command exists to reach fleets at once.
fn fan_out(technique: &Technique, events: &[&NotableEvent]) -> (i32, String) {
    if *technique != CLOUD_ADMIN_COMMAND && *technique != DIRECT_VM_CONNECTION {
        return (0, String::new());
    }
    let instances: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.event_name != "SendCommand")
        .flat_map(|e| e.targets.iter())
        .filter_map(|t| t.strip_prefix("instanceId="))
        .collect();
    if instances.len() >= INSTANCES_AT {
        (STRONG, format!(" on {} instances", instances.len()))
    } else {
        (0, String::new())
    }
}

fn telling_observation(
    technique: &'static Technique,
    weight: i32,
    events: &[&NotableEvent],
) -> Observation {
    let denied_count = events.iter().filter(|e| denied(e)).count();
    let mut apis: Vec<String> = events
        .iter()
        .map(|e| api_name(e.event_source.as_deref(), &e.event_name))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    apis.truncate(4);
    let outcome = match denied_count {
        0 => String::new(),
        n if n == events.len() => ", all denied (attempted)".into(),
        n => format!(", {n} denied"),
    };
    Observation {
        technique,
        weight,
        summary: format!(
            "{} ({}){outcome}",
            apis.join(", "),
            plural(events.len(), "call")
        ),
        calls: events
            .iter()
            .take(CALLS_SHOWN)
            .map(|e| call_ref(e))
            .collect(),
    }
}
