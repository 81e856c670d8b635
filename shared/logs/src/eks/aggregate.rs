//! Compacting calls: one aggregate per cluster, user, source address and ten-minute bucket, with
//! counts by verb and by resource, the refused calls, the first and last time, a few user agents,
//! the groups, and the notable calls one by one. Controllers and nodes make thousands of calls
//! an hour that matter to nobody; this keeps what triage asks of a Kubernetes finding ("what else
//! did this user do, from where, and did any of it escalate") in a few rows per user and bucket.
//!
//! Every collection in an aggregate is bounded (the text is the client's choice), so an
//! aggregate's size does not grow with the calls it counts.

use super::call::{Call, GROUPS_MAX};
use super::notable::NotableKind;
use super::record::SkipReason;
use crate::bucketed::Buckets;
pub use crate::bucketed::Limits;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use triage_domain::activity::{NAME_MAX, bounded};
pub use triage_domain::kube::NotableCall;

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
/// Forwarded-for addresses kept per aggregate.
pub const FORWARDED_MAX: usize = 4;
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
    /// The address the API server saw ([`Call::source_ip`]).
    pub source_ip: Option<IpAddr>,
    /// Start of the ten-minute bucket (Unix seconds).
    pub bucket_start: i64,
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
    /// Refused calls by action, `<verb> <resource>` (`list secrets`), cut like `resources`: a
    /// user trying what its credentials may do meets many walls; a controller whose role lacks one
    /// right meets the same wall over and over, which the total alone cannot tell apart.
    pub refused: BTreeMap<String, u64>,
    pub user_agents: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// The user's `uid` (the IAM principal's ID for an EKS user): the first seen.
    pub uid: Option<String>,
    pub impersonated: BTreeSet<String>,
    /// The addresses the calls said they were forwarded for (`X-Forwarded-For`), which the
    /// client chooses: shown, never keyed on.
    pub forwarded_for: BTreeSet<IpAddr>,
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
            refused: BTreeMap::new(),
            user_agents: BTreeSet::new(),
            groups: BTreeSet::new(),
            uid: None,
            impersonated: BTreeSet::new(),
            forwarded_for: BTreeSet::new(),
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

fn count(counts: &mut BTreeMap<String, u64>, name: &str) {
    if let Some(n) = counts.get_mut(name) {
        *n += 1;
    } else if counts.len() < COUNTS_MAX {
        counts.insert(name.to_owned(), 1);
    } else {
        *counts.entry(OTHER.to_owned()).or_default() += 1;
    }
}

fn keep(set: &mut BTreeSet<String>, max: usize, value: Option<&str>) {
    if let Some(value) = value
        && set.len() < max
        && !set.contains(value)
    {
        set.insert(value.to_owned());
    }
}

/// What reading an object found. Its records are the audit events read, plus the payloads
/// skipped whole (`CONTROL_MESSAGE`).
pub type Summary = crate::bucketed::Summary<SkipReason>;

/// An aggregate takes about 5 KB once its maps, user agents, groups and a notable call are
/// counted (measured: 87 MB peak RSS at this bound, 1.36 GB unbounded, on 300,000 anonymous calls
/// from as many addresses in one bucket), so under 100 MB at the bound; a cluster reaches it only
/// with thousands of distinct users and addresses within twenty minutes. The API servers of a
/// cluster log to streams of their own, which a Firehose delivery interleaves a little out of
/// order: ten minutes of slack keeps almost every bucket in one part. A bound at all, since
/// anonymous scanning from thousands of addresses makes an aggregate per address and bucket, and a
/// day's export of a busy cluster holds every bucket of the day.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_live: 16_384,
    grace_secs: 600,
};

/// An aggregate's key within its bucket while reading: cluster and user interned, so a call of
/// a known user finds its aggregate without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct LiveKey {
    cluster: u32,
    username: u32,
    source_ip: Option<IpAddr>,
}

/// Calls in, aggregates out, a part at a time, within [`Limits`] ([`crate::bucketed`]).
#[derive(Debug)]
pub struct Aggregator {
    buckets: Buckets<LiveKey, CallStats, CallKey>,
    ids: HashMap<String, u32, foldhash::fast::RandomState>,
    names: Vec<String>,
    summary: Summary,
}

