//! The benign explanations an analyst checks before calling activity an intrusion, each read
//! from the window's calls and each with why it lowers suspicion, and by how much.
//!
//! None of them is proof: user agents are set by the client, and a hijacked console session
//! carries MFA. So each weighs less than a decisive behaviour ([`super::catalogue::DECISIVE`]):
//! a benign reading can turn "likely true positive" into "needs review", never clear an
//! intrusion on its own.

use super::BenignReading;
use super::WindowCalls;
use super::calls::{ToolKind, is_data_read, is_read_only, is_service_caller, tool_of_user_agent};
use super::claims::{Claim, attaches_restrictive_policy, refute};
use crate::activity::{NotableEvent, NotableReason, api_name, is_auth_error};
use crate::classify::Signal;
use std::collections::BTreeSet;

fn reading(signal: Signal, sentence: String, weight: i32) -> Option<BenignReading> {
    Some(BenignReading {
        signal,
        sentence,
        weight,
    })
}

/// Every benign reading the window supports. `caller_ips` are the addresses the finding names
/// (an MFA sign-in from one of them vouches for the calls made from it); `claim` is what an
/// anomaly finding says its flagged call did.
pub fn read_benign(
    w: &WindowCalls,
    caller_ips: &BTreeSet<String>,
    claim: Option<&Claim>,
) -> Vec<BenignReading> {
    // CloudFormation is both: its calls carry `invokedBy` and its name as user agent. One
    // observation, counted once, as infrastructure as code.
    let iac = infrastructure_as_code(w);
    let service = aws_service_acting(w).filter(|_| iac.is_none());
    // A flagged call that only took access away refutes an escalation claim; that it did is
    // the same fact as the containment reading, counted once, as the refutation.
    let refuted = claim.and_then(|c| refute(c, w));
    let restrictive = restrictive_changes(w).filter(|_| refuted.is_none());
    [
        refuted,
        iac,
        service,
        mfa_session(w, caller_ips),
        read_only_window(w),
        audit_tool(w),
        own_teardown(w),
        restrictive,
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn is_change(e: &NotableEvent) -> bool {
    e.reasons.contains(&NotableReason::Mutating)
        || e.reasons.contains(&NotableReason::S3PolicyChange)
}

/// Every change in the window came from an infrastructure-as-code tool (by user agent or an
/// `invokedBy` CloudFormation): planned, reviewed changes applied by a pipeline.
fn infrastructure_as_code(w: &WindowCalls) -> Option<BenignReading> {
    let changes: Vec<&NotableEvent> = w.events.iter().copied().filter(|e| is_change(e)).collect();
    let tools: BTreeSet<&'static str> = changes
        .iter()
        .filter_map(|e| {
            let ua = e.invoked_by.as_deref().or(e.user_agent.as_deref())?;
            tool_of_user_agent(ua).filter(|(_, kind)| *kind == ToolKind::InfrastructureAsCode)
        })
        .map(|(name, _)| name)
        .collect();
    let all_by_tools = changes.iter().all(|e| {
        e.invoked_by
            .as_deref()
            .or(e.user_agent.as_deref())
            .and_then(tool_of_user_agent)
            .is_some_and(|(_, kind)| kind == ToolKind::InfrastructureAsCode)
    });
    (!changes.is_empty() && all_by_tools).then_some(())?;
    let tools: Vec<&str> = tools.into_iter().collect();
    reading(
        Signal::InfrastructureAsCode,
        format!(
            "all {} changes in the window were made by {} (infrastructure as code)",
            changes.len(),
            tools.join(", ")
        ),
        -25,
    )
}

/// An AWS service made the calls on the principal's behalf (`invokedBy`, or a service name
/// where the address would be): the principal configured it, nobody typed them. The changes
/// decide when there are any; a window of reads only is judged on all its calls.
fn aws_service_acting(w: &WindowCalls) -> Option<BenignReading> {
    let service_source = |s: &str| is_service_caller(s);
    let by_service = |e: &NotableEvent| {
        e.invoked_by.as_deref().is_some_and(is_service_caller)
            || e.source_ip.as_deref().is_some_and(service_source)
    };
    let changes: Vec<&NotableEvent> = w.events.iter().copied().filter(|e| is_change(e)).collect();
    let services: BTreeSet<&str> = if changes.is_empty() {
        let all_by_service =
            !w.activity.is_empty() && w.activity.iter().all(|r| service_source(&r.source_ip));
        all_by_service.then_some(())?;
        w.activity.iter().map(|r| r.source_ip.as_str()).collect()
    } else {
        changes.iter().all(|e| by_service(e)).then_some(())?;
        changes
            .iter()
            .filter_map(|e| e.invoked_by.as_deref().or(e.source_ip.as_deref()))
            .collect()
    };
    reading(
        Signal::AwsServiceActing,
        format!(
            "the window's {} made by an AWS service on the principal's behalf ({})",
            if changes.is_empty() {
                "calls were"
            } else {
                "changes were"
            },
            services.into_iter().collect::<Vec<_>>().join(", ")
        ),
        -20,
    )
}

/// The changes were made in MFA-authenticated sessions, or from an address where the principal
/// had just signed in to the console with MFA: stolen access keys carry no MFA, so this is
/// most likely the person who holds the device.
///
/// An Identity Center role's console sign-in always says `MFAUsed: No`: the second factor is
/// checked when the person signs in to the access portal, whose event names the user, not the
/// role. Identity Center names the role session after the user, so a portal sign-in with a
/// second factor vouches for the session of that name, and only for it (an office address is
/// shared by many people).
fn mfa_session(w: &WindowCalls, caller_ips: &BTreeSet<String>) -> Option<BenignReading> {
    let sessions: BTreeSet<&str> = w
        .events
        .iter()
        .filter_map(|e| e.principal_arn.as_deref())
        .filter(|arn| arn.contains(":assumed-role/"))
        .filter_map(|arn| arn.rsplit('/').next())
        .collect();
    let signs_in_this_principal = |e: &NotableEvent| {
        !e.is_identity_center_sign_in()
            || e.user_name.as_deref().is_some_and(|u| sessions.contains(u))
    };
    let mfa_sign_in_from: BTreeSet<&str> = w
        .events
        .iter()
        .filter(|e| e.reasons.contains(&NotableReason::ConsoleSignIn))
        .filter(|e| e.error_code.is_none() && e.mfa == Some(true))
        .filter(|e| signs_in_this_principal(e))
        .filter_map(|e| e.source_ip.as_deref())
        .collect();
    let calls: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| !e.reasons.contains(&NotableReason::ConsoleSignIn))
        .collect();
    let vouched = |e: &NotableEvent| {
        e.mfa == Some(true)
            || e.source_ip
                .as_deref()
                .is_some_and(|ip| mfa_sign_in_from.contains(ip))
    };
    let sign_in_matches_finding = caller_ips
        .iter()
        .any(|ip| mfa_sign_in_from.contains(ip.as_str()));
    let all_vouched = !calls.is_empty() && calls.iter().all(|e| vouched(e));
    (all_vouched || (calls.is_empty() && sign_in_matches_finding)).then_some(())?;
    reading(
        Signal::MfaSession,
        if mfa_sign_in_from.is_empty() {
            format!(
                "all {} notable calls came from MFA-authenticated sessions",
                calls.len()
            )
        } else {
            format!(
                "console sign-in with MFA from {}, the address of the calls",
                mfa_sign_in_from.into_iter().collect::<Vec<_>>().join(", ")
            )
        },
        -20,
    )
}

/// Nothing in the window changed anything, read a secret or was refused: whatever the reason
/// for the finding, the principal only looked.
fn read_only_window(w: &WindowCalls) -> Option<BenignReading> {
    let calls: u64 = w.activity.iter().map(|r| r.count).sum();
    let only_reads = w.activity.iter().all(|r| {
        is_read_only(None, &r.event_name) && !is_data_read(&r.event_source, &r.event_name)
    }) && !w.activity.iter().any(|r| is_auth_error(&r.outcome))
        && w.events.iter().all(|e| {
            is_read_only(e.read_only, &e.event_name)
                && !e.reasons.contains(&NotableReason::SecretRead)
                && !e.reasons.contains(&NotableReason::ConsoleSignIn)
                && !e.error_code.as_deref().is_some_and(is_auth_error)
        });
    (calls > 0 && only_reads).then_some(())?;
    let apis: BTreeSet<String> = w
        .activity
        .iter()
        .map(|r| api_name(Some(r.event_source.as_str()), &r.event_name))
        .collect();
    let shown: Vec<String> = apis.iter().take(3).cloned().collect();
    reading(
        Signal::ReadOnlyWindow,
        format!(
            "all {calls} calls in the window were reads of configuration ({}{}), no data or secret read, none denied",
            shown.join(", "),
            if apis.len() > 3 { ", ..." } else { "" }
        ),
        -15,
    )
}

/// The reads came from a posture or audit scanner, by its documented user agent, and nothing
/// was changed.
fn audit_tool(w: &WindowCalls) -> Option<BenignReading> {
    let tool = w
        .activity
        .iter()
        .filter_map(|r| tool_of_user_agent(&r.user_agent))
        .find(|(_, kind)| *kind == ToolKind::Audit)?;
    w.events.iter().all(|e| !is_change(e)).then_some(())?;
    reading(
        Signal::AuditTool,
        format!("the reads came from {}, a posture/audit scanner", tool.0),
        -10,
    )
}

/// Every change in the window took access away: quarantine or deny-all policies attached,
/// deny-only inline policies, access keys deactivated or deleted, console passwords removed.
/// That is containment, what responders do after a finding; intruders widen access. (Locking
/// defenders out, ATT&CK T1531, also removes access, which is why this weighs little.)
fn restrictive_changes(w: &WindowCalls) -> Option<BenignReading> {
    let changes: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| is_change(e) && e.error_code.is_none())
        .collect();
    let restricts = |e: &NotableEvent| match e.event_name.as_str() {
        "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy" => {
            attaches_restrictive_policy(e)
        }
        "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy" => e.details.denies_only,
        "UpdateAccessKey" => e.targets.iter().any(|t| t == "status=Inactive"),
        "DeleteAccessKey" | "DeleteLoginProfile" => true,
        _ => false,
    };
    (!changes.is_empty() && changes.iter().all(|e| restricts(e))).then_some(())?;
    reading(
        Signal::RestrictiveChanges,
        format!(
            "all {} changes in the window took access away (quarantine or deny policies, keys or passwords removed)",
            changes.len()
        ),
        -15,
    )
}

