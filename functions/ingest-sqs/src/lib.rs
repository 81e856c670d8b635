//! The runtime glue every ingest Lambda fed by S3 notifications through SQS shares (flow logs,
//! Resolver query logs, EKS audit logs): read the configuration of its log source, connect, and
//! answer each batch with the messages that could not be ingested, so that only those are
//! redelivered, then dead-lettered after the queue's `maxReceiveCount`. A batch never fails as a
//! whole.
//!
//! A source whose log CloudWatch Logs holds first (the EKS audit log) may also be invoked by a
//! subscription filter on its log group: such a batch is ingested whole or fails, and a failed
//! one is retried by Lambda, then sent to the function's dead-letter queue.
//!
//! A crate of its own, beside the functions: the Lambda runtime stays out of the library crates,
//! and a new log source's function is its `main` calling [`serve`] with its source.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Diagnostic, LambdaEvent, run, service_fn};
use serde_json::{Value, json};
use std::time::Instant;
use triage_aws::ingest::{
    Configured, IngestConfig, Ingestor, ItemSink, LogSource, ObjectError, ObjectSource, Trigger,
    deadline_from_epoch_ms, detect_trigger,
};
use triage_aws::s3::connect_ingest;

/// Serve the invocations of the log source `L` until the runtime stops. A bad configuration is
/// logged and ends the start-up: Lambda reports the init error.
pub async fn serve<L: Configured + LogSource>() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (config, source) = IngestConfig::from_env_with::<L>()
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let pipeline = connect_ingest(&config, source).await;
    let pipeline = &pipeline;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_from_epoch_ms(event.context.deadline);
        handle(pipeline, event.payload, deadline).await
    }))
    .await
}

/// An error for the runtime, which reports `error_type` to Lambda: `InvalidEvent` for what will
/// fail the same way every time, `Retryable.*` for what may pass later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    pub error_type: &'static str,
    pub message: String,
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Diagnostic {
            error_type: e.error_type.to_owned(),
            error_message: e.message,
        }
    }
}

impl HandlerError {
    /// An invocation that is none of the function's triggers.
    pub fn invalid(message: impl Into<String>) -> Self {
        let message = message.into();
        tracing::error!(error = %message, error_type = "InvalidEvent", "unexpected invocation");
        Self {
            error_type: "InvalidEvent",
            message,
        }
    }

    /// A single event or batch that could not be ingested, logged with why and whether Lambda's
    /// retries may help.
    pub fn failed(e: &ObjectError) -> Self {
        Self::failed_as(e, e.error_type())
    }

    /// [`HandlerError::failed`], reported as `error_type`.
    pub fn failed_as(e: &ObjectError, error_type: &'static str) -> Self {
        if e.is_retryable() {
            tracing::warn!(error = %e, error_type, "ingest failed; Lambda will retry");
        } else {
            tracing::error!(error = %e, error_type, "rejected; it goes to the dead-letter queue after retries");
        }
        Self {
            error_type,
            message: e.to_string(),
        }
    }
}

/// An SQS batch of S3 notifications, answered with the messages that could not be ingested.
pub async fn answer_batch<S: ObjectSource, W: ItemSink, L: LogSource>(
    pipeline: &Ingestor<S, W, L>,
    batch: &SqsEvent,
    deadline: Option<Instant>,
) -> Result<Value, HandlerError> {
    let response: SqsBatchResponse = pipeline.ingest_batch(batch, deadline).await;
    // Should this ever fail, the error fails the whole batch: redelivered, not lost.
    serde_json::to_value(&response).map_err(|e| HandlerError {
        error_type: "Retryable.Internal",
        message: e.to_string(),
    })
}

/// One invocation: an SQS batch of S3 notifications (answered with its failed messages) or a
/// CloudWatch Logs subscription batch (ingested whole, or an error).
pub async fn handle<S: ObjectSource, W: ItemSink, L: LogSource>(
    pipeline: &Ingestor<S, W, L>,
    payload: Value,
    deadline: Option<Instant>,
) -> Result<Value, HandlerError> {
    match detect_trigger(payload).map_err(|e| HandlerError::invalid(e.to_string()))? {
        Trigger::Sqs(batch) => answer_batch(pipeline, &batch, deadline).await,
        Trigger::LogSubscription(event) => {
            let batch = &event.aws_logs.data;
            let started = Instant::now();
            match pipeline.ingest_log_batch(batch).await {
                Ok(None) => {
                    tracing::info!(log_group = %batch.log_group, "subscription control message");
                    Ok(json!({"records": 0, "items": 0}))
                }
                Ok(Some(done)) => {
                    tracing::info!(
                        log_group = %batch.log_group,
                        log_stream = %batch.log_stream,
                        events = batch.log_events.len(),
                        records = done.stats.records,
                        skipped = done.stats.skipped,
                        skip_reasons = ?done.stats.skip_reasons,
                        items = done.plan.items,
                        write_units = done.plan.write_units,
                        ms = started.elapsed().as_millis() as u64,
                        "ingested"
                    );
                    Ok(json!({"records": done.stats.records, "items": done.plan.items}))
                }
                Err(e) => Err(HandlerError::failed(&e)),
            }
        }
        Trigger::EventBridge(_) => Err(HandlerError::invalid(
            "an EventBridge event invoked a function that reads S3 notifications through SQS",
        )),
    }
}
