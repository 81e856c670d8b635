//! The `ingest-cloudtrail` Lambda: CloudTrail log files announced by S3 notifications through
//! SQS (partial batch failures), or single `AWS API Call via CloudTrail` EventBridge events, to
//! context items in DynamoDB.
//!
//! Everything but the runtime glue is `triage_aws::ingest`, which `triage-cli ingest`
//! shares. An SQS batch never fails as a whole: the response lists the messages that could not
//! be ingested, and only those are redelivered (then dead-lettered). An EventBridge event that
//! fails returns an error whose `errorType` tells a bad event (`InvalidEvent`) from a transient
//! failure (`Retryable.*`).

use ingest_sqs::{HandlerError, answer_batch};
use lambda_runtime::{LambdaEvent, run, service_fn};
use serde_json::{Value, json};
use triage_aws::BatchWriter;
use triage_aws::ingest::{
    CloudTrailSource, IngestConfig, Ingestor, ObjectError, Trigger, deadline_from_epoch_ms,
    detect_trigger,
};
use triage_aws::s3::{S3ObjectSource, connect_ingest};

type Pipeline = Ingestor<S3ObjectSource, BatchWriter, CloudTrailSource>;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (config, source) = IngestConfig::from_env_with::<CloudTrailSource>()
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let pipeline = connect_ingest(&config, source).await;
    let pipeline = &pipeline;
    run(service_fn(move |event: LambdaEvent<Value>| {
        handle(pipeline, event)
    }))
    .await
}

async fn handle(pipeline: &Pipeline, event: LambdaEvent<Value>) -> Result<Value, HandlerError> {
    let deadline = deadline_from_epoch_ms(event.context.deadline);
    match detect_trigger(event.payload) {
        Ok(Trigger::Sqs(batch)) => answer_batch(pipeline, &batch, deadline).await,
        Ok(Trigger::EventBridge(event)) => match pipeline.ingest_event(&event).await {
            Ok(done) => {
                let event_id = event.get("id").and_then(|id| id.as_str());
                tracing::info!(
                    event_id,
                    records = done.stats.records,
                    items = done.plan.items,
                    write_units = done.plan.write_units,
                    "ingested"
                );
                Ok(json!({"records": done.stats.records, "items": done.plan.items}))
            }
            Err(e @ ObjectError::CloudTrail(_)) => Err(HandlerError::failed_as(&e, "InvalidEvent")),
            Err(e) => Err(HandlerError::failed(&e)),
        },
        Ok(Trigger::LogSubscription(_)) => Err(HandlerError::invalid(
            "a CloudWatch Logs subscription invoked ingest-cloudtrail, which reads CloudTrail's S3 deliveries and EventBridge events",
        )),
        Err(e) => Err(HandlerError::invalid(e.to_string())),
    }
}
