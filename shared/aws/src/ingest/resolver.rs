//! Route 53 Resolver query logs as a [`LogSource`]: the JSON objects Resolver query logging
//! delivers to S3 (gzip or plain; one entry per line, an array or one entry), aggregated per
//! asking instance, name, type, response code and ten minutes ([`triage_logs::resolver`]), laid
//! out by [`resolver_items`].

use super::read::{ObjectError, ObjectItems, ObjectStats};
use super::source::{Configured, LogSource};
use crate::Item;
use crate::context_items::{ChunkNumbers, ObjectId};
use std::io::Read;
use triage_domain::config::{ConfigError, number};
use triage_logs::resolver;

/// The Resolver source, with its cap on an object's text and its bound on memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolverSource {
    /// Largest object once decompressed: query logging writes a file per VPC every few minutes,
    /// well under this; the cap stops a gzip bomb or an object that is not Resolver's.
    pub max_text_bytes: u64,
    /// Live aggregates held while an object streams in.
    pub limits: resolver::Limits,
}

impl ResolverSource {
    /// 1 GiB of text, a few million entries.
    pub const DEFAULT_MAX_TEXT_BYTES: u64 = 1 << 30;
}

impl Default for ResolverSource {
    fn default() -> Self {
        Self {
            max_text_bytes: Self::DEFAULT_MAX_TEXT_BYTES,
            limits: resolver::DEFAULT_LIMITS,
        }
    }
}

impl Configured for ResolverSource {
    /// `TRIAGE_RESOLVER_MAX_TEXT_MB` (default 1024, 1-16384): the cap on an object's text.
    /// `TRIAGE_RESOLVER_MAX_LIVE_AGGREGATES` (default 262144, 1024-16777216): most aggregates
    /// held while an object streams in; bounds the function's memory whatever the object's size.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let megabytes = number(&get, "TRIAGE_RESOLVER_MAX_TEXT_MB", 1024, 1, 16_384)?;
        let max_live = number(
            &get,
            "TRIAGE_RESOLVER_MAX_LIVE_AGGREGATES",
            resolver::DEFAULT_LIMITS.max_live as i64,
            1024,
            16_777_216,
        )?;
        Ok(Self {
            max_text_bytes: (megabytes as u64) << 20,
            limits: resolver::Limits {
                max_live: max_live as usize,
                ..resolver::DEFAULT_LIMITS
            },
        })
    }
}

impl LogSource for ResolverSource {
    fn name(&self) -> &'static str {
        "resolver"
    }

    fn read(
        &self,
        input: &mut dyn Read,
        id: &ObjectId,
        expires_at: i64,
        on_items: &mut dyn FnMut(Vec<Item>),
    ) -> Result<ObjectStats, ObjectError> {
        stream_resolver_log(input, self, id, expires_at, on_items)
    }
}

/// Read a Route 53 Resolver query log object (gzip or plain; entries one per line, an array or
/// one entry) into items held in memory, within `max_text_bytes` of text and with no bound on
/// live aggregates: one part, for tests and small objects.
pub fn read_resolver_log(
    input: impl Read,
    max_text_bytes: u64,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let source = ResolverSource {
        max_text_bytes,
        limits: resolver::Limits::UNBOUNDED,
    };
    let mut items = Vec::new();
    let stats = stream_resolver_log(input, &source, id, expires_at, &mut |part| {
        items.extend(part)
    })?;
    Ok(ObjectItems { items, stats })
}

/// Read a Resolver query log object as it streams in, handing its items to `on_items` part by
/// part, each part's chunks numbered after the earlier parts' so that none overwrites another
/// and a retry writes the same keys again.
pub fn stream_resolver_log(
    input: impl Read,
    source: &ResolverSource,
    id: &ObjectId,
    expires_at: i64,
    on_items: &mut dyn FnMut(Vec<Item>),
) -> Result<ObjectStats, ObjectError> {
    let mut chunks = ChunkNumbers::default();
    let summary =
        resolver::read_object_within(input, source.max_text_bytes, source.limits, |part| {
            on_items(chunks.resolver_items(&part, id, expires_at))
        })
        .map_err(|e| ObjectError::of_json_object(e, "Route 53 Resolver query log"))?;
    Ok(ObjectStats::counted(
        summary.records,
        &summary.skipped,
        summary.text_bytes,
    ))
}
