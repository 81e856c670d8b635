//! The rows the ingest functions store, as the enrichment reads them back.

use chrono::{DateTime, Utc};

/// One flow aggregate of a local interface or address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    pub remote: String,
    pub local: String,
    pub local_port: u16,
    pub protocol: u8,
    /// `ingress`, `egress` or `unknown`.
    pub direction: String,
    /// `ACCEPT` or `REJECT`.
    pub action: String,
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
    pub first: i64,
    pub last: i64,
}

impl FlowRow {
    pub fn accepted(&self) -> bool {
        self.action == "ACCEPT"
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
}

impl ActivityRow {
    pub fn failed(&self) -> bool {
        self.outcome != "success"
    }

    /// `service:Api`, the spelling of baselines (`iam:CreateUser`).
    pub fn api(&self) -> String {
        crate::context::cloudtrail::api_name(
            Some(self.event_source.as_str()).filter(|s| !s.is_empty()),
            &self.event_name,
        )
    }
}

/// What a principal was seen doing before: kind (`ip`, `network`, `userAgent`, `region`, `api`,
/// `assumedBy`), value, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineRow {
    pub kind: String,
    pub value: String,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// Everything found about a finding's subjects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub flows: Vec<FlowRow>,
    pub activity: Vec<ActivityRow>,
    pub baseline: Vec<BaselineRow>,
    /// Notable CloudTrail events in the window (compact JSON objects).
    pub notable: Vec<serde_json::Value>,
    /// How many lookups were made: with no rows at all, the notice says context was missing.
    pub lookups: usize,
}
