//! The catalogue: attacker behaviours recognisable from the window's calls alone.
//!
//! Two kinds of entry:
//! - **telling calls** ([`TELLING_CALLS`]): one call shows the technique (a trail stopped, a
//!   snapshot shared with another account). Denied attempts count: they show intent, and an
//!   intruder's first tries with stolen keys are often refused.
//! - **volume** (the `*_burst` and harvest detectors): each call is routine, many of them across
//!   many resources within the hour is not. Thresholds are set where a person or an application
//!   doing its job stays well below: an application reads its own one or two secrets, an
//!   administrator fetches the password of the one instance they connect to, the console's
//!   pages call a handful of Describe APIs of one service.
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

use super::calls::{is_console_user_agent, is_read_only};
use super::{CallRef, Technique, WindowCalls};
use crate::context::cloudtrail::{
    NotableEvent, NotableReason, PrincipalType, api_name, is_auth_error,
};
use std::collections::{BTreeMap, BTreeSet};

pub const DECISIVE: i32 = 40;
pub const STRONG: i32 = 30;
pub const MODERATE: i32 = 20;

/// At most this many calls are listed per observation: the count says the rest.
const CALLS_SHOWN: usize = 5;

/// A behaviour seen in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub technique: &'static Technique,
    pub weight: i32,
    /// One sentence: what was done, how often, to how many resources.
    pub summary: String,
    /// The calls that show it, oldest first (at most [`CALLS_SHOWN`]).
    pub calls: Vec<CallRef>,
}

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

/// Every technique of the catalogue, for the README's table and tests.
pub const TECHNIQUES: [&Technique; 24] = [
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
];

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
/// window is someone arranging to come back as root.
fn for_another_user(e: &NotableEvent, _: &WindowCalls) -> bool {
    match target(e, "userName") {
        Some(user) => e.user_name.as_deref() != Some(user),
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

fn user_data(e: &NotableEvent, _: &WindowCalls) -> bool {
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

/// GPU, machine-learning and FPGA families, or ten instances or more at once: what mining and
/// model-training abuse launches.
fn hijacking_launch(e: &NotableEvent, _: &WindowCalls) -> bool {
    const ACCELERATED: [&str; 8] = ["p2.", "p3", "p4", "p5", "g4", "g5", "g6", "inf"];
    const ALSO: [&str; 4] = ["trn", "dl1", "f1.", "vt1"];
    let accelerated = e.details.instance_type.as_deref().is_some_and(|t| {
        ACCELERATED
            .iter()
            .chain(ALSO.iter())
            .any(|p| t.starts_with(p))
    });
    accelerated || e.details.instance_count.is_some_and(|n| n >= 10)
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
    TellingCall { source: "iam.amazonaws.com", names: &["CreateRole", "UpdateAssumeRolePolicy"], technique: &OUTSIDE_TRUST, weight: DECISIVE, when: grants_outside },
    TellingCall { source: "iam.amazonaws.com", names: &["AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"], technique: &PRIVILEGED_POLICY, weight: STRONG, when: privileged_policy },
    // A new default policy version can grant anything; its content is not in the aggregates.
    TellingCall { source: "iam.amazonaws.com", names: &["CreatePolicyVersion", "SetDefaultPolicyVersion"], technique: &PRIVILEGED_POLICY, weight: MODERATE, when: always },
    TellingCall { source: "iam.amazonaws.com", names: &["CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile"], technique: &ADDITIONAL_CREDENTIALS, weight: STRONG, when: for_another_user },
    // Trust anchors let certificates from outside AWS obtain role credentials.
    TellingCall { source: "rolesanywhere.amazonaws.com", names: &["CreateTrustAnchor", "UpdateTrustAnchor"], technique: &ADDITIONAL_CREDENTIALS, weight: STRONG, when: always },
    // Federation tokens outlive the deletion of the access key that minted them; people rarely
    // need them, brokers do (so only moderate).
    TellingCall { source: "sts.amazonaws.com", names: &["GetFederationToken"], technique: &ADDITIONAL_CREDENTIALS, weight: MODERATE, when: always },
    TellingCall { source: "iam.amazonaws.com", names: &["CreateUser"], technique: &CREATE_CLOUD_ACCOUNT, weight: MODERATE, when: always },
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

/// The value of a `key=value` target of a notable event.
fn target<'e>(e: &'e NotableEvent, key: &str) -> Option<&'e str> {
    e.targets
        .iter()
        .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
}

fn denied(e: &NotableEvent) -> bool {
    e.error_code.as_deref().is_some_and(is_auth_error)
}

fn call_ref(e: &NotableEvent) -> CallRef {
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

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// Every behaviour the window's calls show, strongest first; one observation per technique
/// signal, however many calls show it.
pub fn observe(w: &WindowCalls) -> Vec<Observation> {
    let mut by_signal: BTreeMap<&'static str, (i32, &'static Technique, Vec<&NotableEvent>)> =
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
                entry.2.push(e);
            }
        }
    }
    let mut out: Vec<Observation> = by_signal
        .into_values()
        .map(|(weight, technique, events)| {
            let fan_out = fan_out(technique, &events);
            let mut o = telling_observation(technique, weight.max(fan_out.0), &events);
            o.summary.push_str(&fan_out.1);
            o
        })
        .collect();
    out.extend(console_password_guessing(w));
    out.extend(secrets_harvest(w));
    out.extend(instance_credentials_harvest(w));
    out.extend(discovery_burst(w));
    out.extend(denied_probing(w));
    out.extend(mass_deletion(w));
    out.sort_by_key(|o| std::cmp::Reverse(o.weight));
    out
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

