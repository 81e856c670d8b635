//! [`ContextSource`] on DynamoDB: one `Query` per subject and item kind, all in flight at once,
//! so the whole enrichment costs one round trip of latency (plus pagination of busy subjects).

use super::context_items::{
    decode_activity_rows, decode_baseline_rows, decode_flow_rows, decode_kube_callers,
    decode_kube_rows, decode_notable_rows, decode_resolver_rows, is_live, sort_key_range,
};
use super::errors::classify;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use tokio::task::JoinSet;
use triage_domain::dedupe::StoreError;
use triage_domain::enrich::{Context, ContextSource, Subjects};
use triage_domain::kube::{is_anonymous, is_user_subject};
use triage_domain::scope::ScopeWindow;

#[derive(Debug, Clone)]
pub struct DynamoContextSource {
    client: Client,
    table: String,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Flows,
    Activity,
    Baseline,
    Notable,
    Dns,
    /// A Kubernetes user's partition (`K8S#<cluster>#user#<name>`).
    KubeUser,
    /// The partition of the Kubernetes calls from one address (`K8S#<cluster>#ip#<address>`).
    KubeAddress,
}

/// One query: partition key and sort-key condition.
pub(super) struct Lookup {
    pub(super) kind: Kind,
    pub(super) pk: String,
    /// Inclusive bounds, or a prefix when `high` is None.
    pub(super) low: String,
    pub(super) high: Option<String>,
}

impl Lookup {
    /// Whether an item's sort key meets the condition (what DynamoDB evaluates server-side).
    pub(super) fn matches_sort_key(&self, sk: &str) -> bool {
        match &self.high {
            Some(high) => self.low.as_str() <= sk && sk <= high.as_str(),
            None => sk.starts_with(&self.low),
        }
    }
}

impl DynamoContextSource {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

pub(super) fn lookups(subjects: &Subjects, window: &ScopeWindow) -> Vec<Lookup> {
    let mut out = Vec::new();
    // The window's buckets of `width` seconds, after `prefix`.
    let mut range = |kind: Kind, pk: &String, prefix: &str, width: i64| {
        let (low, high) = sort_key_range(prefix, window, width);
        out.push(Lookup {
            kind,
            pk: pk.clone(),
            low,
            high: Some(high),
        });
    };
    // Flow, Resolver and EKS audit items are keyed alike: the ten-minute bucket start, no prefix.
    let ten_minutes = (subjects.interfaces.iter().map(|pk| (Kind::Flows, pk)))
        .chain(subjects.dns.iter().map(|pk| (Kind::Dns, pk)))
        .chain(subjects.kube_users.iter().map(|pk| (Kind::KubeUser, pk)))
        .chain((subjects.kube_addresses.iter()).map(|pk| (Kind::KubeAddress, pk)));
    for (kind, pk) in ten_minutes {
        range(kind, pk, "", 600);
    }
    for pk in &subjects.principals {
        range(Kind::Activity, pk, "ACT#", 3600);
        range(Kind::Notable, pk, "EVT#", 3600);
    }
    for pk in &subjects.principals {
        out.push(Lookup {
            kind: Kind::Baseline,
            pk: pk.clone(),
            low: "BASE#".into(),
            high: None,
        });
    }
    out
}

async fn query(
    client: Client,
    table: String,
    lookup: Lookup,
) -> Result<(Kind, String, Vec<(String, Vec<u8>)>), StoreError> {
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
            _ => return Ok((lookup.kind, lookup.pk, blobs)),
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
            let (kind, pk, blobs) =
                joined.map_err(|e| StoreError::Unavailable(e.to_string()))??;
            for (sk, blob) in blobs {
                absorb(&mut context, subjects, kind, &pk, &sk, &blob);
            }
        }
        context.drop_repeated_events();
        // Rows outside the window that share its buckets are kept: a bucket is the resolution.
        Ok(context)
    }
}

/// Decode one item's rows into the context, filing activity under the partition key it was
/// stored under (the summary must not add up one call filed under several subjects) and marking
/// the rows of live events (see [`is_live`]), and reading each Kubernetes aggregate once: the
/// ingest files every aggregate under its user and under its address, so a row read under an
/// address whose user is also looked up is the same row, read twice.
pub(super) fn absorb(
    context: &mut Context,
    subjects: &Subjects,
    kind: Kind,
    pk: &str,
    sk: &str,
    blob: &[u8],
) {
    match kind {
        Kind::Flows => context.flows.extend(decode_flow_rows(blob)),
        Kind::Activity => {
            let live = is_live(sk);
            context
                .activity
                .extend(decode_activity_rows(blob).into_iter().map(|mut row| {
                    row.subject = pk.to_owned();
                    row.live = live;
                    row
                }))
        }
        Kind::Baseline => context.baseline.extend(decode_baseline_rows(blob)),
        Kind::Notable => context.notable.extend(decode_notable_rows(blob)),
        Kind::Dns => context.dns.extend(decode_resolver_rows(blob)),
        Kind::KubeUser => context.kube.extend(decode_kube_rows(blob)),
        Kind::KubeAddress => {
            // Anonymous calls whole (an anonymous finding's own calls are only here), every
            // other user's as counts, and none of a user read under its own key.
            let (rows, callers) = decode_kube_callers(
                blob,
                |_, user| is_anonymous(user),
                |cluster, user| {
                    (subjects.kube_users.iter()).any(|pk| is_user_subject(pk, cluster, user))
                },
            );
            context.kube.extend(rows);
            context.kube_callers.extend(callers);
        }
    }
}
