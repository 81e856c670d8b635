//! The pipeline: objects from an [`ObjectSource`], read by a [`LogSource`] off the async
//! threads, items to an [`ItemSink`]; per object, per SQS message and per batch.

use super::cloudtrail::{CloudTrailSource, cloudtrail_object_items};
use super::fetch::FetchError;
use super::notification::{Announced, NotificationError, ObjectRef, parse_notification};
use super::read::{ObjectError, ObjectItems, ObjectStats};
use super::source::LogSource;
use crate::context_items::{ObjectId, WritePlan};
use crate::{BatchReport, BatchWriter, Item};
use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use serde_json::Value;
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncRead;
use tokio::sync::mpsc;
use tokio_util::io::SyncIoBridge;
use triage_domain::dedupe::StoreError;

/// CloudTrail parts read ahead of the writes: the reader waits rather than hold more.
const PARTS_IN_FLIGHT: usize = 2;

/// Least time left before the invocation's deadline to start another message of a batch
/// (a GetObject and a few `BatchWriteItem` round trips).
const MIN_START_MARGIN: Duration = Duration::from_secs(2);

/// An object opened for reading.
pub struct OpenedObject {
    pub body: Pin<Box<dyn AsyncRead + Send>>,
    /// Size as stored, when the source knows it before reading.
    pub content_length: Option<u64>,
}

/// Where objects come from: S3 in the functions ([`crate::s3::S3ObjectSource`]), memory in
/// tests ([`MemoryObjects`]).
#[async_trait]
pub trait ObjectSource: Send + Sync {
    async fn open(&self, object: &ObjectRef) -> Result<OpenedObject, FetchError>;
}

/// Where items go: DynamoDB through [`BatchWriter`], memory in tests.
#[async_trait]
pub trait ItemSink: Send + Sync {
    async fn put_all(&self, items: Vec<Item>) -> Result<BatchReport, StoreError>;
}

#[async_trait]
impl ItemSink for BatchWriter {
    async fn put_all(&self, items: Vec<Item>) -> Result<BatchReport, StoreError> {
        BatchWriter::put_all(self, items).await
    }
}

/// Objects held in memory, by `bucket/key`.
#[derive(Debug, Clone, Default)]
pub struct MemoryObjects(pub HashMap<String, Vec<u8>>);

impl MemoryObjects {
    pub fn insert(&mut self, bucket: &str, key: &str, bytes: Vec<u8>) {
        self.0.insert(format!("{bucket}/{key}"), bytes);
    }
}

#[async_trait]
impl ObjectSource for MemoryObjects {
    async fn open(&self, object: &ObjectRef) -> Result<OpenedObject, FetchError> {
        let bytes = self
            .0
            .get(&format!("{}/{}", object.bucket, object.key))
            .cloned()
            .ok_or_else(|| FetchError::NotFound(format!("NoSuchKey: {object}")))?;
        Ok(OpenedObject {
            content_length: Some(bytes.len() as u64),
            body: Box::pin(io::Cursor::new(bytes)),
        })
    }
}

/// One object ingested.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub stats: ObjectStats,
    pub plan: WritePlan,
    /// `BatchWriteItem` calls made.
    pub calls: usize,
}

/// The ingest pipeline of one function: objects from `S`, read as log source `L`, items to `W`.
pub struct Ingestor<S, W, L> {
    objects: S,
    sink: W,
    source: Arc<L>,
    ttl: chrono::Duration,
}

impl<S: ObjectSource, W: ItemSink, L: LogSource> Ingestor<S, W, L> {
    /// Items expire `ttl` after they are written.
    pub fn new(objects: S, sink: W, source: L, ttl: chrono::Duration) -> Self {
        Self {
            objects,
            sink,
            source: Arc::new(source),
            ttl,
        }
    }

    pub fn sink(&self) -> &W {
        &self.sink
    }

    pub fn source(&self) -> &L {
        &self.source
    }

