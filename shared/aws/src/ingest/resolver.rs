//! Route 53 Resolver query logs as a [`LogSource`](super::LogSource): the JSON objects Resolver
//! query logging delivers to S3 (gzip or plain; one entry per line, an array or one entry),
//! aggregated per asking instance, name, type, response code and ten minutes
//! ([`triage_logs::resolver`]), laid out by [`resolver_items`](crate::context_items::resolver_items).

use super::json_log::{JsonLog, JsonLogSource};
use crate::Item;
use crate::context_items::{ChunkNumbers, ObjectId};
use std::io::Read;
use triage_logs::bucketed::{Limits, Summary};
use triage_logs::json_object::InputError;
use triage_logs::resolver::{self, QueryKey, QueryStats, SkipReason};

/// Route 53 Resolver query logs. Query logging writes a file per VPC every few minutes, well under
/// the default cap on an object's text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolverLog;

/// The Resolver source, with its cap on an object's text and its bound on memory.
pub type ResolverSource = JsonLogSource<ResolverLog>;

impl JsonLog for ResolverLog {
    const NAME: &'static str = "resolver";
    const DESCRIPTION: &'static str = "Route 53 Resolver query log";
    /// Default 1024, 1-16384.
    const MAX_TEXT_MB_VAR: &'static str = "TRIAGE_RESOLVER_MAX_TEXT_MB";
    /// Default 262144, 1024-16777216.
    const MAX_LIVE_VAR: &'static str = "TRIAGE_RESOLVER_MAX_LIVE_AGGREGATES";
    const DEFAULT_LIMITS: Limits = resolver::DEFAULT_LIMITS;

    type Aggregate = (QueryKey, QueryStats);
    type SkipReason = SkipReason;

    fn read_within(
        &self,
        input: impl Read,
        _key: &str,
        max_text_bytes: u64,
        limits: Limits,
        on_part: impl FnMut(Vec<Self::Aggregate>),
    ) -> Result<Summary<SkipReason>, InputError> {
        resolver::read_object_within(input, max_text_bytes, limits, on_part)
    }

    fn items(
        chunks: &mut ChunkNumbers,
        part: &[Self::Aggregate],
        id: &ObjectId,
        expires_at: i64,
    ) -> Vec<Item> {
        chunks.resolver_items(part, id, expires_at)
    }
}
