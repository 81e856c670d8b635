//! The `ingest-flowlogs` Lambda: VPC flow-log objects announced by S3 notifications through SQS to
//! context items in DynamoDB, each object streamed from S3 through the parser (memory bounded by
//! the aggregates, whatever the object's size).
//!
//! Everything but the runtime glue ([`ingest_sqs::serve`]) is `triage_aws::ingest`, which
//! `triage-cli ingest` shares. A batch never fails as a whole: the response lists the messages that
//! could not be ingested (bad objects, transient errors), and only those are redelivered, then
//! dead-lettered after the queue's `maxReceiveCount`.

use triage_aws::ingest::FlowLogSource;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ingest_sqs::serve::<FlowLogSource>().await
}
