//! The `ingest-eks` Lambda: EKS audit-log objects (the cluster's CloudWatch Logs audit stream,
//! delivered to S3 by a subscription filter and Firehose) announced by S3 notifications through
//! SQS, to context items in DynamoDB: what each Kubernetes user and source address did, per ten
//! minutes, for Kubernetes findings.
//!
//! Everything but the runtime glue ([`ingest_sqs::serve`]) is `triage_aws::ingest`
//! ([`EksAuditSource`]), which `triage-cli ingest eks` shares. A batch never fails as a whole: the
//! response lists the messages that could not be ingested, and only those are redelivered, then
//! dead-lettered after the queue's `maxReceiveCount`.

use triage_aws::ingest::EksAuditSource;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ingest_sqs::serve::<EksAuditSource>().await
}
