//! The `triage` Lambda: EventBridge `GuardDuty Finding` -> dedupe -> classify -> SNS notice.
//!
//! Everything but the runtime glue lives in the library crates (`triage-domain`, `triage-aws`), so `triage-cli replay` runs the same
//! code. Errors carry an `errorType` that tells a poison event (`InvalidEvent`, straight to the
//! dead-letter queue after Lambda's retries) from a transient failure (`Retryable.*`).

use chrono::{TimeZone, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent, run, service_fn};
use serde_json::{Value, json};
use triage_aws::{DynamoDedupeStore, SnsPublisher, connect};
use triage_domain::config::Config;
use triage_domain::pipeline::{Triage, TriageError};

type Pipeline = Triage<DynamoDedupeStore, SnsPublisher>;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let pipeline = connect(&config).await;
    let pipeline = &pipeline;
    run(service_fn(move |event: LambdaEvent<Value>| {
        handle(pipeline, event)
    }))
    .await
}

/// Wraps [`TriageError`] for the runtime, which reports `error_type` to Lambda.
#[derive(Debug)]
struct HandlerError(TriageError);

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Diagnostic {
            error_type: e.0.error_type().to_owned(),
            error_message: e.0.to_string(),
        }
    }
}

async fn handle(pipeline: &Pipeline, event: LambdaEvent<Value>) -> Result<Value, HandlerError> {
    let now = Utc::now();
    // The lease lasts as long as this invocation can: Lambda kills us at the deadline.
    let deadline = Utc
        .timestamp_millis_opt(event.context.deadline as i64)
        .single()
        .unwrap_or(now + chrono::Duration::seconds(30));
    match pipeline.handle_raw(event.payload, deadline, now).await {
        Ok(triaged) => {
            let outcome = &triaged.outcome;
            tracing::info!(
                finding_id = %triaged.finding_id,
                finding_type = %triaged.finding_type,
                verdict = %outcome.assessment.verdict,
                confidence = outcome.assessment.confidence,
                disposition = outcome.disposition.reason(),
                "triaged"
            );
            Ok(json!({
                "finding_id": triaged.finding_id,
                "finding_type": triaged.finding_type,
                "verdict": outcome.assessment.verdict,
                "confidence": outcome.assessment.confidence,
                "subject": outcome.notice.as_ref().map(|n| n.subject.as_str()),
                "disposition": outcome.disposition,
            }))
        }
        Err(e) => {
            if e.is_retryable() {
                tracing::warn!(error = %e, error_type = e.error_type(), "triage failed; Lambda will retry");
            } else {
                tracing::error!(error = %e, error_type = e.error_type(), "event rejected; it goes to the dead-letter queue after retries");
            }
            Err(HandlerError(e))
        }
    }
}
