//! Notable events: the calls kept in full detail next to the aggregates.
//!
//! Aggregates answer "how much, from where, when"; an analyst also needs the exact calls that
//! change security posture or show an attacker at work, which a count hides. Keeping every call
//! would make storage grow with records, so only some are kept: the rule is on
//! [`notable_reasons`].

use super::call_details::CallDetails;
use super::identity::PrincipalType;
use super::limits::{self, ERROR_MESSAGE_MAX, NAME_MAX, TARGETS_MAX, USER_AGENT_MAX};
use super::net;
use super::observation::api_name;
use super::principal::issuer_arn;
use super::record::{EventType, Record};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a record is kept in detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NotableReason {
    Mutating,
    Error,
    ConsoleSignIn,
    SensitiveService,
    S3PolicyChange,
    Insight,
    /// A read of a secret value: Secrets Manager, decrypted SSM parameters, Windows passwords.
    SecretRead,
}

impl NotableReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mutating => "mutating",
            Self::Error => "error",
            Self::ConsoleSignIn => "console sign-in",
            Self::SensitiveService => "sensitive service",
            Self::S3PolicyChange => "S3 policy change",
            Self::Insight => "insight",
            Self::SecretRead => "secret read",
        }
    }
}

/// Services any call to which is notable (see module docs for the two exceptions).
pub const SENSITIVE_SERVICES: [&str; 6] = [
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "guardduty.amazonaws.com",
    "kms.amazonaws.com",
    "organizations.amazonaws.com",
];

/// KMS operations that use a key rather than change one; AWS services call them constantly.
pub const KMS_CRYPTO_OPERATIONS: [&str; 12] = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
];

/// S3 calls that change who may read or write a bucket or its objects.
pub const S3_POLICY_CHANGES: [&str; 14] = [
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketAcl",
    "PutObjectAcl",
    "PutBucketPublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
    "PutAccountPublicAccessBlock",
    "DeleteAccountPublicAccessBlock",
    "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls",
    "PutAccessPointPolicy",
    "DeleteAccessPointPolicy",
    "PutAccessPointPublicAccessBlock",
    "PutMultiRegionAccessPointPolicy",
];

/// API name prefixes read as read-only when a record lacks `readOnly`. Mirrors how CloudTrail
/// itself flags these calls (it marks `AssumeRole*` and KMS crypto operations read-only too).
pub const READ_PREFIXES: [&str; 20] = [
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Scan",
    "Query",
    "Select",
    "BatchGet",
    "Check",
    "Validate",
    "Verify",
    "Test",
    "Simulate",
    "Preview",
    "Estimate",
    "Assume",
    "Decrypt",
    "GenerateDataKey",
];

/// Calls that return a secret's value (ATT&CK T1555.006, T1552): what an intruder harvests
/// first. SSM `GetParameter*` counts only with decryption (see [`CallDetails::with_decryption`]).
pub const SECRET_READS: [(&str, &str); 6] = [
    ("secretsmanager.amazonaws.com", "GetSecretValue"),
    ("secretsmanager.amazonaws.com", "BatchGetSecretValue"),
    ("ec2.amazonaws.com", "GetPasswordData"),
    ("ssm.amazonaws.com", "GetParameter"),
    ("ssm.amazonaws.com", "GetParameters"),
    ("ssm.amazonaws.com", "GetParametersByPath"),
];

/// Error codes that mean the caller was refused (as opposed to a missing object or a throttle).
const AUTH_ERROR_MARKERS: [&str; 8] = [
    "AccessDenied",
    "Unauthorized",
    "Forbidden",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "AuthFailure",
];

/// Request parameters that name what a call acted on, reported as targets of a notable event.
const TARGET_PARAMETERS: [&str; 24] = [
    "bucketName",
    "name",
    "trailName",
    "userName",
    "roleName",
    "groupName",
    "policyArn",
    "policyName",
    "roleArn",
    "roleSessionName",
    "keyId",
    "detectorId",
    "functionName",
    "secretId",
    "snapshotId",
    "imageId",
    "groupId",
    "instanceId",
    "dBSnapshotIdentifier",
    "accountId",
    "targetId",
    "serialNumber",
    "stackName",
    "status",
];

