//! An in-memory [`DedupeStore`] with the same semantics as the DynamoDB one, for unit tests of
//! the pipeline and for `explain`-style dry runs.

use super::decision::{FindingRecord, Notified};
use super::store::{ClaimOutcome, DedupeStore, Lease, RecordLabels, Seen, StoreError};
use crate::finding::FindingId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Default)]
struct Entry {
    record: FindingRecord,
    lease: Option<Lease>,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<FindingId, Entry>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with_own_lease<T>(
        &self,
        id: &FindingId,
        lease: &Lease,
        f: impl FnOnce(&mut Entry) -> T,
    ) -> Result<T, StoreError> {
        let mut entries = self.entries.lock().expect("memory store lock poisoned");
        match entries.get_mut(id) {
            Some(entry) if entry.lease.as_ref().is_some_and(|l| l.token == lease.token) => {
                let out = f(entry);
                entry.lease = None;
                Ok(out)
            }
            _ => Err(StoreError::LostLease),
        }
    }
}

fn record_seen(record: &mut FindingRecord, seen: &Seen) {
    record.seen_count = record.seen_count.max(seen.count);
    record.seen_updated_at = record.seen_updated_at.max(seen.updated_at);
}

#[async_trait]
impl DedupeStore for MemoryStore {
    async fn claim(
        &self,
        id: &FindingId,
        lease: &Lease,
        _labels: &RecordLabels,
        now: DateTime<Utc>,
        _expires_at: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        let mut entries = self.entries.lock().expect("memory store lock poisoned");
        let previous = entries.get(id).cloned();
        if let Some(held) = previous.as_ref().and_then(|e| e.lease.as_ref())
            && held.until > now
        {
            return Ok(ClaimOutcome::Busy { until: held.until });
        }
        let entry = entries.entry(id.clone()).or_default();
        entry.lease = Some(lease.clone());
        Ok(ClaimOutcome::Claimed {
            previous: previous.map(|e| e.record),
        })
    }

    async fn complete_notified(
        &self,
        id: &FindingId,
        lease: &Lease,
        notified: &Notified,
        seen: &Seen,
        message_id: &str,
    ) -> Result<(), StoreError> {
        self.with_own_lease(id, lease, |entry| {
            entry.record.last_notified = Some(notified.clone());
            entry.record.message_ids.push(message_id.to_owned());
            record_seen(&mut entry.record, seen);
        })
    }

    async fn complete_silent(
        &self,
        id: &FindingId,
        lease: &Lease,
        seen: &Seen,
        repeat: bool,
    ) -> Result<(), StoreError> {
        self.with_own_lease(id, lease, |entry| {
            record_seen(&mut entry.record, seen);
            if repeat {
                entry.record.suppressed_updates += 1;
            }
        })
    }

    async fn release(&self, id: &FindingId, lease: &Lease) -> Result<(), StoreError> {
        self.with_own_lease(id, lease, |_| ())
    }

    async fn get(&self, id: &FindingId) -> Result<Option<FindingRecord>, StoreError> {
        let entries = self.entries.lock().expect("memory store lock poisoned");
        Ok(entries.get(id).map(|e| e.record.clone()))
    }
}
