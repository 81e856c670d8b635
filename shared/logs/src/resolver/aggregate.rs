//! Compacting queries: one aggregate per asker, ten-minute bucket, name, type and response code,
//! with a count, the first and last time, the addresses answered and the strongest DNS Firewall
//! action. An instance resolves the same few names all day (its package mirror, its APIs), so
//! this keeps what triage asks ("what did the instance resolve around the finding, what was new,
//! did it then connect to the answer") for a few rows per bucket, however chatty the resolver.

use super::record::{Asker, Query, SkipReason, Source};
use chrono::{DateTime, Utc};
use hashbrown::{Equivalent, HashMap};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use triage_domain::dns::FirewallAction;

/// Bucket width: the flow aggregates' ten minutes, so a name and the traffic to its answer line up.
pub const BUCKET_SECS: i64 = 600;

/// Most addresses kept per aggregate: a name answered by more (a CDN) is not one host to chase.
pub const ADDRESSES_MAX: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryKey {
    pub source: Source,
    /// Start of the ten-minute bucket (Unix seconds).
    pub bucket_start: i64,
    pub name: String,
    pub query_type: String,
    pub rcode: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryStats {
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// Sorted, without repeats: a vector, since most names have one or two answers and a set's
    /// node would be most of the aggregate's memory.
    pub addresses: Vec<IpAddr>,
    /// `BLOCK` over `ALERT` over `ALLOW`: what the firewall did at worst.
    pub firewall_action: Option<FirewallAction>,
}

/// What reading an object found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    /// Bytes of text read (after decompression): what the cost per GB is per.
    pub text_bytes: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Aggregates handed over (a bucket started again by late queries counts again).
    pub aggregates: usize,
    /// Most aggregates live at once: what memory held.
    pub peak_live: usize,
}

impl Summary {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// Bounds on what an [`Aggregator`] holds, so that memory follows the setting and not the
/// object: a query log of a busy VPC can name hundreds of thousands of distinct names an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most live aggregates; past it the oldest bucket is handed over early.
    pub max_live: usize,
    /// How far the stream must be past a bucket's end before the bucket is handed over. Resolver
    /// writes entries in about the order it answered them, a little out of order across its
    /// hosts: ten minutes of slack keeps almost every bucket in one part.
    pub grace_secs: i64,
}

impl Limits {
    /// The flow reader's bound. A live aggregate takes about 700 bytes (four strings of its key,
    /// counts, a few addresses, the map's own overhead), so about 190 MB at the bound: a fifth of
    /// the function's memory, for one part per bucket on all but the busiest VPCs (BENCHMARKS.md).
    pub const DEFAULT: Self = Self {
        max_live: 262_144,
        grace_secs: 600,
    };
    /// Everything held to the end: one part per object (tests, small objects).
    pub const UNBOUNDED: Self = Self {
        max_live: usize::MAX,
        grace_secs: i64::MAX,
    };
}

/// An aggregate's key within its bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NameKey {
    source: Source,
    name: String,
    query_type: String,
    rcode: String,
}

/// [`NameKey`] borrowed from a query: what a bucket is searched with, so that a query of an
/// aggregate that exists copies nothing.
#[derive(Debug, PartialEq, Eq, Hash)]
struct NameKeyRef<'a> {
    source: SourceRef<'a>,
    name: &'a str,
    query_type: &'a str,
    rcode: &'a str,
}

#[derive(Debug, PartialEq, Eq, Hash)]
enum SourceRef<'a> {
    Instance(&'a str),
    Address(&'a str),
}

impl NameKey {
    fn as_ref(&self) -> NameKeyRef<'_> {
        NameKeyRef {
            source: match &self.source {
                Source::Instance(id) => SourceRef::Instance(id),
                Source::Address(ip) => SourceRef::Address(ip),
            },
            name: &self.name,
            query_type: &self.query_type,
            rcode: &self.rcode,
        }
    }
}

/// Hashed as its borrowed form, so that both find the same slot (what `Equivalent` requires).
impl Hash for NameKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_ref().hash(state);
    }
}

impl Equivalent<NameKey> for NameKeyRef<'_> {
    fn equivalent(&self, key: &NameKey) -> bool {
        *self == key.as_ref()
    }
}