/// Every reason `record` is notable; empty when it is not. The rule (every reason that applies
/// is recorded):
///
/// - **Mutating**: a management event (not an Insights event) with `readOnly: false`. When
///   `readOnly` is absent (records before 2017, hand-written samples) the API name decides: names
///   starting with a read verb (`Get`, `List`, `Describe`, ... see [`READ_PREFIXES`]) are reads,
///   anything else mutates. Data events (S3 object writes, Lambda invocations) are never notable
///   for mutating: they are the bulk of the volume and are counted in the aggregates.
/// - **Error**: an error code on a management event, or an authorization error (`AccessDenied`,
///   `Unauthorized`, `Forbidden`, bad or expired credentials) on a data event. A data event's
///   `NoSuchKey` is an application polling, not a signal.
/// - **ConsoleSignIn**: a console sign-in event (`ConsoleLogin`, `CheckMfa`, `SwitchRole`, ...),
///   success or failure, or an IAM Identity Center user's completed sign-in
///   (`UserAuthentication`).
/// - **SensitiveService**: any call to IAM, STS, CloudTrail, GuardDuty, KMS or Organizations,
///   read or write, success or failure (`sts:GetCallerIdentity` is the first call made with
///   stolen keys). Two exceptions, both high-volume machine traffic that stays in the
///   aggregates: KMS cryptographic operations (`Decrypt`, `GenerateDataKey`, ... see
///   [`KMS_CRYPTO_OPERATIONS`]), and calls made by an AWS service itself (`AWSService`
///   identities, e.g. `ec2.amazonaws.com` assuming an instance-profile role every hour); they
///   are still notable when another reason applies (an error).
/// - **S3PolicyChange**: a change to an S3 bucket or access point policy, ACL, public access
///   block or ownership controls (see [`S3_POLICY_CHANGES`]), including object ACLs, which are
///   data events.
/// - **Insight**: a CloudTrail Insights event (unusual API call or error rate).
/// - **SecretRead**: a call returning a secret's value ([`SECRET_READS`]), success or not: a
///   burst of them is credential harvesting, which the hourly counts cannot tell from one
///   application reading its own secret. Applications that cache their secrets read them a few
///   times an hour, so this adds little volume.
pub fn notable_reasons(record: &Record) -> Vec<NotableReason> {
    let mut reasons = Vec::new();
    let raw = record.raw();
    let name = record.event_name();
    let source = record.event_source().unwrap_or_default();
    let data_event = record.is_data_event();

    if !data_event && !record.is_insight() && is_mutating(raw.read_only, name) {
        reasons.push(NotableReason::Mutating);
    }
    if let Some(code) = record.error_code()
        && (!data_event || is_auth_error(code))
    {
        reasons.push(NotableReason::Error);
    }
    if record.is_console_sign_in() {
        reasons.push(NotableReason::ConsoleSignIn);
    }
    if SENSITIVE_SERVICES.contains(&source)
        && record.principal_type() != PrincipalType::AwsService
        && !(source == "kms.amazonaws.com" && KMS_CRYPTO_OPERATIONS.contains(&name))
    {
        reasons.push(NotableReason::SensitiveService);
    }
    if source == "s3.amazonaws.com" && S3_POLICY_CHANGES.contains(&name) {
        reasons.push(NotableReason::S3PolicyChange);
    }
    if record.is_insight() {
        reasons.push(NotableReason::Insight);
    }
    if is_secret_read(record) {
        reasons.push(NotableReason::SecretRead);
    }
    reasons
}

fn is_mutating(read_only: Option<bool>, name: &str) -> bool {
    match read_only {
        Some(read_only) => !read_only,
        None => !READ_PREFIXES.iter().any(|p| name.starts_with(p)),
    }
}

fn is_secret_read(record: &Record) -> bool {
    let source = record.event_source().unwrap_or_default();
    let name = record.event_name();
    if !SECRET_READS.contains(&(source, name)) {
        return false;
    }
    source != "ssm.amazonaws.com"
        || CallDetails::of(source, name, record.raw().request_parameters.as_ref()).with_decryption
}

/// Whether an error code means the caller was refused: denied, unauthorised or bad
/// credentials, as opposed to a missing resource, a conflict or a throttle.
pub fn is_auth_error(code: &str) -> bool {
    AUTH_ERROR_MARKERS.iter().any(|m| code.contains(m))
}

