//! Log objects in, context items out: what the two ingest functions do per SQS message and per
//! S3 object, and what the backfill (`triage-cli ingest`) does per file. The steps, each in its
//! own file:
//!
//! - [`notification`]: one SQS message body (an S3 event notification, also inside an SNS
//!   envelope) to the objects it announces ([`parse_notification`]), keys URL-decoded. S3's
//!   `s3:TestEvent`, removals, folder markers and CloudTrail digest files are
//!   [`Announced::Ignored`], with the reason. [`detect_trigger`] tells an SQS batch from an
//!   EventBridge event.
//! - [`read`]: one object's bytes (any `Read`: an S3 body bridged from async, a file) parsed,
//!   aggregated and laid out as items, with [`ObjectStats`] ([`read_flow_log`],
//!   [`read_cloudtrail`]). Synchronous and CPU-bound: the functions run them in
//!   `spawn_blocking`. Both stream: flow logs with memory bounded by the aggregates, CloudTrail
//!   ([`stream_cloudtrail`]) by [`CloudTrailLimits::max_live_aggregates`], its items handed
//!   over part by part and written while the rest is read.
//! - [`pipeline`]: [`Ingestor`], the per-object pipeline (open through an [`ObjectSource`], read
//!   off the async threads, write through an [`ItemSink`]) and the per-batch one, which turns an
//!   SQS event into a response whose batch item failures are exactly the messages that could not
//!   be ingested, so one bad object never makes the good ones retry.
//! - [`config`]: [`IngestConfig`], the functions' environment.
//!
//! An object is all or nothing: an error yields no items, so nothing is half-written by the
//! parser, and items are keyed by the object's
//! [`ObjectId`](crate::context_items::ObjectId) (bucket, key, version or ETag), so a
//! redelivered notification overwrites the same items instead of counting twice.

pub mod config;
pub mod fetch;
pub mod notification;
pub mod pipeline;
pub mod read;

pub use config::IngestConfig;
pub use fetch::FetchError;
pub use notification::{
    Announced, NotificationError, ObjectRef, Trigger, detect_trigger, parse_notification,
};
pub use pipeline::{
    Ingested, Ingestor, ItemSink, MemoryObjects, MessageError, ObjectSource, OpenedObject,
    deadline_from_epoch_ms,
};
pub use read::{
    CloudTrailLimits, ObjectError, ObjectItems, ObjectStats, cloudtrail_object_items,
    load_cloudtrail, read_cloudtrail, read_flow_log, read_flow_log_within, read_resolver_log,
    stream_cloudtrail,
};

use std::fmt;

/// Which log an ingest function reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    CloudTrail,
    FlowLogs,
}

impl LogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CloudTrail => "cloudtrail",
            Self::FlowLogs => "flowlogs",
        }
    }

    /// Why a key announced to this kind's function is not a log object to read, if it is not.
    pub fn ignores(self, key: &str) -> Option<&'static str> {
        if key.ends_with('/') {
            return Some("a folder marker, not a log object");
        }
        match self {
            // AWSLogs/<account>/CloudTrail-Digest/<region>/...: hashes for log file integrity
            // validation, no events.
            Self::CloudTrail if key.split('/').any(|part| part == "CloudTrail-Digest") => {
                Some("a CloudTrail digest file (integrity hashes, no events)")
            }
            _ => None,
        }
    }
}

impl fmt::Display for LogKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
