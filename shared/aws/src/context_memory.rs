//! [`ContextSource`] over context items held in memory: the items `triage-cli ingest` and the
//! ingest functions would write, answered with the same lookups, sort-key ranges and decoding as
//! [`super::DynamoContextSource`]. It lets tests (and offline explanations) run the whole
//! ingest-to-verdict path on real log records without a server; the DynamoDB adapter itself is
//! tested against the local server.

use super::context_query::lookups;
use super::{Item, item_key};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::BTreeMap;
use triage_domain::dedupe::StoreError;
use triage_domain::enrich::{Context, ContextSource, Subjects};
use triage_domain::scope::ScopeWindow;

#[derive(Debug, Clone, Default)]
pub struct MemoryContextSource {
    /// `rows` blobs by partition key, then sort key, as the table orders them.
    items: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
}

impl MemoryContextSource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Store items as a `PutItem` would: same keys overwrite (re-ingesting an object).
    pub fn put_all(&mut self, items: impl IntoIterator<Item = Item>) {
        for item in items {
            let (Some((pk, sk)), Some(AttributeValue::B(rows))) =
                (item_key(&item), item.get("rows"))
            else {
                continue;
            };
            self.items
                .entry(pk.to_owned())
                .or_default()
                .insert(sk.to_owned(), rows.as_ref().to_vec());
        }
    }

    /// Everything found about `subjects` in `window`, synchronously.
    pub fn context(&self, subjects: &Subjects, window: &ScopeWindow) -> Context {
        let lookups = lookups(subjects, window);
        let mut context = Context {
            lookups: lookups.len(),
            ..Context::default()
        };
        for lookup in lookups {
            let Some(partition) = self.items.get(&lookup.pk) else {
                continue;
            };
            for (sk, blob) in partition
                .iter()
                .filter(|(sk, _)| lookup.matches_sort_key(sk))
            {
                (lookup.absorb)(&mut context, subjects, &lookup.pk, sk, blob);
            }
        }
        context.drop_repeated_events();
        context
    }
}

#[async_trait]
impl ContextSource for MemoryContextSource {
    async fn load(&self, subjects: &Subjects, window: &ScopeWindow) -> Result<Context, StoreError> {
        Ok(self.context(subjects, window))
    }
}
