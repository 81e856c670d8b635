//! [`DedupeStore`] on DynamoDB: one item per finding (`pk = FINDING#<id>`, `sk = STATE`).
//!
//! Every call is a single conditional `UpdateItem`, so the happy path of a new finding costs
//! two writes (claim, complete) around the publish, and each returns what it needs without an
//! extra read: the claim asks for `ALL_OLD` both on success and on a failed condition.

use super::errors::classify;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::{BTreeSet, HashMap};
use triage_domain::dedupe::{
    ClaimOutcome, DedupeStore, FindingRecord, Lease, Notified, RecordLabels, Seen, StoreError,
};
use triage_domain::finding::{FindingId, SeverityBand};

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoDedupeStore {
    client: Client,
    table: String,
}

impl DynamoDedupeStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// An `UpdateItem` on the finding's item.
    fn update(&self, id: &FindingId) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("FINDING#{id}")))
            .key("sk", s("STATE"))
    }

    /// Open a connection now (during Lambda init, with a full CPU) instead of in the first
    /// invocation. The item read does not exist; its absence is the answer.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", s("WARMUP"))
            .key("sk", s("WARMUP"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| store_error(&e))
    }

    /// Complete an update that must still hold our lease. The write records our token as
    /// `completed_token`: when its response is lost and the SDK retries, the retry's condition
    /// fails (the lease is gone), and the old item returned with the failure shows that the
    /// completion was ours, which is a success, not a lost lease.
    async fn finish(
        &self,
        request: UpdateItemFluentBuilder,
        lease: &Lease,
    ) -> Result<(), StoreError> {
        request
            .condition_expression("lease_token = :token")
            .expression_attribute_values(":token", s(&lease.token))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
            .map(|_| ())
            .or_else(|e| match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let ours = failed
                        .item()
                        .and_then(|item| item.get("completed_token"))
                        .and_then(|t| t.as_s().ok())
                        .is_some_and(|t| *t == lease.token);
                    if ours {
                        tracing::info!("completion already written by this invocation (a retry after a lost response)");
                        Ok(())
                    } else {
                        Err(StoreError::LostLease)
                    }
                }
                _ => Err(store_error(&e)),
            })
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn list(values: &BTreeSet<String>) -> AttributeValue {
    AttributeValue::L(values.iter().map(|v| s(v.as_str())).collect())
}

fn store_error<E, R>(err: &SdkError<E, R>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    classify(err).into()
}

fn millis(at: DateTime<Utc>) -> AttributeValue {
    n(at.timestamp_millis())
}

fn get_n(item: &Item, name: &str) -> Option<i64> {
    match item.get(name)? {
        AttributeValue::N(raw) => raw.parse().ok(),
        _ => None,
    }
}