impl Default for Aggregator {
    fn default() -> Self {
        Self::new(Limits::UNBOUNDED)
    }
}

impl Aggregator {
    pub fn new(limits: Limits) -> Self {
        Self {
            buckets: Buckets::new(BUCKET_SECS, limits),
            ids: HashMap::default(),
            names: Vec::new(),
            summary: Summary::default(),
        }
    }

    pub fn skip(&mut self, reason: SkipReason) {
        self.summary.skip(reason);
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        // More than 4 billion distinct names cannot come from an object under the text cap.
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }

    pub fn push(&mut self, cluster: &str, call: Result<Call<'_>, SkipReason>) {
        let call = match call {
            Ok(call) => call,
            Err(reason) => return self.skip(reason),
        };
        self.summary.records += 1;
        let time = call.time.timestamp();
        let key = LiveKey {
            cluster: self.intern(cluster),
            username: self.intern(call.username),
            source_ip: call.source_ip,
        };
        let stats = self
            .buckets
            .get_or_insert_with(time, &key, || (key, CallStats::new(call.time)));
        add(stats, call);
        let names = &self.names;
        self.buckets
            .hand_over_past(time, |start, key| call_key(names, start, key));
        // No live key names them any more: the names of an object's many users need not
        // outlive their buckets.
        if self.buckets.is_empty() && self.names.len() > INTERNED_KEPT {
            self.ids.clear();
            self.names.clear();
        }
    }

    /// The aggregates handed over since the last call, sorted by cluster, user, address and
    /// bucket; empty while every bucket is still live.
    pub fn take_ready(&mut self) -> Vec<(CallKey, CallStats)> {
        self.buckets.take_ready()
    }

    /// Whether a part is waiting for [`Self::take_ready`].
    pub fn has_ready(&self) -> bool {
        self.buckets.has_ready()
    }

    /// The last part (every bucket still live), sorted, and the summary of the whole stream.
    pub fn finish(self) -> (Vec<(CallKey, CallStats)>, Summary) {
        let names = &self.names;
        self.buckets
            .finish(|start, key| call_key(names, start, key))
            .into_summary(self.summary)
    }
}

fn call_key(names: &[String], bucket_start: i64, key: LiveKey) -> CallKey {
    let name = |id: u32| names.get(id as usize).cloned().unwrap_or_default();
    CallKey {
        cluster: name(key.cluster),
        username: name(key.username),
        source_ip: key.source_ip,
        bucket_start,
    }
}

/// Interned names kept across a moment with no live bucket: below it, clearing them would only
/// make the next calls intern them again.
const INTERNED_KEPT: usize = 4096;

fn add(stats: &mut CallStats, call: Call<'_>) {
    stats.calls += 1;
    stats.denied += u64::from(call.denied);
    stats.first = stats.first.min(call.time);
    stats.last = stats.last.max(call.time);
    count(&mut stats.verbs, call.verb);
    count(&mut stats.resources, &call.resource);
    if call.denied {
        count(
            &mut stats.refused,
            &format!("{} {}", call.verb, call.resource),
        );
    }
    keep(&mut stats.user_agents, USER_AGENTS_MAX, call.user_agent);
    for group in call.groups.iter().take(GROUPS_MAX) {
        keep(
            &mut stats.groups,
            GROUPS_MAX,
            Some(bounded(group, NAME_MAX)),
        );
    }
    if stats.uid.is_none() {
        stats.uid = call.uid.map(str::to_owned);
    }
    keep(&mut stats.impersonated, IMPERSONATED_MAX, call.impersonated);
    if let Some(ip) = call.forwarded_for
        && stats.forwarded_for.len() < FORWARDED_MAX
    {
        stats.forwarded_for.insert(ip);
    }
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
            verb: call.verb.to_owned(),
            resource: call.resource.into_owned(),
            namespace: call.namespace.map(str::to_owned),
            name: call.name.map(str::to_owned),
            code: call.code,
            denied: call.denied,
        });
    }
}
