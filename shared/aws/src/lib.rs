//! The AWS edge: SDK configuration and the adapters that implement the domain's traits on
//! DynamoDB and SNS; the context items' layout in DynamoDB; and [`ingest`], the ingest
//! functions' pipeline from S3 notifications to stored items. No other crate of ours names an
//! SDK or Lambda event type.

mod batch_write;
pub mod context_items;
mod context_lookup;
mod context_memory;
mod context_query;
mod dynamodb;
mod errors;
pub mod ingest;
mod item_size;
pub mod s3;
mod sns;

pub use batch_write::{BatchReport, BatchWriter, Item, MAX_ITEMS_PER_CALL, item_key};
pub use context_memory::MemoryContextSource;
pub use context_query::DynamoContextSource;
pub use dynamodb::DynamoDedupeStore;
pub use item_size::{item_size, write_units};
pub use sns::SnsPublisher;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;
use triage_domain::config::Config;
use triage_domain::pipeline::Triage;

/// Load the shared SDK configuration (region, credentials, `AWS_ENDPOINT_URL`...) with
/// explicit timeouts: without them a stalled connection waits as long as the Lambda lives.
pub async fn sdk_config(attempt_timeout: Duration) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2).min(attempt_timeout))
        .operation_attempt_timeout(attempt_timeout)
        // Three attempts (the standard retry mode) plus back-off.
        .operation_timeout(attempt_timeout * 3 + Duration::from_secs(1))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}

/// The production pipeline: DynamoDB dedupe store and SNS publisher, built once per process
/// with their connections opened, so the first invocation does not pay for a TLS handshake.
pub async fn connect(config: &Config) -> Triage<DynamoDedupeStore, SnsPublisher> {
    let sdk = sdk_config(config.aws_timeout).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let store = DynamoDedupeStore::new(dynamodb.clone(), &config.table_name);
    let publisher = SnsPublisher::new(aws_sdk_sns::Client::new(&sdk), &config.topic_arn);
    let (store_ready, topic_ready) = tokio::join!(store.warm_up(), publisher.warm_up());
    // A failed warm-up is not fatal: the first event retries the connection and, if the
    // problem persists, fails with a precise error that reaches the dead-letter queue.
    if let Err(e) = store_ready {
        tracing::warn!(error = %e, table = %config.table_name, "dedupe table not reachable at start-up");
    }
    if let Err(e) = topic_ready {
        tracing::warn!(error = %e, topic = %config.topic_arn, "notice topic not reachable at start-up");
    }
    // Context lives in the same table, written by the ingest functions and `triage-cli ingest`.
    Triage::new(store, publisher, config.settings)
        .with_context(DynamoContextSource::new(dynamodb, &config.table_name))
}

/// The context table alone, for reading (`triage-cli explain --table`).
pub async fn connect_context(config: &Config) -> DynamoContextSource {
    let sdk = sdk_config(config.aws_timeout).await;
    DynamoContextSource::new(aws_sdk_dynamodb::Client::new(&sdk), &config.table_name)
}

impl BatchWriter {
    /// A writer on `table` with the ambient SDK configuration (`AWS_*`), for backfills.
    pub async fn connect(table: &str, attempt_timeout: Duration) -> Self {
        let sdk = sdk_config(attempt_timeout).await;
        Self::new(aws_sdk_dynamodb::Client::new(&sdk), table)
    }
}