/// A notable call, compact: what triage shows and reasons about, not the raw record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotableEvent {
    pub time: DateTime<Utc>,
    pub reasons: Vec<NotableReason>,
    pub event_id: Option<String>,
    pub event_source: Option<String>,
    pub event_name: String,
    pub event_type: Option<EventType>,
    /// The error code (`Failure` for a failed console sign-in); `None` on success.
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub read_only: Option<bool>,
    pub principal_type: PrincipalType,
    pub principal_arn: Option<String>,
    /// The role behind an assumed-role session.
    pub issuer_arn: Option<String>,
    pub access_key_id: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
    pub invoked_by: Option<String>,
    /// Canonical address, or the AWS service name CloudTrail put there.
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub region: Option<String>,
    /// MFA at sign-in (console) or on the session (API calls).
    pub mfa: Option<bool>,
    /// For an Insights event: `Start` or `End`, and the insight type.
    pub insight: Option<String>,
    /// What the call acted on: resource ARNs and `parameter=value` for the request parameters
    /// that name a resource (bucket, trail, role, user, key, ...). At most [`TARGETS_MAX`].
    pub targets: Vec<String>,
    /// What the call granted, launched or changed (absent in items written before it existed).
    #[serde(default, skip_serializing_if = "CallDetails::is_empty")]
    pub details: CallDetails,
}

impl NotableEvent {
    /// The notable event the ingest keeps for one CloudTrail record given as JSON: how unit tests
    /// of the rules that read notable events build their input.
    #[cfg(test)]
    pub fn of_json(record: serde_json::Value) -> Self {
        let raw: super::record::CloudTrailRecord =
            serde_json::from_value(record).expect("a record");
        let record = Record::new(raw).expect("a well-formed record");
        Self::new(&record, notable_reasons(&record))
    }

    /// `service:Api`, as activity rows and baselines spell the call ([`api_name`]).
    pub fn api(&self) -> String {
        api_name(self.event_source.as_deref(), &self.event_name)
    }

    /// A person signing in to the AWS access portal (IAM Identity Center): no IAM identity yet,
    /// only the user name, until they open a permission set's role.
    pub fn is_identity_center_sign_in(&self) -> bool {
        self.principal_arn.is_none()
            && self.event_name == "UserAuthentication"
            && self.event_source.as_deref() == Some("signin.amazonaws.com")
    }

    /// The detail of `record`, kept for `reasons` (from [`notable_reasons`]).
    pub fn new(record: &Record, reasons: Vec<NotableReason>) -> Self {
        let raw = record.raw();
        let identity = record.user_identity();
        // Identity Center sign-ins name no ARN or key, as empty strings.
        let text = |s: Option<&str>| limits::bounded_owned(s.filter(|s| !s.is_empty()), NAME_MAX);
        let insight = raw.insight_details.as_ref().map(|d| {
            let state = d.state.as_deref().unwrap_or("?");
            let kind = d.insight_type.as_deref().unwrap_or("?");
            format!("{state} {kind}")
        });
        Self {
            time: record.time(),
            reasons,
            event_id: text(raw.event_id.as_deref()),
            event_source: text(record.event_source()),
            event_name: limits::bounded(record.event_name(), NAME_MAX).to_owned(),
            event_type: raw.event_type.clone(),
            error_code: text(record.error_code()),
            error_message: limits::bounded_owned(raw.error_message.as_deref(), ERROR_MESSAGE_MAX),
            read_only: raw.read_only,
            principal_type: record.principal_type(),
            principal_arn: text(identity.and_then(|i| i.arn.as_deref())),
            issuer_arn: text(identity.and_then(issuer_arn).as_deref()),
            access_key_id: text(identity.and_then(|i| i.access_key_id.as_deref())),
            account_id: text(identity.and_then(|i| i.account_id.as_deref())),
            user_name: text(identity.and_then(|i| i.user_name.as_deref())),
            invoked_by: text(identity.and_then(|i| i.invoked_by.as_deref())),
            source_ip: raw
                .source_ip_address
                .as_deref()
                .map(|s| limits::bounded(&net::normalize_source(s), NAME_MAX).to_owned()),
            user_agent: limits::bounded_owned(raw.user_agent.as_deref(), USER_AGENT_MAX),
            region: text(raw.aws_region.as_deref()),
            mfa: record.mfa(),
            insight,
            targets: targets(record),
            details: CallDetails::of(
                record.event_source().unwrap_or_default(),
                record.event_name(),
                raw.request_parameters.as_ref(),
            ),
        }
    }
}