/// Three failed console sign-ins or more, then one that worked: a password guessed (or
/// sprayed) and found. People mistype once or twice and then get in; the failures alone are
/// noise on an exposed sign-in page and are not counted.
const FAILED_SIGN_INS_AT: usize = 3;

fn console_password_guessing(w: &WindowCalls) -> Option<Observation> {
    let sign_ins: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| {
            e.reasons.contains(&NotableReason::ConsoleSignIn) && e.event_name == "ConsoleLogin"
        })
        .collect();
    let success = sign_ins.iter().find(|e| e.error_code.is_none())?;
    let failures: Vec<&NotableEvent> = sign_ins
        .iter()
        .copied()
        .filter(|e| e.error_code.is_some() && e.time <= success.time)
        .collect();
    (failures.len() >= FAILED_SIGN_INS_AT).then_some(())?;
    let mut calls: Vec<CallRef> = failures
        .iter()
        .take(CALLS_SHOWN - 1)
        .map(|e| call_ref(e))
        .collect();
    calls.push(call_ref(success));
    Some(Observation {
        technique: &PASSWORD_GUESSING,
        weight: STRONG,
        summary: format!(
            "{} failed console sign-ins, then one that worked at {}",
            failures.len(),
            success.time.format("%H:%M:%S")
        ),
        calls,
    })
}

/// Reads of five different secrets or more within the window: an application reads its own one
/// or two, an intruder reads everything its keys can reach. Every name a call reads counts (one
/// `GetParameters` may name ten); a read that names none counts as one more.
const SECRETS_AT: usize = 5;

fn secrets_harvest(w: &WindowCalls) -> Option<Observation> {
    let reads: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| e.reasons.contains(&NotableReason::SecretRead))
        .filter(|e| e.event_name != "GetPasswordData")
        .collect();
    let mut distinct: BTreeSet<String> = BTreeSet::new();
    for (i, e) in reads.iter().enumerate() {
        if e.details.secrets.is_empty() {
            distinct.insert(format!("#{i}"));
        }
        distinct.extend(e.details.secrets.iter().cloned());
    }
    (distinct.len() >= SECRETS_AT).then_some(())?;
    let denied_count = reads.iter().filter(|e| denied(e)).count();
    Some(Observation {
        technique: &SECRETS_HARVEST,
        weight: STRONG,
        summary: format!(
            "{} of {} secrets or decrypted parameters{}",
            plural(reads.len(), "read"),
            distinct.len(),
            if denied_count > 0 {
                format!(" ({denied_count} denied)")
            } else {
                String::new()
            }
        ),
        calls: reads
            .iter()
            .take(CALLS_SHOWN)
            .map(|e| call_ref(e))
            .collect(),
    })
}

