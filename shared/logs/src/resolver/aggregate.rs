//! Compacting queries: one aggregate per asker, ten-minute bucket, name, type and response code,
//! with a count, the first and last time, the addresses answered and the strongest DNS Firewall
//! action. An instance resolves the same few names all day (its package mirror, its APIs), so
//! this keeps what triage asks ("what did the instance resolve around the finding, what was new,
//! did it then connect to the answer") for a few rows per bucket, however chatty the resolver.

use super::record::{Asker, Query, SkipReason, Source};
use crate::bucketed::Buckets;
pub use crate::bucketed::Limits;
use chrono::{DateTime, Utc};
use hashbrown::Equivalent;
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
pub type Summary = crate::bucketed::Summary<SkipReason>;

/// The flow reader's bound. A live aggregate takes about 700 bytes (four strings of its key,
/// counts, a few addresses, the map's own overhead), so about 190 MB at the bound: a fifth of the
/// function's memory, for one part per bucket on all but the busiest VPCs (BENCHMARKS.md).
/// Resolver writes entries in about the order it answered them, a little out of order across its
/// hosts: ten minutes of slack keeps almost every bucket in one part. A query log of a busy VPC
/// can name hundreds of thousands of distinct names an hour, hence a bound at all.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_live: 262_144,
    grace_secs: 600,
};

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

/// Queries in, aggregates out, a part at a time, within [`Limits`] ([`crate::bucketed`]).
#[derive(Debug)]
pub struct Aggregator {
    buckets: Buckets<NameKey, QueryStats, QueryKey>,
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
            summary: Summary::default(),
        }
    }

    pub fn push(&mut self, query: Result<Query, SkipReason>) {
        let query = match query {
            Ok(query) => query,
            Err(reason) => return self.summary.skip(reason),
        };
        self.summary.records += 1;
        let time = query.time.timestamp();
        let key = NameKeyRef::of(&query);
        let stats = self.buckets.get_or_insert_with(time, &key, || {
            let stats = QueryStats {
                count: 0,
                first: query.time,
                last: query.time,
                addresses: Vec::new(),
                firewall_action: None,
            };
            (key.to_owned(&query), stats)
        });
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
        self.buckets.hand_over_past(time, query_key);
    }

    /// The aggregates handed over since the last call, sorted by asker, bucket, name, type and
    /// response code; empty while every bucket is still live.
    pub fn take_ready(&mut self) -> Vec<(QueryKey, QueryStats)> {
        self.buckets.take_ready()
    }

    /// Whether a part is waiting for [`Self::take_ready`].
    pub fn has_ready(&self) -> bool {
        self.buckets.has_ready()
    }

    /// The last part (every bucket still live), sorted, and the summary of the whole stream.
    pub fn finish(self) -> (Vec<(QueryKey, QueryStats)>, Summary) {
        self.buckets.finish(query_key).into_summary(self.summary)
    }
}

fn query_key(bucket_start: i64, key: NameKey) -> QueryKey {
    QueryKey {
        source: key.source,
        bucket_start,
        name: key.name,
        query_type: key.query_type,
        rcode: key.rcode,
    }
}
