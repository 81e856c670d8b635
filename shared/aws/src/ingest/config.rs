//! The environment every ingest function shares; each source reads its own settings
//! ([`super::Configured`]).

use super::source::Configured;
use std::time::Duration;
use triage_domain::config::{ConfigError, number, required};

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
}

impl IngestConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The shared environment and `L`'s own settings, read together at a function's start-up.
    pub fn from_env_with<L: Configured>() -> Result<(Self, L), ConfigError> {
        Ok((Self::from_env()?, L::from_env()?))
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
        })
    }
}
