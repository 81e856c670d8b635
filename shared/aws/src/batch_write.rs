//! Many puts with `BatchWriteItem`, within its limit of 25 items per call (its 16 MB limit
//! cannot be reached: 25 items of at most 400 KB make 10 MB), and with its partial failures
//! handled: DynamoDB may accept a call yet return some items in
//! `UnprocessedItems` (throttling), which must be sent again, with back-off, or they are lost.

use super::errors::classify;
use super::item_size::write_units;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;
use triage_domain::dedupe::StoreError;

pub type Item = HashMap<String, AttributeValue>;

/// The primary key (`pk`, `sk`) of an item of the triage table, if it has one.
pub fn item_key(item: &Item) -> Option<(&str, &str)> {
    match (item.get("pk"), item.get("sk")) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some((pk, sk)),
        _ => None,
    }
}

pub const MAX_ITEMS_PER_CALL: usize = 25;

/// What a batch of puts cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub items: usize,
    pub calls: usize,
    /// Items DynamoDB returned unprocessed at least once and that were sent again.
    pub retried: usize,
    /// Write request units billed for the items (1 per started KB of each item).
    pub write_units: usize,
}

#[derive(Debug, Clone)]
pub struct BatchWriter {
    client: Client,
    table: String,
    max_attempts: u32,
    base_delay: Duration,
}

impl BatchWriter {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            max_attempts: 8,
            base_delay: Duration::from_millis(50),
        }
    }

    /// Put every item; fails only if some items are still unprocessed after all attempts (or on
    /// a non-retryable error), saying how many.
    pub async fn put_all(&self, items: Vec<Item>) -> Result<BatchReport, StoreError> {
        let mut report = BatchReport {
            items: items.len(),
            write_units: items.iter().map(write_units).sum(),
            ..BatchReport::default()
        };
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let mut pending: Vec<WriteRequest> = items
                .by_ref()
                .take(MAX_ITEMS_PER_CALL)
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .map_err(|e| StoreError::Rejected(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, StoreError>>()?;
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt > 0 {
                    report.retried += pending.len();
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                if attempt == self.max_attempts {
                    return Err(StoreError::Throttled(format!(
                        "{} item(s) still unprocessed after {attempt} BatchWriteItem attempts",
                        pending.len()
                    )));
                }
                attempt += 1;
                report.calls += 1;
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(|e| StoreError::from(classify(&e)))?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(report)
    }

    /// Exponential back-off with full jitter, as the AWS retry guidance recommends.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.base_delay * 2u32.saturating_pow(attempt.min(10));
        ceiling.mul_f64(fastrand::f64())
    }
}
