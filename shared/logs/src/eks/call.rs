//! A usable call: an audit event of a completed request, with a time and a user, its text cut
//! to bounds (everything in it was chosen by the client: names, paths, user agents).

use super::notable::{NotableKinds, classify};
use super::record::{AuditObject, SkipReason};
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use triage_domain::activity::{NAME_MAX, USER_AGENT_MAX, bounded, parse_event_time, parse_ip};

/// Most groups kept per call: users are in a handful; a list longer than this is padding.
pub const GROUPS_MAX: usize = 16;

/// The resource of a call to a path that is not an API object (`/version`, `/healthz`, or a
/// scanner's guess): the path itself is kept only in notable calls.
pub const NON_RESOURCE: &str = "nonresource";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// When the API server received the request: the moment of the call, even for a watch or an
    /// exec session logged when it ended.
    pub time: DateTime<Utc>,
    pub username: String,
    pub uid: Option<String>,
    pub groups: Vec<String>,
    /// Whom the user acted as, when it impersonated someone.
    pub impersonated: Option<String>,
    /// The client's address (the first of `sourceIPs`; the others are proxies).
    pub source_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub verb: String,
    /// `pods`, `pods/exec`, `secrets`...; [`NON_RESOURCE`] for a path that is not an object.
    pub resource: String,
    pub namespace: Option<String>,
    /// The object's name; for a non-resource call, the path asked for.
    pub name: Option<String>,
    pub code: Option<u16>,
    /// Refused: 401 (not authenticated), 403 (not authorized, or refused by admission), or the
    /// authorizer's `forbid`.
    pub denied: bool,
    pub notable: NotableKinds,
}

fn text(raw: Option<&str>, max: usize) -> Option<String> {
    raw.filter(|s| !s.is_empty())
        .map(|s| bounded(s, max).to_owned())
}

fn time(raw: Option<&str>) -> Option<Result<DateTime<Utc>, SkipReason>> {
    raw.map(|raw| parse_event_time(raw).ok_or(SkipReason::InvalidTime))
}

impl Call {
    /// `fallback_millis` is the time CloudWatch Logs gave the event, used only when the event
    /// has none of its own.
    pub fn from_event(
        event: &AuditObject<'_>,
        fallback_millis: Option<i64>,
    ) -> Result<Self, SkipReason> {
        match event.stage.as_deref() {
            Some("ResponseComplete" | "Panic") => {}
            Some("RequestReceived" | "ResponseStarted") => return Err(SkipReason::NotFinalStage),
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
        let groups = user
            .and_then(|u| u.groups.as_ref())
            .into_iter()
            .flatten()
            .take(GROUPS_MAX)
            .map(|g| bounded(g, NAME_MAX).to_owned())
            .collect();
        let object = event.object_ref.as_ref();
        let (resource, name) = match object.and_then(|o| o.resource.as_deref()) {
            Some(resource) if !resource.is_empty() => {
                let resource = match object.and_then(|o| o.subresource.as_deref()) {
                    Some(sub) if !sub.is_empty() => format!("{resource}/{sub}"),
                    _ => resource.to_owned(),
                };
                (
                    bounded(&resource, NAME_MAX).to_owned(),
                    text(object.and_then(|o| o.name.as_deref()), NAME_MAX),
                )
            }
            _ => {
                let path = event.request_uri.as_deref().map(|uri| match uri.find('?') {
                    Some(query) => &uri[..query],
                    None => uri,
                });
                (NON_RESOURCE.to_owned(), text(path, NAME_MAX))
            }
        };
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
            groups,
            impersonated: text(
                event
                    .impersonated_user
                    .as_ref()
                    .and_then(|u| u.username.as_deref()),
                NAME_MAX,
            ),
            source_ip: event
                .source_ips
                .as_ref()
                .and_then(|ips| ips.first())
                .and_then(|ip| parse_ip(ip)),
            user_agent: text(event.user_agent.as_deref(), USER_AGENT_MAX),
            verb: text(event.verb.as_deref(), NAME_MAX).unwrap_or_else(|| "-".into()),
            resource,
            namespace: text(object.and_then(|o| o.namespace.as_deref()), NAME_MAX),
            name,
            code,
            denied: matches!(code, Some(401 | 403)) || forbid,
            notable: classify(event),
        })
    }
}