fn get_time(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    get_n(item, name).and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

fn get_list(item: &Item, name: &str) -> Vec<String> {
    match item.get(name) {
        Some(AttributeValue::L(values)) => values
            .iter()
            .filter_map(|v| v.as_s().ok().cloned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Read our record out of a DynamoDB item. A record we cannot read is an error, not "new":
/// treating it as new would re-notify every delivery of the finding.
fn record_from_item(item: &Item) -> Result<FindingRecord, StoreError> {
    let last_notified = match item.get("notified_band") {
        None => None,
        Some(band) => {
            let band = band
                .as_s()
                .ok()
                .and_then(|b| SeverityBand::parse(b))
                .ok_or_else(|| StoreError::Corrupt(format!("notified_band is {band:?}")))?;
            Some(Notified {
                band,
                count: get_n(item, "notified_count").unwrap_or(1),
                actors: get_list(item, "notified_actors").into_iter().collect(),
                remote_endpoints: get_list(item, "notified_remotes").into_iter().collect(),
                at: get_time(item, "notified_at_ms")
                    .ok_or_else(|| StoreError::Corrupt("notified_at_ms is missing".into()))?,
            })
        }
    };
    Ok(FindingRecord {
        last_notified,
        seen_count: get_n(item, "seen_count").unwrap_or(0),
        seen_updated_at: get_time(item, "seen_updated_at_ms"),
        suppressed_updates: get_n(item, "suppressed_updates").unwrap_or(0),
        message_ids: get_list(item, "message_ids"),
        // A claim only succeeds over an expired lease: one still there was never completed.
        interrupted: item.contains_key("lease_token"),
    })
}

/// `SET` clauses and their values for what a delivery saw.
fn seen_clauses(seen: &Seen) -> (Vec<&'static str>, Vec<(&'static str, AttributeValue)>) {
    let mut sets = vec!["seen_count = :seen_count"];
    let mut values = vec![(":seen_count", n(seen.count))];
    if let Some(at) = seen.updated_at {
        sets.push("seen_updated_at_ms = :seen_updated");
        values.push((":seen_updated", millis(at)));
    }
    (sets, values)
}

fn with_values(
    mut request: UpdateItemFluentBuilder,
    values: Vec<(&'static str, AttributeValue)>,
) -> UpdateItemFluentBuilder {
    for (name, value) in values {
        request = request.expression_attribute_values(name, value);
    }
    request
}

#[async_trait]
impl DedupeStore for DynamoDedupeStore {
    async fn claim(
        &self,
        id: &FindingId,
        lease: &Lease,
        labels: &RecordLabels,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        let mut sets = vec![
            "lease_token = :token",
            "lease_until_ms = :until",
            "expires_at = :expires",
            "finding_type = :type",
        ];
        let mut values = vec![
            (":token", s(&lease.token)),
            (":until", millis(lease.until)),
            (":expires", n(expires_at.timestamp())),
            (":type", s(&labels.finding_type)),
            (":now", millis(now)),
        ];
        if let Some(account) = &labels.account {
            sets.push("account_id = :account");
            values.push((":account", s(account)));
        }
        if let Some(region) = &labels.region {
            sets.push("aws_region = :region");
            values.push((":region", s(region)));
        }
        let request = self
            .update(id)
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("attribute_not_exists(lease_until_ms) OR lease_until_ms < :now")
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match with_values(request, values).send().await {
            Ok(output) => {
                let previous = match output.attributes() {
                    Some(item) if !item.is_empty() => Some(record_from_item(item)?),
                    _ => None,
                };
                Ok(ClaimOutcome::Claimed { previous })
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let item = failed.item();
                    let held_by_us = item
                        .and_then(|item| item.get("lease_token"))
                        .and_then(|t| t.as_s().ok())
                        .is_some_and(|t| *t == lease.token);
                    if let Some(item) = item.filter(|_| held_by_us) {
                        // Our own claim took effect and its response was lost: the SDK's retry
                        // found the lease this invocation holds. The record besides the lease
                        // is as it was before the claim.
                        tracing::info!(
                            "claim already taken by this invocation (a retry after a lost response)"
                        );
                        let previous = FindingRecord {
                            interrupted: false,
                            ..record_from_item(item)?
                        };
                        let first_sight = previous == FindingRecord::default();
                        return Ok(ClaimOutcome::Claimed {
                            previous: (!first_sight).then_some(previous),
                        });
                    }
                    let until = item
                        .and_then(|item| get_time(item, "lease_until_ms"))
                        .unwrap_or(lease.until);
                    Ok(ClaimOutcome::Busy { until })
                }
                _ => Err(store_error(&e)),
            },
        }
    }

    async fn complete_notified(
        &self,
        id: &FindingId,
        lease: &Lease,
        notified: &Notified,
        seen: &Seen,
        message_id: &str,
    ) -> Result<(), StoreError> {
        let (mut sets, mut values) = seen_clauses(seen);
        sets.extend([
            "completed_token = :token",
            "notified_band = :band",
            "notified_count = :count",
            "notified_actors = :actors",
            "notified_remotes = :remotes",
            "notified_at_ms = :at",
            "message_ids = list_append(if_not_exists(message_ids, :empty), :message_id)",
        ]);
        values.extend([
            (":band", s(notified.band.as_str())),
            (":count", n(notified.count)),
            (":actors", list(&notified.actors)),
            (":remotes", list(&notified.remote_endpoints)),
            (":at", millis(notified.at)),
            (":empty", AttributeValue::L(Vec::new())),
            (":message_id", AttributeValue::L(vec![s(message_id)])),
        ]);
        let request = self.update(id).update_expression(format!(
            "SET {} REMOVE lease_token, lease_until_ms",
            sets.join(", ")
        ));
        self.finish(with_values(request, values), lease).await
    }

    async fn complete_silent(
        &self,
        id: &FindingId,
        lease: &Lease,
        seen: &Seen,
        repeat: bool,
    ) -> Result<(), StoreError> {
        let (mut sets, mut values) = seen_clauses(seen);
        sets.push("completed_token = :token");
        let mut expression = format!("SET {}", sets.join(", "));
        if repeat {
            expression.push_str(" ADD suppressed_updates :one");
            values.push((":one", n(1)));
        }
        expression.push_str(" REMOVE lease_token, lease_until_ms");
        let request = self.update(id).update_expression(expression);
        self.finish(with_values(request, values), lease).await
    }

    async fn release(&self, id: &FindingId, lease: &Lease) -> Result<(), StoreError> {
        let request = self
            .update(id)
            .update_expression("REMOVE lease_token, lease_until_ms");
        self.finish(request, lease).await
    }

    async fn get(&self, id: &FindingId) -> Result<Option<FindingRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("FINDING#{id}")))
            .key("sk", s("STATE"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        output.item().map(record_from_item).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_through_its_item_shape() {
        let mut item = Item::new();
        item.insert("notified_band".into(), s("High"));
        item.insert("notified_count".into(), n(4));
        item.insert("notified_at_ms".into(), n(1_772_416_800_000_i64));
        item.insert(
            "notified_actors".into(),
            list(&BTreeSet::from(["alice".into()])),
        );
        item.insert("seen_count".into(), n(9));
        item.insert(
            "message_ids".into(),
            AttributeValue::L(vec![s("m1"), s("m2")]),
        );
        let record = record_from_item(&item).unwrap();
        let notified = record.last_notified.unwrap();
        assert_eq!(notified.band, SeverityBand::High);
        assert_eq!(notified.count, 4);
        assert!(notified.actors.contains("alice"));
        assert_eq!(record.seen_count, 9);
        assert_eq!(record.message_ids, ["m1", "m2"]);
    }

    #[test]
    fn an_unreadable_record_is_an_error_not_a_new_finding() {
        let mut item = Item::new();
        item.insert("notified_band".into(), s("Severe"));
        assert!(matches!(
            record_from_item(&item),
            Err(StoreError::Corrupt(_))
        ));
    }
}
