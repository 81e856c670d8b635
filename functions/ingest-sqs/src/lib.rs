//! The runtime glue every ingest Lambda triggered by SQS batches of S3 notifications shares
//! (flow logs, Resolver query logs, EKS audit logs): read the configuration of its log source,
//! connect, and answer each batch with the messages that could not be ingested, so that only
//! those are redelivered, then dead-lettered after the queue's `maxReceiveCount`. A batch never
//! fails as a whole.
//!
//! A crate of its own, beside the functions: the Lambda runtime stays out of the library crates,
//! and a new log source's function is its `main` calling [`serve`] with its source.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, run, service_fn};
use triage_aws::ingest::{Configured, IngestConfig, LogSource, deadline_from_epoch_ms};
use triage_aws::s3::connect_ingest;

/// Serve SQS batches of S3 notifications with the log source `L` until the runtime stops. A
/// bad configuration is logged and ends the start-up: Lambda reports the init error.
pub async fn serve<L: Configured + LogSource>() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (config, source) = IngestConfig::from_env_with::<L>()
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let pipeline = connect_ingest(&config, source).await;
    let pipeline = &pipeline;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = deadline_from_epoch_ms(event.context.deadline);
        Ok::<SqsBatchResponse, lambda_runtime::Error>(
            pipeline.ingest_batch(&event.payload, deadline).await,
        )
    }))
    .await
}
