//! Log objects in, context items out: what the two ingest functions do per SQS message and per
//! S3 object, and what the backfill (`triage-cli ingest`) does per file. The steps, each in its
//! own file:
//!
//! - [`notification`]: one SQS message body (an S3 event notification, also inside an SNS
//!   envelope) to the objects it announces ([`parse_notification`]), keys URL-decoded. S3's
//!   `s3:TestEvent`, removals, folder markers and CloudTrail digest files are
//!   [`Announced::Ignored`], with the reason. [`detect_trigger`] tells an SQS batch, an
//!   EventBridge event and a CloudWatch Logs subscription batch apart.
//! - [`source`]: [`LogSource`], what a log source tells the pipeline: which keys are not its
//!   logs, how large an object it opens, and how one object's bytes (any `Read`: an S3 body
//!   bridged from async, a file) become items, handed over part by part, with [`ObjectStats`].
//!   Synchronous and CPU-bound: the functions run it in `spawn_blocking`. One module per
//!   source: [`cloudtrail`] ([`CloudTrailSource`], memory bounded by
//!   [`CloudTrailLimits::max_live_aggregates`]), [`flowlogs`] ([`FlowLogSource`], bounded by
//!   its live aggregates), [`resolver`] ([`ResolverSource`]), [`eks`] ([`EksAuditSource`]), the
//!   last two one [`JsonLogSource`] over what tells them apart ([`json_log`]).
//! - [`read`]: what every source returns: [`ObjectStats`], [`ObjectError`].
//! - [`pipeline`]: [`Ingestor`], the per-object pipeline (open through an [`ObjectSource`], read
//!   off the async threads, write through an [`ItemSink`] while the rest is read) and the
//!   per-batch one, which turns an SQS event into a response whose batch item failures are
//!   exactly the messages that could not be ingested, so one bad object never makes the good
//!   ones retry.
//! - [`subscription`]: a CloudWatch Logs subscription's batch, for a source whose reader reads
//!   them ([`LogSource::reads_log_subscriptions`]): the EKS audit log, whose log group a
//!   subscription filter can send straight to `ingest-eks`.
//! - [`config`]: [`IngestConfig`], the environment every ingest function shares; each source
//!   reads its own settings ([`Configured`]).
//!
//! An object is all or nothing: an error yields no items, so nothing is half-written by the
//! parser, and items are keyed by the object's
//! [`ObjectId`](crate::context_items::ObjectId) (bucket, key, version or ETag), so a
//! redelivered notification overwrites the same items instead of counting twice.

pub mod cloudtrail;
pub mod config;
pub mod eks;
pub mod fetch;
pub mod flowlogs;
pub mod json_log;
pub mod notification;
pub mod pipeline;
pub mod read;
pub mod resolver;
pub mod source;
pub mod subscription;

pub use cloudtrail::{
    CloudTrailLimits, CloudTrailSource, cloudtrail_object_items, load_cloudtrail, read_cloudtrail,
    stream_cloudtrail,
};
pub use config::IngestConfig;
pub use eks::{ClusterNames, EksAuditLog, EksAuditSource};
pub use fetch::FetchError;
pub use flowlogs::{FlowLogSource, read_flow_log, read_flow_log_within};
pub use json_log::{JsonLog, JsonLogSource};
pub use notification::{
    Announced, NotificationError, ObjectRef, Trigger, detect_trigger, parse_notification,
};
pub use pipeline::{
    Ingested, Ingestor, ItemSink, MemoryObjects, MessageError, ObjectSource, OpenedObject,
    deadline_from_epoch_ms,
};
pub use read::{ObjectError, ObjectItems, ObjectStats};
pub use resolver::{ResolverLog, ResolverSource};
pub use source::{Configured, LogSource};
pub use subscription::batch_id;

#[cfg(test)]
mod tests;
