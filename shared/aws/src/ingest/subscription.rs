//! CloudWatch Logs subscription batches: for a log CloudWatch Logs holds first (the EKS control
//! plane's audit log), a subscription filter on its log group can invoke the ingest function
//! directly, with no Firehose stream, bucket or queue between. Lambda invokes it
//! asynchronously: a batch that fails is retried twice, then goes to the function's
//! dead-letter queue.
//!
//! A batch is one log stream's events, read by the source exactly as a Firehose delivery of the
//! same payload would be (the source names its cluster from the log group), and keyed by its
//! log group, stream and event IDs, so a redelivered batch rewrites the same items.

use super::pipeline::{Ingested, Ingestor, ItemSink, ObjectSource};
use super::read::ObjectError;
use super::source::LogSource;
use crate::context_items::ObjectId;
use aws_lambda_events::cloudwatch_logs::LogData;

/// What CloudWatch Logs sends once when a subscription is created, to check the destination.
const CONTROL_MESSAGE: &str = "CONTROL_MESSAGE";

/// A batch's identity: the same events redelivered get the same ID.
pub fn batch_id(batch: &LogData) -> ObjectId {
    let first = batch.log_events.first().map_or("", |e| e.id.as_str());
    let last = batch.log_events.last().map_or("", |e| e.id.as_str());
    ObjectId::of(&format!(
        "awslogs:{}:{}:{first}:{last}:{}",
        batch.log_group,
        batch.log_stream,
        batch.log_events.len()
    ))
}

impl<S: ObjectSource, W: ItemSink, L: LogSource> Ingestor<S, W, L> {
    /// Ingest one subscription batch; `None` for the control message a new subscription sends.
    /// A source whose reader does not read subscription batches refuses them: an error, so the
    /// batch reaches the dead-letter queue instead of vanishing.
    pub async fn ingest_log_batch(&self, batch: &LogData) -> Result<Option<Ingested>, ObjectError> {
        if batch.message_type == CONTROL_MESSAGE {
            return Ok(None);
        }
        if !self.source().reads_log_subscriptions() {
            return Err(ObjectError::Invalid {
                log: self.source().name(),
                message: "this source does not read CloudWatch Logs subscription batches".into(),
            });
        }
        // Handed to the reader as the payload Firehose would have delivered.
        let payload = serde_json::to_vec(batch).map_err(|e| ObjectError::Task(e.to_string()))?;
        let body = Box::pin(std::io::Cursor::new(payload));
        self.ingest_stream(body, &batch.log_group, batch_id(batch))
            .await
            .map(Some)
    }
}
