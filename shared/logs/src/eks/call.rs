//! A usable call: an audit event of a completed request, with a time and a user, its text cut
//! to bounds (everything in it was chosen by the client: names, paths, user agents).

use super::notable::{NotableKinds, classify};
use super::record::{AuditObject, SkipReason};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::net::IpAddr;
use triage_domain::activity::{NAME_MAX, USER_AGENT_MAX, bounded, parse_event_time, parse_ip};

/// Most groups kept per call: users are in a handful; a list longer than this is padding.
pub const GROUPS_MAX: usize = 16;

/// The resource of a call to a path that is not an API object (`/version`, `/healthz`, or a
/// scanner's guess): the path itself is kept only in notable calls.
pub const NON_RESOURCE: &str = "nonresource";

/// Borrowed from the event: most calls add to an aggregate that already holds their user, verb
/// and resource, so nothing of theirs needs copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call<'e> {
    /// When the API server received the request: the moment of the call, even for a watch or an
    /// exec session logged when it ended.
    pub time: DateTime<Utc>,
    pub username: &'e str,
    pub uid: Option<&'e str>,
    /// As logged (each cut to a bound when kept).
    pub groups: &'e [Cow<'e, str>],
    /// Whom the user acted as, when it impersonated someone.
    pub impersonated: Option<&'e str>,
    /// The address the API server saw the request come from: the last of `sourceIPs`. The
    /// others come from `X-Forwarded-For` and `X-Real-Ip`, which the client can set to anything,
    /// so a call is never filed under them.
    pub source_ip: Option<IpAddr>,
    /// The first of `sourceIPs` when there are several: the client's own address if the proxies
    /// in between are honest, a decoy if not.
    pub forwarded_for: Option<IpAddr>,
    pub user_agent: Option<&'e str>,
    pub verb: &'e str,
    /// `pods`, `pods/exec`, `secrets`...; [`NON_RESOURCE`] for a path that is not an object.
    pub resource: Cow<'e, str>,
    pub namespace: Option<&'e str>,
    /// The object's name; for a non-resource call, the path asked for.
    pub name: Option<&'e str>,
    pub code: Option<u16>,
    /// Refused: 401 (not authenticated), 403 (not authorized, or refused by admission), or the
    /// authorizer's `forbid`.
    pub denied: bool,
    pub notable: NotableKinds,
}

/// An exec, attach or port-forward: a session the API server logs at `ResponseStarted` when the
/// connection is upgraded (or refused) and at `ResponseComplete` only when it closes, which may
/// be hours later, in a later object, or never if the log is read while it is open. EKS logs
/// both stages of such long-running calls (its public records include `ResponseStarted`
/// events), so a session is counted once, when it started: the moment the intruder had a shell.
fn is_session(event: &AuditObject<'_>) -> bool {
    event.object_ref.as_ref().is_some_and(|o| {
        o.resource.as_deref() == Some("pods")
            && matches!(
                o.subresource.as_deref(),
                Some("exec" | "attach" | "portforward")
            )
    })
}

fn text(raw: Option<&str>, max: usize) -> Option<&str> {
    raw.filter(|s| !s.is_empty()).map(|s| bounded(s, max))
}

fn time(raw: Option<&str>) -> Option<Result<DateTime<Utc>, SkipReason>> {
    raw.map(|raw| parse_event_time(raw).ok_or(SkipReason::InvalidTime))
}

impl<'e> Call<'e> {
    /// `fallback_millis` is the time CloudWatch Logs gave the event, used only when the event
    /// has none of its own.
    pub fn from_event(
        event: &'e AuditObject<'_>,
        fallback_millis: Option<i64>,
    ) -> Result<Self, SkipReason> {
        match (event.stage.as_deref(), is_session(event)) {
            (Some("ResponseComplete" | "Panic"), false) | (Some("ResponseStarted"), true) => {}
            (Some("ResponseComplete" | "Panic"), true) => return Err(SkipReason::SessionEnd),
            (Some("RequestReceived" | "ResponseStarted"), _) => {
                return Err(SkipReason::NotFinalStage);
            }
            _ => return Err(SkipReason::UnknownStage),
        }
        let time = time(event.request_received_timestamp.as_deref())
            .or_else(|| time(event.stage_timestamp.as_deref()))
            .or_else(|| {
                fallback_millis
                    .map(|ms| DateTime::from_timestamp_millis(ms).ok_or(SkipReason::InvalidTime))
            })
            .ok_or(SkipReason::MissingTime)??;
        let user = event.user.as_ref();
        let username = text(user.and_then(|u| u.username.as_deref()), NAME_MAX)
            .ok_or(SkipReason::MissingUser)?;
        let object = event.object_ref.as_ref();
        let (resource, name) = match object.and_then(|o| o.resource.as_deref()) {
            Some(resource) if !resource.is_empty() => {
                let resource = match object.and_then(|o| o.subresource.as_deref()) {
                    Some(sub) if !sub.is_empty() => {
                        Cow::Owned(bounded(&format!("{resource}/{sub}"), NAME_MAX).to_owned())
                    }
                    _ => Cow::Borrowed(bounded(resource, NAME_MAX)),
                };
                (
                    resource,
                    text(object.and_then(|o| o.name.as_deref()), NAME_MAX),
                )
            }
            _ => {
                let path = event.request_uri.as_deref().map(|uri| match uri.find('?') {
                    Some(query) => &uri[..query],
                    None => uri,
                });
                (Cow::Borrowed(NON_RESOURCE), text(path, NAME_MAX))
            }
        };
        let ips = event.source_ips.as_deref().unwrap_or_default();
        let code = event
            .response_status
            .as_ref()
            .and_then(|s| s.code)
            .and_then(|c| u16::try_from(c).ok());
        let forbid = event
            .annotations
            .as_ref()
            .and_then(|a| a.decision.as_deref())
            == Some("forbid");
        Ok(Call {
            time,
            username,
            uid: text(user.and_then(|u| u.uid.as_deref()), NAME_MAX),
            groups: user.and_then(|u| u.groups.as_deref()).unwrap_or_default(),
            impersonated: text(
                event
                    .impersonated_user
                    .as_ref()
                    .and_then(|u| u.username.as_deref()),
                NAME_MAX,
            ),
            source_ip: ips.last().and_then(|ip| parse_ip(ip)),
            forwarded_for: match ips {
                [first, _, ..] => parse_ip(first),
                _ => None,
            },
            user_agent: text(event.user_agent.as_deref(), USER_AGENT_MAX),
            verb: text(event.verb.as_deref(), NAME_MAX).unwrap_or("-"),
            resource,
            namespace: text(object.and_then(|o| o.namespace.as_deref()), NAME_MAX),
            name,
            code,
            denied: matches!(code, Some(401 | 403)) || forbid,
            notable: classify(event),
        })
    }
}
