//! Temporary credentials issued by STS: which access key belongs to which role session, and who
//! obtained it from where.
//!
//! A credential finding names an access key (`ASIA...`). The calls made with it say what it did;
//! the `AssumeRole` (or `GetSessionToken`, `GetFederationToken`, ...) that issued it says what it
//! *should* be: credentials delivered by `ec2.amazonaws.com` to session `i-0123...` belong to an
//! instance, so their use from a laptop's IP with a CLI user agent is the exfiltration GuardDuty
//! calls `InstanceCredentialExfiltration`. One issue per successful issuing call.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use triage_domain::activity as net;
use triage_domain::activity::Record;
use triage_domain::activity::{self as limits, NAME_MAX, USER_AGENT_MAX};
use triage_domain::activity::{EntityKey, PrincipalType, primary_key};

/// STS calls that return temporary credentials.
pub const ISSUING_CALLS: [&str; 6] = [
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "GetSessionToken",
    "GetFederationToken",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialIssue {
    /// The access key issued (`responseElements.credentials.accessKeyId`).
    pub access_key_id: String,
    pub time: DateTime<Utc>,
    pub event_name: String,
    /// The role assumed (`requestParameters.roleArn`), for `AssumeRole*`.
    pub role_arn: Option<String>,
    /// The session the key acts as (`assumedRoleUser.arn` or `federatedUser.arn`), when the
    /// response carries it.
    pub session_arn: Option<String>,
    /// `roleSessionName` (an instance ID for instance profiles) or the federated user's name.
    pub session_name: Option<String>,
    /// Who obtained the credentials (primary key, see [`EntityKey`]).
    pub issued_to: Option<EntityKey>,
    pub issued_to_type: PrincipalType,
    /// Canonical address, or the AWS service name (`ec2.amazonaws.com`).
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The credentials `record` issued, if it is a successful issuing STS call whose response
/// names the key.
pub fn credential_issue(record: &Record) -> Option<CredentialIssue> {
    let raw = record.raw();
    let name = record.event_name();
    if record.event_source() != Some("sts.amazonaws.com")
        || !ISSUING_CALLS.contains(&name)
        || record.error_code().is_some()
    {
        return None;
    }
    let response = raw.response_elements.as_ref()?;
    let access_key_id = response.get("credentials")?.get("accessKeyId")?.as_str()?;
    let request = raw.request_parameters.as_ref();
    let param = |key: &str| {
        let value = request?.get(key)?.as_str()?;
        Some(limits::bounded(value, NAME_MAX).to_owned())
    };
    let session_arn = ["assumedRoleUser", "federatedUser"]
        .iter()
        .find_map(|k| response.get(k)?.get("arn").and_then(Value::as_str))
        .map(|s| limits::bounded(s, NAME_MAX).to_owned());
    Some(CredentialIssue {
        access_key_id: limits::bounded(access_key_id, NAME_MAX).to_owned(),
        time: record.time(),
        event_name: name.to_owned(),
        role_arn: param("roleArn"),
        session_arn,
        session_name: param("roleSessionName").or_else(|| param("name")),
        issued_to: primary_key(record.user_identity()).map(|k| k.to_owned_key()),
        issued_to_type: record.principal_type(),
        source_ip: raw
            .source_ip_address
            .as_deref()
            .map(|s| limits::bounded(&net::normalize_source(s), NAME_MAX).to_owned()),
        user_agent: limits::bounded_owned(raw.user_agent.as_deref(), USER_AGENT_MAX),
    })
}
