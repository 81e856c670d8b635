//! The `ingest-resolver` Lambda: Route 53 Resolver query-log objects (the JSON files query logging
//! delivers to S3) announced by S3 notifications through SQS, to context items in DynamoDB: what
//! each instance resolved, per name and ten minutes, for DNS findings.
//!
//! Everything but the runtime glue ([`ingest_sqs::serve`]) is `triage_aws::ingest`
//! ([`ResolverSource`]), which `triage-cli ingest resolver` shares. A batch never fails as a whole:
//! the response lists the messages that could not be ingested, and only those are redelivered, then
//! dead-lettered after the queue's `maxReceiveCount`.

use triage_aws::ingest::ResolverSource;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ingest_sqs::serve::<ResolverSource>().await
}
