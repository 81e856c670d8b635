//! The `ingest-resolver` Lambda: Route 53 Resolver query-log objects (the JSON files query
//! logging delivers to S3) announced by S3 notifications through SQS, to context items in
//! DynamoDB: what each instance resolved, per name and ten minutes, for DNS findings.
//!
//! Everything but the runtime glue is `triage_aws::ingest` ([`ResolverSource`]), which
//! `triage-cli ingest resolver` shares. A batch never fails as a whole: the response lists the
//! messages that could not be ingested, and only those are redelivered, then dead-lettered after
//! the queue's `maxReceiveCount`.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, run, service_fn};
use triage_aws::ingest::{IngestConfig, ResolverSource, deadline_from_epoch_ms};
use triage_aws::s3::connect_ingest;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (config, source) = IngestConfig::from_env_with::<ResolverSource>()
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