impl<'a> NameKeyRef<'a> {
    fn of(query: &'a Query<'_>) -> Self {
        NameKeyRef {
            source: match &query.source {
                Asker::Instance(id) => SourceRef::Instance(id),
                Asker::Address(ip) => SourceRef::Address(ip),
            },
            name: &query.name,
            query_type: &query.query_type,
            rcode: &query.rcode,
        }
    }

    fn to_owned(&self, query: &Query<'_>) -> NameKey {
        NameKey {
            source: query.source.to_source(),
            name: self.name.to_owned(),
            query_type: self.query_type.to_owned(),
            rcode: self.rcode.to_owned(),
        }
    }
}

type Bucket = HashMap<NameKey, QueryStats, foldhash::fast::RandomState>;

/// Queries in, aggregates out, a part at a time: a bucket is handed over once the stream is
/// [`Limits::grace_secs`] past its end, or, when [`Limits::max_live`] is reached, the oldest
/// one early. A later query of a bucket already handed over starts it again, and lands in a
/// later part: every query is counted once, in one part or another.
#[derive(Debug)]
pub struct Aggregator {
    buckets: BTreeMap<i64, Bucket>,
    live: usize,
    latest: i64,
    limits: Limits,
    ready: Vec<(QueryKey, QueryStats)>,
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
            buckets: BTreeMap::new(),
            live: 0,
            latest: i64::MIN,
            limits,
            ready: Vec::new(),
            summary: Summary::default(),
        }
    }

    pub fn push(&mut self, query: Result<Query, SkipReason>) {
        self.summary.records += 1;
        let query = match query {
            Ok(query) => query,
            Err(reason) => {
                *self.summary.skipped.entry(reason).or_default() += 1;
                return;
            }
        };
        let time = query.time.timestamp();
        let bucket_start = time - time.rem_euclid(BUCKET_SECS);
        let bucket = self.buckets.entry(bucket_start).or_default();
        let key = NameKeyRef::of(&query);
        if !bucket.contains_key(&key) {
            self.live += 1;
            let stats = QueryStats {
                count: 0,
                first: query.time,
                last: query.time,
                addresses: Vec::new(),
                firewall_action: None,
            };
            bucket.insert(key.to_owned(&query), stats);
        }
        let Some(stats) = bucket.get_mut(&key) else {
            return;
        };
        stats.count += 1;
        stats.first = stats.first.min(query.time);
        stats.last = stats.last.max(query.time);
        for address in query.addresses() {
            if let Err(at) = stats.addresses.binary_search(&address) {
                if stats.addresses.len() >= ADDRESSES_MAX {
                    break;
                }
                stats.addresses.insert(at, address);
            }
        }
        // The strongest action (Option orders None first).
        stats.firewall_action = stats.firewall_action.max(query.firewall_action);
        self.summary.peak_live = self.summary.peak_live.max(self.live);
        self.latest = self.latest.max(time);
        self.hand_over_past_buckets();
    }

    /// Buckets the stream has left behind, then, while over the bound, the oldest.
    fn hand_over_past_buckets(&mut self) {
        let done_before = self
            .latest
            .saturating_sub(self.limits.grace_secs)
            .saturating_sub(BUCKET_SECS);
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() <= done_before || self.live > self.limits.max_live {
                let (start, bucket) = entry.remove_entry();
                self.hand_over(start, bucket);
            } else {
                break;
            }
        }
    }

    fn hand_over(&mut self, bucket_start: i64, bucket: Bucket) {
        self.live -= bucket.len();
        self.summary.aggregates += bucket.len();
        self.ready.extend(bucket.into_iter().map(|(key, stats)| {
            (
                QueryKey {
                    source: key.source,
                    bucket_start,
                    name: key.name,
                    query_type: key.query_type,
                    rcode: key.rcode,
                },
                stats,
            )
        }));
    }

    /// The aggregates handed over since the last call, sorted by asker, bucket, name, type and
    /// response code; empty while every bucket is still live.
    pub fn take_ready(&mut self) -> Vec<(QueryKey, QueryStats)> {
        let mut ready = std::mem::take(&mut self.ready);
        ready.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        ready
    }

    /// Whether a part is waiting for [`Self::take_ready`].
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The last part (every bucket still live), sorted, and the summary of the whole stream.
    pub fn finish(mut self) -> (Vec<(QueryKey, QueryStats)>, Summary) {
        while let Some((start, bucket)) = self.buckets.pop_first() {
            self.hand_over(start, bucket);
        }
        let last = self.take_ready();
        (last, self.summary)
    }
}
