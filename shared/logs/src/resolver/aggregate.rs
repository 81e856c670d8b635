//! Compacting queries: one aggregate per asker, ten-minute bucket, name, type and response code,
//! with a count, the first and last time, the addresses answered and the strongest DNS Firewall
//! action. An instance resolves the same few names all day (its package mirror, its APIs), so
//! this keeps what triage asks ("what did the instance resolve around the finding, what was new,
//! did it then connect to the answer") for a few rows per bucket, however chatty the resolver.

use super::record::{Query, SkipReason, Source};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    pub addresses: BTreeSet<String>,
    /// `BLOCK` over `ALERT` over `ALLOW`: what the firewall did at worst.
    pub firewall_action: Option<String>,
}

/// What reading an object found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
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

/// Queries in, aggregates out.
#[derive(Debug, Default)]
pub struct Aggregator {
    aggregates: HashMap<QueryKey, QueryStats, foldhash::fast::RandomState>,
    summary: Summary,
}

fn firewall_rank(action: Option<&str>) -> u8 {
    match action {
        Some("BLOCK") => 3,
        Some("ALERT") => 2,
        Some(_) => 1,
        None => 0,
    }
}

impl Aggregator {
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
        let key = QueryKey {
            source: query.source,
            bucket_start: time - time.rem_euclid(BUCKET_SECS),
            name: query.name,
            query_type: query.query_type,
            rcode: query.rcode,
        };
        let stats = self.aggregates.entry(key).or_insert_with(|| QueryStats {
            count: 0,
            first: query.time,
            last: query.time,
            addresses: BTreeSet::new(),
            firewall_action: None,
        });
        stats.count += 1;
        stats.first = stats.first.min(query.time);
        stats.last = stats.last.max(query.time);
        for address in query.addresses {
            if stats.addresses.len() >= ADDRESSES_MAX {
                break;
            }
            stats.addresses.insert(address);
        }
        if firewall_rank(query.firewall_action.as_deref())
            > firewall_rank(stats.firewall_action.as_deref())
        {
            stats.firewall_action = query.firewall_action;
        }
    }

    /// The aggregates, sorted by asker, bucket, name, type and response code.
    pub fn finish(mut self) -> (Vec<(QueryKey, QueryStats)>, Summary) {
        self.summary.aggregates = self.aggregates.len();
        let mut aggregates: Vec<_> = self.aggregates.into_iter().collect();
        aggregates.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        (aggregates, self.summary)
    }
}
