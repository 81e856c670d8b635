//! The rows the ingest functions store, as the enrichment reads them back.

use crate::activity::{NotableEvent, ObservationKind};
use crate::dns::FirewallAction;
use crate::kube::{NotableCall, NotableKind};
use crate::traffic::{Action, Direction, ServiceSide};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::net::IpAddr;

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

/// What one instance (or address) resolved in one ten-minute bucket: a name, its type and
/// response code, how often, and the addresses it got back (to match against flows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRow {
    /// Lower case, without the final dot.
    pub name: String,
    pub query_type: String,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`...
    pub rcode: String,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// A and AAAA answers (at most a few).
    pub addresses: Vec<String>,
    /// What a DNS Firewall rule did at worst (`BLOCK`, `ALERT`, `ALLOW`), if one matched.
    pub firewall_action: Option<FirewallAction>,
}

/// What one Kubernetes user did from one address in one ten-minute bucket of EKS audit logs:
/// how much, what kinds of call, whether refused, and the notable calls one by one. Every list
/// is cut to a few entries by the reader (the text is the client's choice); the counts are whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeRow {
    /// The EKS cluster's name (`-` when the log did not say).
    pub cluster: String,
    pub username: String,
    /// The address the API server saw; `None` for calls logged without one.
    pub source_ip: Option<IpAddr>,
    /// The user's `uid` (for an EKS user the IAM principal's ID): what links it to CloudTrail.
    pub uid: Option<String>,
    pub groups: Vec<String>,
    pub user_agents: Vec<String>,
    /// Users the calls impersonated.
    pub impersonated: Vec<String>,
    /// `X-Forwarded-For` addresses, which the client chooses: shown, never trusted.
    pub forwarded_for: Vec<IpAddr>,
    pub calls: u64,
    pub denied: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// Calls by verb; past a few dozen names the rest are under `(other)`.
    pub verbs: BTreeMap<String, u64>,
    /// Calls by resource with its subresource (`pods/exec`), cut like `verbs`.
    pub resources: BTreeMap<String, u64>,
    /// Refused calls by action, `<verb> <resource>` (`list secrets`), cut like `verbs`.
    pub refused: BTreeMap<String, u64>,
    /// Notable calls, all of them (`notable` keeps only the first few).
    pub notable_calls: u64,
    /// Notable calls per kind, all of them (a call of two kinds counts for both).
    pub notable_counts: BTreeMap<NotableKind, u64>,
    pub notable: Vec<NotableCall>,
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
    /// later, in CloudTrail's S3 delivery (see [`Context::drop_repeated_events`]).
    pub live: bool,
}

impl ActivityRow {
    /// Whether `other` (an aggregate from an S3 delivery) already counts this live call: same
    /// call, outcome, caller and tool, and its time within the aggregate's span.
    fn counted_in(&self, other: &ActivityRow) -> bool {
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

impl Context {
    /// With both CloudTrail paths deployed (EventBridge events within seconds, S3 files within
    /// minutes) a call arrives twice. S3 is complete, live events fill the gap until it
    /// arrives: a live row that an S3 aggregate already covers is dropped, and notable events
    /// are kept once per CloudTrail `eventID`.
    pub fn drop_repeated_events(&mut self) {
        let covered: Vec<bool> = self
            .activity
            .iter()
            .map(|row| row.live && self.activity.iter().any(|other| row.counted_in(other)))
            .collect();
        let mut covered = covered.into_iter();
        self.activity.retain(|_| !covered.next().unwrap_or(false));
        let mut seen = std::collections::HashSet::new();
        self.notable.retain(|event| match &event.event_id {
            Some(id) => seen.insert(id.clone()),
            None => true,
        });
    }
}

/// Another user's calls from one address in one ten-minute bucket: the head of a [`KubeRow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeCaller {
    pub cluster: String,
    pub username: String,
    pub source_ip: Option<IpAddr>,
    pub calls: u64,
    pub denied: u64,
}

/// Everything found about a finding's subjects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub flows: Vec<FlowRow>,
    pub activity: Vec<ActivityRow>,
    pub baseline: Vec<BaselineRow>,
    /// Notable CloudTrail events in the window.
    pub notable: Vec<NotableEvent>,
    /// What the finding's instance resolved in the window (Route 53 Resolver query logs).
    pub dns: Vec<DnsRow>,
    /// What the finding's Kubernetes user, or its source addresses, did in the window (EKS audit
    /// logs).
    pub kube: Vec<KubeRow>,
    /// The other users calling from the finding's addresses, counts only: the notice names them,
    /// and behind a NAT gateway they can be thousands, so their rows are not read whole.
    pub kube_callers: Vec<KubeCaller>,
    /// How many lookups were made: with no rows at all, the notice says context was missing.
    pub lookups: usize,
}
