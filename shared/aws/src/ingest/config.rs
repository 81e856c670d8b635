//! The ingest functions' environment.

use std::time::Duration;
use triage_domain::config::{ConfigError, number, required};
use triage_logs::cloudtrail::DEFAULT_MAX_LIVE_AGGREGATES;
use triage_logs::flowlogs;

/// The ingest functions' environment, read once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestConfig {
    /// `TRIAGE_TABLE_NAME` (required): the table the context items go to.
    pub table_name: String,
    /// `TRIAGE_CONTEXT_TTL_DAYS` (default 90, 1-3650): how long context items are kept.
    pub context_ttl: chrono::Duration,
    /// `TRIAGE_AWS_TIMEOUT_MS` (default 3000, 100-60000): per-attempt timeout of every AWS call,
    /// and the longest wait for the next bytes of an S3 body.
    pub aws_timeout: Duration,
    /// `TRIAGE_CLOUDTRAIL_MAX_LIVE_AGGREGATES` (default 100000, 1000-10000000): most CloudTrail
    /// aggregates held while an object streams in before a part is written; bounds the
    /// function's memory whatever the object's size. Used by the CloudTrail function only.
    pub cloudtrail_max_live_aggregates: usize,
    /// `TRIAGE_FLOW_MAX_LIVE_AGGREGATES` (default 262144, 1024-16777183): most flow aggregates
    /// held while an object streams in (about 112 bytes each) before the oldest time bucket is
    /// flushed to items; bounds the function's memory whatever the object's size. Used by the
    /// flow-log function only.
    pub flow_max_live_aggregates: usize,
}

impl IngestConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read from any key-value source (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name, default, min, max| number(&get, name, default, min, max);
        Ok(Self {
            table_name: required(&get, "TRIAGE_TABLE_NAME")?,
            context_ttl: chrono::Duration::days(number("TRIAGE_CONTEXT_TTL_DAYS", 90, 1, 3650)?),
            aws_timeout: Duration::from_millis(
                number("TRIAGE_AWS_TIMEOUT_MS", 3000, 100, 60_000)? as u64
            ),
            cloudtrail_max_live_aggregates: number(
                "TRIAGE_CLOUDTRAIL_MAX_LIVE_AGGREGATES",
                DEFAULT_MAX_LIVE_AGGREGATES as i64,
                1000,
                10_000_000,
            )? as usize,
            flow_max_live_aggregates: number(
                "TRIAGE_FLOW_MAX_LIVE_AGGREGATES",
                flowlogs::Limits::DEFAULT.max_live as i64,
                1024,
                16_777_183,
            )? as usize,
        })
    }
}