/// Every deletion removed something the same principal created in the window: a test or a
/// deployment cleaning up after itself.
fn own_teardown(w: &WindowCalls) -> Option<BenignReading> {
    let created: BTreeSet<&String> = w
        .events
        .iter()
        .filter(|e| e.error_code.is_none() && e.event_name.starts_with("Create"))
        .flat_map(|e| e.targets.iter())
        .collect();
    let deletes: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| e.error_code.is_none() && e.event_name.starts_with("Delete"))
        .collect();
    let own = |e: &NotableEvent| e.targets.first().is_some_and(|t| created.contains(t));
    (!deletes.is_empty() && deletes.iter().all(|e| own(e))).then_some(())?;
    reading(
        Signal::OwnTeardown,
        format!(
            "{} deletion(s), each of a resource the same principal created in the window",
            deletes.len()
        ),
        -10,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Signal;
    use serde_json::{Value, json};

    fn event(record: Value) -> NotableEvent {
        NotableEvent::of_json(record)
    }

    fn call(name: &str, user_agent: &str, params: Value) -> Value {
        json!({"eventTime": "2026-01-01T10:00:00Z", "eventSource": "iam.amazonaws.com",
            "eventName": name, "readOnly": false, "userAgent": user_agent,
            "sourceIPAddress": "198.51.100.7", "requestParameters": params,
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/ops",
                "accountId": "1", "userName": "ops"}})
    }

    fn signals(events: &[NotableEvent]) -> Vec<Signal> {
        let refs: Vec<&NotableEvent> = events.iter().collect();
        let w = WindowCalls {
            events: &refs,
            activity: &[],
            account: Some("1"),
        };
        read_benign(&w, &BTreeSet::from(["198.51.100.7".to_owned()]), None)
            .into_iter()
            .map(|r| r.signal)
            .collect()
    }

    const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 terraform-provider-aws/5.17.0";

    #[test]
    fn infrastructure_as_code_needs_every_change_to_come_from_the_tool() {
        let by_tool = [
            event(call("CreateRole", TERRAFORM, json!({"roleName": "app"}))),
            event(call(
                "AttachRolePolicy",
                TERRAFORM,
                json!({"roleName": "app"}),
            )),
        ];
        assert!(signals(&by_tool).contains(&Signal::InfrastructureAsCode));
        let mixed = [
            event(call("CreateRole", TERRAFORM, json!({"roleName": "app"}))),
            event(call(
                "CreateAccessKey",
                "aws-cli/2.15",
                json!({"userName": "x"}),
            )),
        ];
        assert!(!signals(&mixed).contains(&Signal::InfrastructureAsCode));
    }

    #[test]
    fn containment_takes_access_away_and_a_grant_does_not() {
        let quarantine = [event(call(
            "AttachUserPolicy",
            "AWS Internal",
            json!({"userName": "x", "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}),
        ))];
        assert!(signals(&quarantine).contains(&Signal::RestrictiveChanges));
        let admin = [event(call(
            "AttachUserPolicy",
            "AWS Internal",
            json!({"userName": "x", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        ))];
        assert!(!signals(&admin).contains(&Signal::RestrictiveChanges));
        let reactivated = [event(call(
            "UpdateAccessKey",
            "aws-cli/2.15",
            json!({"userName": "x", "accessKeyId": "AKIA1", "status": "Active"}),
        ))];
        assert!(!signals(&reactivated).contains(&Signal::RestrictiveChanges));
    }

    #[test]
    fn an_mfa_console_sign_in_vouches_for_calls_from_its_address_only() {
        let sign_in = event(json!({"eventTime": "2026-01-01T09:58:00Z",
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "eventType": "AwsConsoleSignIn", "sourceIPAddress": "198.51.100.7",
            "additionalEventData": {"MFAUsed": "Yes"},
            "responseElements": {"ConsoleLogin": "Success"},
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/ops", "accountId": "1"}}));
        let same = event(call("CreateUser", "AWS Internal", json!({"userName": "y"})));
        assert!(signals(&[sign_in.clone(), same]).contains(&Signal::MfaSession));
        let mut elsewhere = call("CreateUser", "aws-cli/2.15", json!({"userName": "y"}));
        elsewhere["sourceIPAddress"] = "203.0.113.9".into();
        assert!(!signals(&[sign_in, event(elsewhere)]).contains(&Signal::MfaSession));
    }

    /// The Identity Center records of the scenario of that name (a real sign-in): the portal
    /// sign-in names the user, the role's console sign-in says MFA was not used.
    fn identity_center_sign_in(user: &str, factors: &str) -> [NotableEvent; 2] {
        let portal = event(json!({"eventTime": "2024-06-02T19:41:31Z",
            "eventSource": "signin.amazonaws.com", "eventName": "UserAuthentication",
            "eventType": "AwsServiceEvent", "readOnly": false, "sourceIPAddress": "198.51.100.7",
            "additionalEventData": {"CredentialType": factors},
            "serviceEventDetails": {"UserAuthentication": "Success"},
            "userIdentity": {"type": "Unknown", "principalId": "1", "arn": "", "accountId": "1",
                "accessKeyId": "", "userName": user}}));
        let console = event(json!({"eventTime": "2024-06-02T19:41:40Z",
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "eventType": "AwsConsoleSignIn", "sourceIPAddress": "198.51.100.7",
            "additionalEventData": {"MFAUsed": "No"},
            "responseElements": {"ConsoleLogin": "Success"},
            "userIdentity": {"type": "AssumedRole",
                "arn": "arn:aws:sts::1:assumed-role/AWSReservedSSO_DevAdmin_6354/nicholas",
                "accountId": "1", "sessionContext": {"sessionIssuer": {"type": "Role",
                    "arn": "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DevAdmin_6354"}}}}));
        [portal, console]
    }

    #[test]
    fn an_identity_center_sign_in_with_a_second_factor_vouches_for_its_own_role_session() {
        assert!(
            signals(&identity_center_sign_in("nicholas", "PASSWORD,TOTP"))
                .contains(&Signal::MfaSession)
        );
        assert!(
            !signals(&identity_center_sign_in("nicholas", "PASSWORD"))
                .contains(&Signal::MfaSession),
            "a password alone is no second factor"
        );
        assert!(
            !signals(&identity_center_sign_in(
                "someone.else",
                "PASSWORD,WEBAUTHN"
            ))
            .contains(&Signal::MfaSession),
            "another person's sign-in from the same address vouches for nothing"
        );
    }

    #[test]
    fn teardown_means_deleting_only_what_was_created_in_the_window() {
        let own = [
            event(call(
                "CreateRole",
                "aws-cli/2.15",
                json!({"roleName": "tmp"}),
            )),
            event(call(
                "DeleteRole",
                "aws-cli/2.15",
                json!({"roleName": "tmp"}),
            )),
        ];
        assert!(signals(&own).contains(&Signal::OwnTeardown));
        let other = [
            event(call(
                "CreateRole",
                "aws-cli/2.15",
                json!({"roleName": "tmp"}),
            )),
            event(call(
                "DeleteRole",
                "aws-cli/2.15",
                json!({"roleName": "prod"}),
            )),
        ];
        assert!(!signals(&other).contains(&Signal::OwnTeardown));
    }
}
