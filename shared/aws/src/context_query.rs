//! [`ContextSource`] on DynamoDB: one `Query` per subject and item kind, all in flight at once,
//! so the whole enrichment costs one round trip of latency (plus pagination of busy subjects).

use super::context_items::{
    decode_activity_rows, decode_baseline_rows, decode_flow_rows, decode_notable_rows, is_live,
    kube_lookups, resolver_lookups,
};
use super::context_lookup::Lookup;
use super::errors::classify;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use tokio::task::JoinSet;
use triage_domain::dedupe::StoreError;
use triage_domain::enrich::{Context, ContextSource, Subjects};
use triage_domain::scope::ScopeWindow;

#[derive(Debug, Clone)]
pub struct DynamoContextSource {
    client: Client,
    table: String,
}

impl DynamoContextSource {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// Every other log source's lookups, beside CloudTrail's and the flows': one line per source,
/// each built by the source's item module (keys to queries, items to rows).
const SOURCES: &[fn(&Subjects, &ScopeWindow) -> Vec<Lookup>] = &[resolver_lookups, kube_lookups];

/// The queries of a finding's context: flows and every other source by ten-minute bucket,
/// CloudTrail activity and notable events by hour, and the principals' whole baselines.
pub(super) fn lookups(subjects: &Subjects, window: &ScopeWindow) -> Vec<Lookup> {
    let flows = (subjects.interfaces.iter()).map(|pk| Lookup::buckets(pk, "", window, 600, flows));
    let mut out: Vec<Lookup> = flows.collect();
    out.extend(SOURCES.iter().flat_map(|source| source(subjects, window)));
    for pk in &subjects.principals {
        out.push(Lookup::buckets(pk, "ACT#", window, 3600, activity));
        out.push(Lookup::buckets(pk, "EVT#", window, 3600, notable));
    }
    for pk in &subjects.principals {
        out.push(Lookup::prefixed(pk, "BASE#", baseline));
    }
    out
}

fn flows(context: &mut Context, _: &Subjects, _pk: &str, _sk: &str, blob: &[u8]) {
    context.flows.extend(decode_flow_rows(blob));
}

/// Activity is filed under the partition key it was stored under (the summary must not add up
/// one call filed under several subjects), the rows of live events marked (see [`is_live`]).
fn activity(context: &mut Context, _: &Subjects, pk: &str, sk: &str, blob: &[u8]) {
    let live = is_live(sk);
    context
        .activity
        .extend(decode_activity_rows(blob).into_iter().map(|mut row| {
            row.subject = pk.to_owned();
            row.live = live;
            row
        }));
}

fn notable(context: &mut Context, _: &Subjects, _pk: &str, _sk: &str, blob: &[u8]) {
    context.notable.extend(decode_notable_rows(blob));
}

fn baseline(context: &mut Context, _: &Subjects, _pk: &str, _sk: &str, blob: &[u8]) {
    context.baseline.extend(decode_baseline_rows(blob));
}

async fn query(
    client: Client,
    table: String,
    lookup: Lookup,
) -> Result<(Lookup, Vec<(String, Vec<u8>)>), StoreError> {
    let mut blobs = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let mut request = client
            .query()
            .table_name(&table)
            .expression_attribute_values(":pk", AttributeValue::S(lookup.pk.clone()))
            .expression_attribute_values(":low", AttributeValue::S(lookup.low.clone()))
            .projection_expression("#sk, #rows")
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_names("#rows", "rows")
            .set_exclusive_start_key(start.take());
        request = match &lookup.high {
            Some(high) => request
                .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
                .expression_attribute_values(":high", AttributeValue::S(high.clone())),
            None => request.key_condition_expression("pk = :pk AND begins_with(sk, :low)"),
        };
        let output = request
            .send()
            .await
            .map_err(|e| StoreError::from(classify(&e)))?;
        for item in output.items() {
            if let (Some(AttributeValue::S(sk)), Some(AttributeValue::B(blob))) =
                (item.get("sk"), item.get("rows"))
            {
                blobs.push((sk.clone(), blob.as_ref().to_vec()));
            }
        }
        match output.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok((lookup, blobs)),
        }
    }
}

#[async_trait]
impl ContextSource for DynamoContextSource {
    async fn load(&self, subjects: &Subjects, window: &ScopeWindow) -> Result<Context, StoreError> {
        let lookups = lookups(subjects, window);
        let mut context = Context {
            lookups: lookups.len(),
            ..Context::default()
        };
        let mut tasks = JoinSet::new();
        for lookup in lookups {
            tasks.spawn(query(self.client.clone(), self.table.clone(), lookup));
        }
        while let Some(joined) = tasks.join_next().await {
            let (lookup, blobs) = joined.map_err(|e| StoreError::Unavailable(e.to_string()))??;
            for (sk, blob) in blobs {
                (lookup.absorb)(&mut context, subjects, &lookup.pk, &sk, &blob);
            }
        }
        context.drop_repeated_events();
        // Rows outside the window that share its buckets are kept: a bucket is the resolution.
        Ok(context)
    }
}