fn targets(record: &Record) -> Vec<String> {
    let raw = record.raw();
    let mut out: Vec<String> = Vec::new();
    let mut push = |target: String| {
        if out.len() < TARGETS_MAX && !out.contains(&target) {
            out.push(target);
        }
    };
    for resource in &raw.resources {
        if let Some(arn) = resource.arn.as_deref() {
            push(limits::bounded(arn, NAME_MAX).to_owned());
        }
    }
    let Some(Value::Object(params)) = raw.request_parameters.as_ref() else {
        return out;
    };
    for key in TARGET_PARAMETERS {
        if let Some(value) = params.get(key).and_then(scalar) {
            push(format!("{key}={}", limits::bounded(&value, NAME_MAX)));
        }
    }
    // EC2 lists instances as `instancesSet.items[].instanceId`, SSM `SendCommand` as
    // `instanceIds`, `StartSession` names its instance `target`.
    let items = params
        .get("instancesSet")
        .and_then(|s| s.get("items"))
        .and_then(Value::as_array);
    let listed = items
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("instanceId").and_then(Value::as_str));
    let ssm = params
        .get("instanceIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .chain(params.get("target").and_then(Value::as_str));
    for id in listed.chain(ssm) {
        push(format!("instanceId={}", limits::bounded(id, NAME_MAX)));
    }
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::CloudTrailRecord;
    use serde_json::json;

    fn reasons(value: Value) -> Vec<NotableReason> {
        let raw: CloudTrailRecord = serde_json::from_value(value).unwrap();
        notable_reasons(&Record::new(raw).unwrap())
    }

    const T: &str = "2024-01-01T00:00:00Z";

    #[test]
    fn reads_of_ordinary_services_are_not_notable() {
        let r = reasons(json!({"eventTime": T, "eventSource": "ec2.amazonaws.com",
            "eventName": "DescribeInstances", "readOnly": true}));
        assert!(r.is_empty());
        // No readOnly: the name decides.
        let r = reasons(json!({"eventTime": T, "eventSource": "ec2.amazonaws.com",
            "eventName": "DescribeVolumes"}));
        assert!(r.is_empty());
        let r = reasons(json!({"eventTime": T, "eventSource": "ec2.amazonaws.com",
            "eventName": "CreateKeyPair"}));
        assert_eq!(r, [NotableReason::Mutating]);
    }

    #[test]
    fn data_events_are_notable_only_for_refusals_and_acls() {
        let put = json!({"eventTime": T, "eventSource": "s3.amazonaws.com",
            "eventName": "PutObject", "readOnly": false, "eventCategory": "Data"});
        assert!(reasons(put).is_empty());
        let missing = json!({"eventTime": T, "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "readOnly": true, "managementEvent": false,
            "errorCode": "NoSuchKey"});
        assert!(reasons(missing).is_empty());
        let denied = json!({"eventTime": T, "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "readOnly": true, "managementEvent": false,
            "errorCode": "AccessDenied"});
        assert_eq!(reasons(denied), [NotableReason::Error]);
        let acl = json!({"eventTime": T, "eventSource": "s3.amazonaws.com",
            "eventName": "PutObjectAcl", "readOnly": false, "eventCategory": "Data"});
        assert_eq!(reasons(acl), [NotableReason::S3PolicyChange]);
    }

    #[test]
    fn machine_traffic_to_sensitive_services_is_left_to_the_aggregates() {
        let decrypt = json!({"eventTime": T, "eventSource": "kms.amazonaws.com",
            "eventName": "Decrypt", "readOnly": true,
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/R/s"}});
        assert!(reasons(decrypt).is_empty());
        let delivery = json!({"eventTime": T, "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}});
        assert!(reasons(delivery).is_empty());
        let whoami = json!({"eventTime": T, "eventSource": "sts.amazonaws.com",
            "eventName": "GetCallerIdentity", "readOnly": true,
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/R/s"}});
        assert_eq!(reasons(whoami), [NotableReason::SensitiveService]);
    }
}
