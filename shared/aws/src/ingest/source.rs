//! The extension point of ingest: what a log source tells the pipeline.
//!
//! The pipeline ([`Ingestor`](super::Ingestor)) knows SQS batches, S3 notifications, objects,
//! deadlines and writes; a source knows its own objects: which announced keys are not its logs,
//! how large an object it accepts, and how to turn one into context items. Each source is one
//! module here ([`cloudtrail`](super::cloudtrail), [`flowlogs`](super::flowlogs),
//! [`resolver`](super::resolver), [`eks`](super::eks)) over its reader in `triage-logs` and its item layout in
//! [`context_items`](crate::context_items); its function is a few lines of glue, and
//! `triage-cli ingest` reads local files through the same trait.

use super::read::{ObjectError, ObjectStats};
use crate::Item;
use crate::context_items::ObjectId;
use std::io::Read;
use triage_domain::config::ConfigError;

/// One kind of log the ingest functions read into context items.
///
/// Object safe, so the backfill can pick a source at run time; reading is synchronous and
/// CPU-bound (the functions call it on a blocking thread, the object streaming in through a
/// bridge).
pub trait LogSource: Send + Sync + 'static {
    /// Short name for logs and errors (`cloudtrail`, `flowlogs`, `resolver`, `eks`).
    fn name(&self) -> &'static str;

    /// Why an object announced under `key` is not one of this source's log objects (CloudTrail's
    /// digest files, for instance); `None` to read it. Folder markers are never read, whatever
    /// the source says.
    fn ignores(&self, _key: &str) -> Option<&'static str> {
        None
    }

    /// Whether its reader reads CloudWatch Logs subscription batches (`messageType`,
    /// `logGroup`, `logEvents`), so that a subscription filter on the log group may invoke the
    /// function directly ([`Ingestor::ingest_log_batch`](super::Ingestor::ingest_log_batch)).
    fn reads_log_subscriptions(&self) -> bool {
        false
    }

    /// Largest object as stored that is worth opening: checked against S3's `Content-Length`
    /// before the first byte is read. Sources that stream in bounded memory need no cap.
    fn max_object_bytes(&self) -> u64 {
        u64::MAX
    }

    /// Read one object (gzip or plain, as the source's delivery makes it), stored under `key`
    /// (a local file's path for the backfill), into items, handing them to `on_items` part by
    /// part as they are final. Parts already handed over stay valid
    /// on an error: every item is keyed by `id` and its own position, so a retry rewrites the
    /// same keys instead of adding to them. Items expire at `expires_at` (epoch seconds).
    fn read(
        &self,
        input: &mut dyn Read,
        key: &str,
        id: &ObjectId,
        expires_at: i64,
        on_items: &mut dyn FnMut(Vec<Item>),
    ) -> Result<ObjectStats, ObjectError>;
}

/// A source's own settings, read from the function's environment (each source names its own
/// variables; the shared ones are [`IngestConfig`](super::IngestConfig)'s).
pub trait Configured: Sized {
    /// Read from any key-value source (tests pass a map).
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }
}