    /// Fetch, parse, aggregate and write one object. The parser is synchronous and CPU-bound:
    /// it reads the async body through a bridge on a blocking thread, so the body streams in
    /// while it is parsed, and the parts it hands over are written while the rest is read:
    /// memory holds what the source keeps live and at most `PARTS_IN_FLIGHT` parts' items.
    pub async fn ingest_object(&self, object: &ObjectRef) -> Result<Ingested, ObjectError> {
        let opened = self.objects.open(object).await?;
        let limit = self.source.max_object_bytes();
        if opened.content_length.is_some_and(|length| length > limit) {
            return Err(ObjectError::TooLarge { what: "is", limit });
        }
        self.ingest_stream(opened.body, &object.key, object.id())
            .await
    }

    /// Read `body` as the source's log stored under `key`, writing its items, keyed by `id`,
    /// part by part while the rest is read.
    pub(super) async fn ingest_stream(
        &self,
        body: Pin<Box<dyn AsyncRead + Send>>,
        key: &str,
        id: ObjectId,
    ) -> Result<Ingested, ObjectError> {
        let (expires_at, source, key) = (self.expires_at(), self.source.clone(), key.to_owned());
        let mut body = SyncIoBridge::new(body);
        let (parts, mut written) = mpsc::channel::<Vec<Item>>(PARTS_IN_FLIGHT);
        let reader = tokio::task::spawn_blocking(move || {
            source.read(&mut body, &key, &id, expires_at, &mut |items| {
                // The writer stops listening only after a failed write, which fails the
                // object anyway.
                let _ = parts.blocking_send(items);
            })
        });
        let (mut plan, mut calls, mut failed) = (WritePlan::default(), 0, None);
        while let Some(items) = written.recv().await {
            if failed.is_some() {
                continue;
            }
            let part = WritePlan::of(&items);
            plan.items += part.items;
            plan.write_units += part.write_units;
            match self.sink.put_all(items).await {
                Ok(report) => calls += report.calls,
                Err(e) => failed = Some(e),
            }
        }
        let stats = reader
            .await
            .map_err(|e| ObjectError::Task(e.to_string()))??;
        match failed {
            Some(e) => Err(ObjectError::Write(e)),
            None => Ok(Ingested { stats, plan, calls }),
        }
    }

    fn expires_at(&self) -> i64 {
        (Utc::now() + self.ttl).timestamp()
    }

    async fn write(&self, read: ObjectItems) -> Result<Ingested, ObjectError> {
        let plan = WritePlan::of(&read.items);
        let report = self
            .sink
            .put_all(read.items)
            .await
            .map_err(ObjectError::Write)?;
        Ok(Ingested {
            stats: read.stats,
            plan,
            calls: report.calls,
        })
    }

    /// Every object one SQS message announces. The message fails if any of its objects does;
    /// the others are still written (a retry rewrites them to the same items).
    pub async fn ingest_message(&self, body: Option<&str>) -> Result<usize, MessageError> {
        let body = body.ok_or(NotificationError::NoBody)?;
        let mut ingested = 0;
        let mut failed = Vec::new();
        for announced in parse_notification(body, &*self.source)? {
            let object = match announced {
                Announced::Object(object) => object,
                Announced::Ignored(why) => {
                    tracing::info!(reason = %why, "nothing to ingest");
                    continue;
                }
            };
            let started = Instant::now();
            match self.ingest_object(&object).await {
                Ok(done) => {
                    ingested += 1;
                    tracing::info!(
                        object = %object,
                        records = done.stats.records,
                        skipped = done.stats.skipped,
                        skip_reasons = ?done.stats.skip_reasons,
                        uncompressed_bytes = done.stats.uncompressed_bytes,
                        items = done.plan.items,
                        write_units = done.plan.write_units,
                        calls = done.calls,
                        ms = started.elapsed().as_millis() as u64,
                        "ingested"
                    );
                }
                Err(error) => failed.push((object, error)),
            }
        }
        if failed.is_empty() {
            Ok(ingested)
        } else {
            Err(MessageError::Objects(failed))
        }
    }