/// Windows administrator passwords or instance user data (where bootstrap secrets live) read
/// across several instances: an administrator needs the one instance they connect to.
const INSTANCES_AT: usize = 3;

fn instance_credentials_harvest(w: &WindowCalls) -> Option<Observation> {
    let reads: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| {
            e.event_name == "GetPasswordData"
                || (e.event_name == "DescribeInstanceAttribute" && user_data(e, w))
        })
        .collect();
    let instances: BTreeSet<&str> = reads
        .iter()
        .map(|e| target(e, "instanceId").unwrap_or("?"))
        .collect();
    let many = instances.len() >= INSTANCES_AT || reads.len() >= 2 * INSTANCES_AT;
    many.then_some(())?;
    let denied_count = reads.iter().filter(|e| denied(e)).count();
    Some(Observation {
        technique: &UNSECURED_CREDENTIALS,
        weight: STRONG,
        summary: format!(
            "{} of instance passwords or user data across {} ({denied_count} denied)",
            plural(reads.len(), "read"),
            plural(instances.len(), "instance"),
        ),
        calls: reads
            .iter()
            .take(CALLS_SHOWN)
            .map(|e| call_ref(e))
            .collect(),
    })
}

/// Twenty distinct read APIs across four services or more, outside the console: an
/// application's polling stays within a service or two, and the console's pages (which call
/// dozens of Describe APIs for one person browsing) are left out; enumeration tools walk them
/// all through the SDK or the CLI.
const DISCOVERY_APIS_AT: usize = 20;
const DISCOVERY_SERVICES_AT: usize = 4;

fn discovery_burst(w: &WindowCalls) -> Option<Observation> {
    let tool_reads = || {
        w.activity
            .iter()
            .filter(|r| is_read_only(None, &r.event_name) && !is_console_user_agent(&r.user_agent))
    };
    let reads: BTreeSet<(&str, &str)> = tool_reads()
        .map(|r| (r.event_source.as_str(), r.event_name.as_str()))
        .collect();
    let services: BTreeSet<&str> = reads.iter().map(|(s, _)| *s).collect();
    (reads.len() >= DISCOVERY_APIS_AT && services.len() >= DISCOVERY_SERVICES_AT).then_some(())?;
    let calls: u64 = tool_reads().map(|r| r.count).sum();
    Some(Observation {
        technique: &CLOUD_DISCOVERY,
        weight: MODERATE,
        summary: format!(
            "{} distinct list/describe APIs across {} services ({calls} calls)",
            reads.len(),
            services.len()
        ),
        calls: Vec::new(),
    })
}

/// Ten distinct APIs refused within the window: someone trying what the credentials may do.
/// A person or a tool with a too-narrow policy hits the same one or two walls repeatedly.
const DENIED_APIS_AT: usize = 10;

fn denied_probing(w: &WindowCalls) -> Option<Observation> {
    let refused: BTreeSet<(&str, &str)> = w
        .activity
        .iter()
        .filter(|r| is_auth_error(&r.outcome))
        .map(|r| (r.event_source.as_str(), r.event_name.as_str()))
        .collect();
    (refused.len() >= DENIED_APIS_AT).then_some(())?;
    let calls: u64 = w
        .activity
        .iter()
        .filter(|r| is_auth_error(&r.outcome))
        .map(|r| r.count)
        .sum();
    Some(Observation {
        technique: &PERMISSION_PROBING,
        weight: MODERATE,
        summary: format!("{} distinct APIs denied ({calls} calls)", refused.len()),
        calls: Vec::new(),
    })
}

