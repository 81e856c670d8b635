//! One Kubernetes audit event (`audit.k8s.io/v1` `Event`) as the API server writes it, and the
//! CloudWatch Logs subscription payload that carries EKS audit events, read tolerantly: every
//! field optional, so a record that lacks one is a counted skip with a reason rather than a
//! failed object.
//!
//! Both shapes are one struct ([`AuditObject`]): a line of a delivery is parsed once, whatever it
//! holds, and is a payload when it has `messageType` or `logEvents`.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// An audit event, or a CloudWatch Logs payload. Only what triage reads is modelled; other fields
/// are ignored. Text is borrowed from the line when it has no escapes, so parsing allocates little.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditObject<'a> {
    #[serde(default, borrow)]
    pub stage: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub verb: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "requestURI")]
    pub request_uri: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub user: Option<UserInfo<'a>>,
    #[serde(default, borrow)]
    pub impersonated_user: Option<UserInfo<'a>>,
    /// The client first, then any proxies it came through.
    #[serde(default, borrow, rename = "sourceIPs")]
    pub source_ips: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    pub user_agent: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub object_ref: Option<ObjectRef<'a>>,
    #[serde(default)]
    pub response_status: Option<ResponseStatus>,
    /// Kept as text, read only for the calls whose body matters (`super::notable`): a body of a
    /// shape we do not expect must not cost the call.
    #[serde(default, borrow)]
    pub request_object: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub annotations: Option<Annotations<'a>>,
    #[serde(default, borrow)]
    pub request_received_timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub stage_timestamp: Option<Cow<'a, str>>,

    /// `DATA_MESSAGE` or `CONTROL_MESSAGE` (a payload only).
    #[serde(default, borrow)]
    pub message_type: Option<Cow<'a, str>>,
    /// `/aws/eks/<cluster>/cluster` (a payload only).
    #[serde(default, borrow)]
    pub log_group: Option<Cow<'a, str>>,
    /// `kube-apiserver-audit-<id>` for audit events; the group also holds the other control
    /// plane logs (a payload only).
    #[serde(default, borrow)]
    pub log_stream: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub log_events: Option<Vec<LogEvent<'a>>>,
}

impl AuditObject<'_> {
    pub fn is_payload(&self) -> bool {
        self.message_type.is_some() || self.log_events.is_some()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct UserInfo<'a> {
    #[serde(default, borrow)]
    pub username: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub uid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub groups: Option<Vec<Cow<'a, str>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef<'a> {
    #[serde(default, borrow)]
    pub resource: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub subresource: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub namespace: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub api_group: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResponseStatus {
    #[serde(default)]
    pub code: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Annotations<'a> {
    /// `allow` or `forbid`: what the authorizer decided, before admission.
    #[serde(default, borrow, rename = "authorization.k8s.io/decision")]
    pub decision: Option<Cow<'a, str>>,
}

/// One event of a CloudWatch Logs payload: `message` is the audit event's JSON, as text.
#[derive(Debug, Default, Deserialize)]
pub struct LogEvent<'a> {
    #[serde(default, borrow)]
    pub message: Option<Cow<'a, str>>,
    /// When CloudWatch Logs received it (Unix milliseconds): the time of last resort.
    #[serde(default)]
    pub timestamp: Option<i64>,
}

/// Why a record was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Not JSON, or JSON of another shape (a number where an object is due...).
    NotAnEvent,
    /// `RequestReceived`, or `ResponseStarted` of a call other than a session: the same call is
    /// logged again when it completes, so counting these would count it twice.
    NotFinalStage,
    /// `ResponseComplete` of an exec, attach or port-forward session: counted when it started.
    SessionEnd,
    /// No stage, or one the audit API does not define: which events of a call it is is unknown.
    UnknownStage,
    MissingTime,
    InvalidTime,
    /// No `user.username`: nobody to file the call under.
    MissingUser,
    /// A `CONTROL_MESSAGE` payload: CloudWatch Logs checking that the destination is reachable.
    ControlMessage,
    /// A payload event from a stream other than the API server's audit log (the cluster's log
    /// group also holds the authenticator, scheduler and controller manager logs).
    NotAuditStream,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::NotAnEvent => "not an audit event",
            SkipReason::NotFinalStage => "stage RequestReceived, or ResponseStarted of a call that is not a session",
            SkipReason::SessionEnd => "stage ResponseComplete of an exec, attach or port-forward session (counted when it started)",
            SkipReason::UnknownStage => "no stage, or an unknown one",
            SkipReason::MissingTime => "no requestReceivedTimestamp nor stageTimestamp",
            SkipReason::InvalidTime => "unreadable timestamp",
            SkipReason::MissingUser => "no user.username",
            SkipReason::ControlMessage => "CloudWatch Logs CONTROL_MESSAGE",
            SkipReason::NotAuditStream => "log stream is not kube-apiserver-audit",
        })
    }
}
