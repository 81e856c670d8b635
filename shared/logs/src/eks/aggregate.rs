//! Compacting calls: one aggregate per cluster, user, source address and ten-minute bucket, with
//! counts by verb and by resource, the refused calls, the first and last time, a few user agents,
//! the groups, and the notable calls one by one. Controllers and nodes make thousands of calls
//! an hour that matter to nobody; this keeps what triage asks of a Kubernetes finding ("what else
//! did this user do, from where, and did any of it escalate") in a few rows per user and bucket.
//!
//! Every collection in an aggregate is bounded (the text is the client's choice), so an
//! aggregate's size does not grow with the calls it counts.

use super::call::{Call, GROUPS_MAX};
use super::notable::{NotableKind, NotableKinds};
use super::record::SkipReason;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// Bucket width: the other aggregates' ten minutes, so a user's calls line up with the flows
/// and CloudTrail activity of the same minutes.
pub const BUCKET_SECS: i64 = 600;
/// Distinct verbs, and distinct resources, counted by name per aggregate; past that they are
/// counted under [`OTHER`]. The API has about ten verbs; a user touching more than 32 kinds of
/// resource in ten minutes is enumerating, which the total says.
pub const COUNTS_MAX: usize = 32;
/// The name the overflow of [`COUNTS_MAX`] is counted under.
pub const OTHER: &str = "(other)";
/// User agents kept per aggregate: a person has one or two; more is a tool rotating them.
pub const USER_AGENTS_MAX: usize = 4;
/// Impersonated users kept per aggregate.
pub const IMPERSONATED_MAX: usize = 4;
/// Notable calls kept one by one per aggregate; the others are still counted by kind.
pub const NOTABLE_MAX: usize = 16;

/// What an aggregate is filed under: triage looks a finding's user up in its cluster, around its
/// time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey {
    /// The cluster's name, from the log group (`/aws/eks/<cluster>/cluster`); `-` when the
    /// object does not say.
    pub cluster: String,
    pub username: String,
    pub source_ip: Option<IpAddr>,
    /// Start of the ten-minute bucket (Unix seconds).
    pub bucket_start: i64,
}

/// One call shown on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotableCall {
    pub time: DateTime<Utc>,
    pub kinds: NotableKinds,
    pub verb: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub code: Option<u16>,
    pub denied: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStats {
    pub calls: u64,
    pub denied: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub verbs: BTreeMap<String, u64>,
    /// By resource, with its subresource (`pods/exec`).
    pub resources: BTreeMap<String, u64>,
    pub user_agents: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// The user's `uid` (the IAM principal's ID for an EKS user): the first seen.
    pub uid: Option<String>,
    pub impersonated: BTreeSet<String>,
    /// Calls of any notable kind, all of them.
    pub notable_calls: u64,
    /// Calls of each notable kind, all of them (a call of two kinds counts for both).
    pub notable_counts: BTreeMap<NotableKind, u64>,
    /// The first [`NOTABLE_MAX`] notable calls, in the order read.
    pub notable: Vec<NotableCall>,
}

impl CallStats {
    fn new(time: DateTime<Utc>) -> Self {
        CallStats {
            calls: 0,
            denied: 0,
            first: time,
            last: time,
            verbs: BTreeMap::new(),
            resources: BTreeMap::new(),
            user_agents: BTreeSet::new(),
            groups: BTreeSet::new(),
            uid: None,
            impersonated: BTreeSet::new(),
            notable_calls: 0,
            notable_counts: BTreeMap::new(),
            notable: Vec::new(),
        }
    }

    /// Notable calls counted but not kept one by one.
    pub fn notable_dropped(&self) -> u64 {
        self.notable_calls - self.notable.len() as u64
    }
}

fn count(counts: &mut BTreeMap<String, u64>, name: String) {
    if let Some(n) = counts.get_mut(&name) {
        *n += 1;
    } else if counts.len() < COUNTS_MAX {
        counts.insert(name, 1);
    } else {
        *counts.entry(OTHER.to_owned()).or_default() += 1;
    }
}

fn keep(set: &mut BTreeSet<String>, max: usize, value: Option<String>) {
    if let Some(value) = value
        && set.len() < max
    {
        set.insert(value);
    }
}

/// What reading an object found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Audit events read, plus the payloads skipped whole (`CONTROL_MESSAGE`).
    pub records: u64,
    /// Bytes of text read (after decompression): what the cost per GB is per.
    pub text_bytes: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    pub aggregates: usize,
}

impl Summary {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// Calls in, aggregates out.
#[derive(Debug, Default)]
pub struct Aggregator {
    aggregates: HashMap<CallKey, CallStats, foldhash::fast::RandomState>,
    summary: Summary,
}

impl Aggregator {
    pub fn skip(&mut self, reason: SkipReason) {
        self.summary.records += 1;
        *self.summary.skipped.entry(reason).or_default() += 1;
    }

    pub fn push(&mut self, cluster: &str, call: Result<Call, SkipReason>) {
        let call = match call {
            Ok(call) => call,
            Err(reason) => return self.skip(reason),
        };
        self.summary.records += 1;
        let time = call.time.timestamp();
        let key = CallKey {
            cluster: cluster.to_owned(),
            username: call.username,
            source_ip: call.source_ip,
            bucket_start: time - time.rem_euclid(BUCKET_SECS),
        };
        let stats = self
            .aggregates
            .entry(key)
            .or_insert_with(|| CallStats::new(call.time));
        stats.calls += 1;
        stats.denied += u64::from(call.denied);
        stats.first = stats.first.min(call.time);
        stats.last = stats.last.max(call.time);
        count(&mut stats.verbs, call.verb.clone());
        count(&mut stats.resources, call.resource.clone());
        keep(&mut stats.user_agents, USER_AGENTS_MAX, call.user_agent);
        for group in call.groups {
            keep(&mut stats.groups, GROUPS_MAX, Some(group));
        }
        if stats.uid.is_none() {
            stats.uid = call.uid;
        }
        keep(&mut stats.impersonated, IMPERSONATED_MAX, call.impersonated);
        if call.notable.is_empty() {
            return;
        }
        stats.notable_calls += 1;
        for kind in call.notable.iter() {
            *stats.notable_counts.entry(kind).or_default() += 1;
        }
        if stats.notable.len() < NOTABLE_MAX {
            stats.notable.push(NotableCall {
                time: call.time,
                kinds: call.notable,
                verb: call.verb,
                resource: call.resource,
                namespace: call.namespace,
                name: call.name,
                code: call.code,
                denied: call.denied,
            });
        }
    }

    /// The aggregates, sorted by cluster, user, address and bucket.
    pub fn finish(mut self) -> (Vec<(CallKey, CallStats)>, Summary) {
        self.summary.aggregates = self.aggregates.len();
        let mut aggregates: Vec<_> = self.aggregates.into_iter().collect();
        aggregates.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        (aggregates, self.summary)
    }
}