/// Ten deletions of distinct resources or more: teardown by a pipeline looks like this too,
/// which the infrastructure-as-code and own-resources readings recognise.
const DELETIONS_AT: usize = 10;

fn mass_deletion(w: &WindowCalls) -> Option<Observation> {
    let deletes: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| e.error_code.is_none())
        .filter(|e| e.event_name.starts_with("Delete") || e.event_name.starts_with("Terminate"))
        .collect();
    let distinct: BTreeSet<String> = deletes
        .iter()
        .map(|e| format!("{}{:?}", e.event_name, e.targets.first()))
        .collect();
    (distinct.len() >= DELETIONS_AT).then_some(())?;
    Some(Observation {
        technique: &DATA_DESTRUCTION,
        weight: STRONG,
        summary: format!(
            "{} of distinct resources",
            plural(distinct.len(), "deletion")
        ),
        calls: deletes
            .iter()
            .take(CALLS_SHOWN)
            .map(|e| call_ref(e))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::cloudtrail::{CloudTrailRecord, Record, notable_reasons};
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
        let raw: CloudTrailRecord = serde_json::from_value(r).unwrap();
        let record = Record::new(raw).unwrap();
        NotableEvent::new(&record, notable_reasons(&record))
    }

    fn observed(events: &[NotableEvent]) -> Vec<(&'static str, i32)> {
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
            [("share_outside_account", DECISIVE)]
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
            [("impair_cloud_logs", DECISIVE)]
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
            [("credentials_for_others", STRONG)]
        );
    }

    /// Console sign-ins as CloudTrail records them (the AWS documentation's failure and success
    /// examples, at the times given).
    fn sign_in(time: &str, ok: bool) -> NotableEvent {
        let raw: CloudTrailRecord = serde_json::from_value(json!({"eventTime": time,
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "eventType": "AwsConsoleSignIn", "sourceIPAddress": "203.0.113.9",
            "additionalEventData": {"MFAUsed": "No"},
            "responseElements": {"ConsoleLogin": if ok { "Success" } else { "Failure" }},
            "errorMessage": if ok { Value::Null } else { "Failed authentication".into() },
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ops",
                "accountId": "111122223333", "userName": "ops"}}))
        .unwrap();
        let record = Record::new(raw).unwrap();
        NotableEvent::new(&record, notable_reasons(&record))
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
                .any(|(s, _)| *s == "console_password_guessing")
        );
        let mut then_in = failures.clone();
        then_in.push(sign_in("2026-01-01T10:00:10Z", true));
        assert!(observed(&then_in).contains(&("console_password_guessing", STRONG)));
        let one_typo = vec![failures[0].clone(), sign_in("2026-01-01T10:00:10Z", true)];
        assert!(
            !observed(&one_typo)
                .iter()
                .any(|(s, _)| *s == "console_password_guessing")
        );
    }

    #[test]
    fn root_minting_its_own_access_key_is_persistence() {
        let raw: CloudTrailRecord = serde_json::from_value(json!({
            "eventTime": "2026-01-01T10:00:00Z", "eventSource": "iam.amazonaws.com",
            "eventName": "CreateAccessKey", "readOnly": false, "requestParameters": {},
            "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root",
                "accountId": "111122223333"}}))
        .unwrap();
        let record = Record::new(raw).unwrap();
        let e = NotableEvent::new(&record, notable_reasons(&record));
        assert_eq!(observed(&[e]), [("credentials_for_others", STRONG)]);
    }

    #[test]
    fn one_observation_per_technique_however_many_calls() {
        let trails: Vec<NotableEvent> = ["StopLogging", "DeleteTrail"]
            .iter()
            .map(|n| event("cloudtrail.amazonaws.com", n, json!({"name": "t"}), None))
            .collect();
        let seen = observed(&trails);
        assert_eq!(seen, [("impair_cloud_logs", DECISIVE)]);
    }
}
