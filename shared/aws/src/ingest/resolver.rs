//! Route 53 Resolver query logs as a [`LogSource`]: the JSON objects Resolver query logging
//! delivers to S3 (gzip or plain; one entry per line, an array or one entry), aggregated per
//! asking instance, name, type, response code and ten minutes ([`triage_logs::resolver`]), laid
//! out by [`resolver_items`].

use super::read::{ObjectError, ObjectItems, ObjectStats};
use super::source::{Configured, LogSource};
use crate::Item;
use crate::context_items::{ObjectId, resolver_items};
use std::io::{self, Read};
use triage_domain::config::{ConfigError, number};
use triage_logs::resolver;

/// The Resolver source, with its cap on an object's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolverSource {
    /// Largest object once decompressed: Resolver delivers a file per VPC about every five
    /// minutes, well under this; the cap stops a gzip bomb or an object that is not Resolver's.
    pub max_text_bytes: u64,
}

impl ResolverSource {
    /// 1 GiB of text, a few million entries.
    pub const DEFAULT_MAX_TEXT_BYTES: u64 = 1 << 30;
}

impl Default for ResolverSource {
    fn default() -> Self {
        Self {
            max_text_bytes: Self::DEFAULT_MAX_TEXT_BYTES,
        }
    }
}

impl Configured for ResolverSource {
    /// `TRIAGE_RESOLVER_MAX_TEXT_MB` (default 1024, 1-16384): the cap on an object's text.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let megabytes = number(&get, "TRIAGE_RESOLVER_MAX_TEXT_MB", 1024, 1, 16_384)?;
        Ok(Self {
            max_text_bytes: (megabytes as u64) << 20,
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
        let read = read_resolver_log(input, self.max_text_bytes, id, expires_at)?;
        on_items(read.items);
        Ok(read.stats)
    }
}

/// Read a Route 53 Resolver query log object (gzip or plain; entries one per line, an array or
/// one entry) into items; its text may not exceed `max_text_bytes`.
pub fn read_resolver_log(
    input: impl Read,
    max_text_bytes: u64,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let (aggregates, summary) =
        resolver::read_object(input, max_text_bytes).map_err(|e| match e {
            resolver::InputError::TooLarge { limit } => ObjectError::TooLarge {
                what: "decompresses to",
                limit,
            },
            resolver::InputError::Read(message) => ObjectError::Read(io::Error::other(message)),
            resolver::InputError::Json(_) => ObjectError::Invalid {
                log: "Route 53 Resolver query log",
                message: e.to_string(),
            },
        })?;
    Ok(ObjectItems {
        items: resolver_items(&aggregates, id, expires_at),
        stats: ObjectStats::counted(summary.records, &summary.skipped, summary.text_bytes),
    })
}
