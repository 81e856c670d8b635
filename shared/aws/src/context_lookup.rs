//! One query of a finding's context: a partition, a sort-key condition, and how the rows of its
//! items join the [`Context`]. Each log source's item module builds its own lookups, so the
//! query side (DynamoDB or in memory) runs them without knowing any source.

use crate::context_items::sort_key_range;
use triage_domain::enrich::{Context, Subjects};
use triage_domain::scope::ScopeWindow;

/// Decodes one item's `rows` blob into the context: the source's decoder, and whatever it must
/// know of the partition (`pk`), the item (`sk`) or the other keys looked up.
pub(crate) type Absorb = fn(&mut Context, &Subjects, pk: &str, sk: &str, blob: &[u8]);

/// One query: partition key and sort-key condition.
pub(crate) struct Lookup {
    pub(crate) pk: String,
    /// Inclusive bounds, or a prefix when `high` is None.
    pub(crate) low: String,
    pub(crate) high: Option<String>,
    pub(crate) absorb: Absorb,
}

impl Lookup {
    /// The window's buckets of `width` seconds, sorted after `prefix`.
    pub(crate) fn buckets(
        pk: &str,
        prefix: &str,
        window: &ScopeWindow,
        width: i64,
        absorb: Absorb,
    ) -> Self {
        let (low, high) = sort_key_range(prefix, window, width);
        Self {
            pk: pk.to_owned(),
            low,
            high: Some(high),
            absorb,
        }
    }

    /// Every item whose sort key starts with `prefix`.
    pub(crate) fn prefixed(pk: &str, prefix: &str, absorb: Absorb) -> Self {
        Self {
            pk: pk.to_owned(),
            low: prefix.to_owned(),
            high: None,
            absorb,
        }
    }

    /// Whether an item's sort key meets the condition (what DynamoDB evaluates server-side).
    pub(crate) fn matches_sort_key(&self, sk: &str) -> bool {
        match &self.high {
            Some(high) => self.low.as_str() <= sk && sk <= high.as_str(),
            None => sk.starts_with(&self.low),
        }
    }
}
