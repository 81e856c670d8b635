//! The rows the ingest functions store, as the enrichment reads them back.

use crate::activity::{NotableEvent, ObservationKind};
use crate::traffic::{Action, Direction, ServiceSide};
use chrono::{DateTime, Utc};

/// One flow aggregate of a local interface or address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    pub remote: String,
    pub local: String,
    /// The port that was connected to (0 for protocols without ports): the local one for
    /// traffic that reached the interface, the remote one for connections it made. The client's
    /// ephemeral port is not kept: it is new for every connection and tells nothing.
    pub service_port: u16,
    /// Which side listened on `service_port`.
    pub service: ServiceSide,
    pub protocol: u8,
    pub direction: Direction,
    pub action: Action,
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
    pub first: i64,
    pub last: i64,
}

impl FlowRow {
    pub fn accepted(&self) -> bool {
        self.action == Action::Accept
    }
}

/// API activity of a principal, access key or source IP in one time bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    /// The partition key it was stored under (`CT#accessKey#...`, `CT#arn#...`, `CT#ip#...`):
    /// one call is filed under each, so sums must stay within one subject.
    pub subject: String,
    pub event_source: String,
    pub event_name: String,
    /// `success` or the error code.
    pub outcome: String,
    pub source_ip: String,
    pub region: String,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub user_agent: String,
    /// From a single event delivered live by EventBridge: the same call comes again, minutes
    /// later, in CloudTrail's S3 delivery (see [`super::Context::drop_repeated_events`]).
    pub live: bool,
}

impl ActivityRow {
    /// Whether `other` (an aggregate from an S3 delivery) already counts this live call: same
    /// call, outcome, caller and tool, and its time within the aggregate's span.
    pub(super) fn counted_in(&self, other: &ActivityRow) -> bool {
        !other.live
            && other.subject == self.subject
            && other.event_source == self.event_source
            && other.event_name == self.event_name
            && other.outcome == self.outcome
            && other.source_ip == self.source_ip
            && other.user_agent == self.user_agent
            && other.region == self.region
            && other.first <= self.first
            && self.last <= other.last
    }

    pub fn failed(&self) -> bool {
        self.outcome != "success"
    }

    /// `service:Api`, the spelling of baselines (`iam:CreateUser`).
    pub fn api(&self) -> String {
        crate::activity::api_name(
            Some(self.event_source.as_str()).filter(|s| !s.is_empty()),
            &self.event_name,
        )
    }
}

/// What a principal was seen doing before: kind (`ip`, `network`, `userAgent`, `region`, `api`,
/// `assumedBy`), value, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineRow {
    pub kind: ObservationKind,
    pub value: String,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// The CloudTrail and flow rows read for a finding, as the other sources see them: what they
/// may cross-reference (a Resolver answer confirmed by the flows to it).
#[derive(Debug, Clone, Copy)]
pub struct CoreRows<'a> {
    pub flows: &'a [FlowRow],
    pub activity: &'a [ActivityRow],
    pub baseline: &'a [BaselineRow],
    pub notable: &'a [NotableEvent],
}