    /// A batch of SQS messages: each message is ingested on its own, and the response lists
    /// exactly the messages that failed, so SQS redelivers only those and, after the queue's
    /// `maxReceiveCount`, moves them to its dead-letter queue. Failed means: a bad object, a
    /// transient error, a malformed body, or not started because the invocation's `deadline` was
    /// near (an invocation cut off by its timeout would fail the whole batch, good messages too).
    pub async fn ingest_batch(
        &self,
        event: &SqsEvent,
        deadline: Option<Instant>,
    ) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        let (mut ok, mut deferred) = (0, 0);
        // Time left that starting another message needs: twice the slowest so far, at least
        // MIN_START_MARGIN. The first message always runs, whatever the deadline says.
        let mut slowest = Duration::ZERO;
        for (index, message) in event.records.iter().enumerate() {
            let message_id = message.message_id.clone().unwrap_or_default();
            let margin = (slowest * 2).max(MIN_START_MARGIN);
            if index > 0 && deadline.is_some_and(|d| Instant::now() + margin > d) {
                deferred += 1;
                response.add_failure(message_id);
                continue;
            }
            let started = Instant::now();
            match self.ingest_message(message.body.as_deref()).await {
                Ok(_) => ok += 1,
                Err(error) => {
                    error.log(&message_id);
                    response.add_failure(message_id);
                }
            }
            slowest = slowest.max(started.elapsed());
        }
        if deferred > 0 {
            tracing::warn!(
                deferred,
                "messages not started: the invocation's deadline is near; SQS redelivers them"
            );
        }
        tracing::info!(
            source = self.source.name(),
            messages = event.records.len(),
            ok,
            failed = response.batch_item_failures.len(),
            "batch done"
        );
        response
    }
}

impl<S: ObjectSource, W: ItemSink> Ingestor<S, W, CloudTrailSource> {
    /// Aggregate and write one EventBridge CloudTrail event (`AWS API Call via CloudTrail`). Its
    /// items are keyed by the event's `id`, so a redelivery overwrites them.
    pub async fn ingest_event(&self, event: &Value) -> Result<Ingested, ObjectError> {
        let identity = match event.get("id").and_then(Value::as_str) {
            Some(id) => format!("eventbridge:{id}"),
            None => format!("eventbridge-body:{event}"),
        };
        let bytes = serde_json::to_vec(event).map_err(|e| ObjectError::Task(e.to_string()))?;
        let read = cloudtrail_object_items(
            &bytes,
            &self.source.limits,
            &ObjectId::live(&identity),
            self.expires_at(),
        )?;
        self.write(read).await
    }
}

/// Why one SQS message failed.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Notification(#[from] NotificationError),
    #[error("{} object(s) failed", .0.len())]
    Objects(Vec<(ObjectRef, ObjectError)>),
}

impl MessageError {
    /// One log line per failure, with the reason; `error` when it is permanent (it will reach
    /// the dead-letter queue), `warn` when a retry may succeed.
    pub fn log(&self, message_id: &str) {
        match self {
            Self::Notification(e) => tracing::error!(
                message_id,
                error = %e,
                error_type = "InvalidMessage",
                "message is not a usable S3 notification; it goes to the dead-letter queue after the queue's retries"
            ),
            Self::Objects(failed) => {
                for (object, e) in failed {
                    if e.is_retryable() {
                        tracing::warn!(message_id, object = %object, error = %e, error_type = e.error_type(), "object failed; SQS will redeliver its message");
                    } else {
                        tracing::error!(message_id, object = %object, error = %e, error_type = e.error_type(), "object cannot be ingested; its message goes to the dead-letter queue after the queue's retries");
                    }
                }
            }
        }
    }
}

/// When an invocation must be done, from Lambda's deadline (milliseconds since the epoch). A
/// deadline already past when the invocation starts is not a real one (`cargo lambda watch`
/// sends the constant 600000, ten minutes after 1970): no deadline then.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Option<Instant> {
    let now_ms = Utc::now().timestamp_millis();
    let remaining = u64::try_from(i64::try_from(deadline_ms).ok()? - now_ms).ok()?;
    Some(Instant::now() + Duration::from_millis(remaining))
}
