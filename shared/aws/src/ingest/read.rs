//! What reading one object gives, whatever its source: items, stats, or why it failed.

use super::fetch::FetchError;
use crate::Item;
use std::collections::BTreeMap;
use std::io;
use triage_domain::dedupe::StoreError;
use triage_logs::{cloudtrail, flowlogs};

/// Read buffer between the source (file, S3 body) and the decompressor or line reader.
pub(super) const BUFFER: usize = 64 * 1024;

/// What reading one object found, for logs and the backfill's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectStats {
    /// Records (flow-log lines after the header, CloudTrail records) read.
    pub records: u64,
    /// Records not used.
    pub skipped: u64,
    /// Skipped records by reason.
    pub skip_reasons: Vec<(String, u64)>,
    /// Bytes after decompression: log volume is priced on it.
    pub uncompressed_bytes: u64,
}

impl ObjectStats {
    /// From a reader's counts: records read, skips by reason, bytes of text.
    pub(super) fn counted<R: ToString>(
        records: u64,
        skipped: &BTreeMap<R, u64>,
        uncompressed_bytes: u64,
    ) -> Self {
        Self {
            records,
            skipped: skipped.values().sum(),
            skip_reasons: skipped
                .iter()
                .map(|(reason, n)| (reason.to_string(), *n))
                .collect(),
            uncompressed_bytes,
        }
    }
}

/// One object read: its items, not yet written.
#[derive(Debug, Clone)]
pub struct ObjectItems {
    pub items: Vec<Item>,
    pub stats: ObjectStats,
}

/// Why an object could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("cannot read: {0}")]
    Read(io::Error),
    #[error("corrupt gzip: {0}")]
    Gzip(io::Error),
    #[error("object {what} more than {limit} bytes (the configured limit)")]
    TooLarge { what: &'static str, limit: u64 },
    #[error(transparent)]
    CloudTrail(#[from] cloudtrail::InputError),
    #[error(transparent)]
    FlowLog(#[from] flowlogs::FlowLogError),
    /// An object a source cannot read, for sources without an error type of their own.
    #[error("{log}: {message}")]
    Invalid { log: &'static str, message: String },
    #[error("writing the context items failed: {0}")]
    Write(StoreError),
    #[error("the parser task did not finish: {0}")]
    Task(String),
}

impl ObjectError {
    /// A JSON log object that failed whole (`log` names the source for the message).
    pub fn of_json_object(e: triage_logs::json_object::InputError, log: &'static str) -> Self {
        use triage_logs::json_object::InputError;
        match e {
            InputError::TooLarge { limit } => Self::TooLarge {
                what: "decompresses to",
                limit,
            },
            InputError::Read(message) => Self::Read(io::Error::other(message)),
            InputError::Json(_) => Self::Invalid {
                log,
                message: e.to_string(),
            },
        }
    }

    /// Whether the same object may succeed later (a network or throttling problem); otherwise
    /// it fails the same way every time and belongs in the dead-letter queue.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Fetch(e) => e.is_retryable(),
            Self::Read(_) => true,
            Self::FlowLog(e) => e.is_retryable(),
            Self::Write(e) => e.is_retryable(),
            Self::Gzip(_)
            | Self::TooLarge { .. }
            | Self::CloudTrail(_)
            | Self::Invalid { .. }
            | Self::Task(_) => false,
        }
    }

    /// A short, stable name for logs and Lambda's `errorType` (`Retryable.*` when retryable).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Fetch(FetchError::NotFound(_)) => "ObjectNotFound",
            Self::Fetch(FetchError::Rejected(_)) => "ObjectFetch",
            Self::Fetch(FetchError::Transient(_)) => "Retryable.ObjectFetch",
            Self::Read(_) => "Retryable.ObjectRead",
            Self::FlowLog(e) if e.is_retryable() => "Retryable.ObjectRead",
            Self::Gzip(_)
            | Self::TooLarge { .. }
            | Self::CloudTrail(_)
            | Self::FlowLog(_)
            | Self::Invalid { .. } => "InvalidObject",
            Self::Write(e) if e.is_retryable() => "Retryable.ContextStore",
            Self::Write(_) => "ContextStore",
            Self::Task(_) => "Internal",
        }
    }
}
