//! The `ingest-eks` Lambda: EKS audit-log objects (the cluster's CloudWatch Logs audit stream,
//! delivered to S3 by a subscription filter and Firehose) announced by S3 notifications through
//! SQS, to context items in DynamoDB: what each Kubernetes user and source address did, per ten
//! minutes, for Kubernetes findings.
//!
//! Everything but the runtime glue is `triage_aws::ingest` ([`EksAuditSource`]), which
//! `triage-cli ingest eks` shares. A batch never fails as a whole: the response lists the
//! messages that could not be ingested, and only those are redelivered, then dead-lettered after
//! the queue's `maxReceiveCount`.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, run, service_fn};
use triage_aws::ingest::{EksAuditSource, IngestConfig, deadline_from_epoch_ms};
use triage_aws::s3::connect_ingest;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (config, source) = IngestConfig::from_env_with::<EksAuditSource>()
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
