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
    /// The token of the lease whose holder completed last (as `completed_token` in DynamoDB).
    completed_token: Option<String>,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<FindingId, Entry>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with_own_lease(
        &self,
        id: &FindingId,
        lease: &Lease,
        f: impl FnOnce(&mut Entry),
    ) -> Result<(), StoreError> {
        let mut entries = self.entries.lock().expect("memory store lock poisoned");
        match entries.get_mut(id) {
            Some(entry) if entry.lease.as_ref().is_some_and(|l| l.token == lease.token) => {
                f(entry);
                entry.lease = None;
                entry.completed_token = Some(lease.token.clone());
                Ok(())
            }
            // Our own completion, written once already (the DynamoDB store sees this when a
            // response is lost and the SDK retries): done, not lost.
            Some(entry) if entry.completed_token.as_deref() == Some(lease.token.as_str()) => Ok(()),
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
            if held.token == lease.token {
                // Our own claim again (as after a lost response): ours, not busy.
                let record = previous
                    .map(|e| e.record)
                    .filter(|r| *r != FindingRecord::default());
                return Ok(ClaimOutcome::Claimed { previous: record });
            }
            return Ok(ClaimOutcome::Busy { until: held.until });
        }
        let entry = entries.entry(id.clone()).or_default();
        entry.lease = Some(lease.clone());
        Ok(ClaimOutcome::Claimed {
            previous: previous.map(|e| FindingRecord {
                interrupted: e.lease.is_some(),
                ..e.record
            }),
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

#[cfg(test)]
mod lost_response_tests {
    use super::*;
    use crate::finding::SeverityBand;

    fn lease(token: &str) -> Lease {
        Lease {
            token: token.into(),
            until: Utc::now() + chrono::Duration::seconds(30),
        }
    }

    /// The same semantics as the DynamoDB store when a response is lost and the call repeated:
    /// a repeated claim with our own token is ours, a repeated completion is done.
    #[tokio::test]
    async fn repeating_our_own_claim_or_completion_is_not_an_error() {
        let store = MemoryStore::new();
        let id = FindingId::parse("f-1").unwrap();
        let ours = lease("ours");
        let now = Utc::now();
        let labels = RecordLabels::default();
        for _ in 0..2 {
            let claimed = store.claim(&id, &ours, &labels, now, now).await.unwrap();
            assert_eq!(claimed, ClaimOutcome::Claimed { previous: None });
        }
        let seen = Seen {
            count: 1,
            updated_at: None,
        };
        let notified = Notified {
            band: SeverityBand::Low,
            count: 1,
            actors: Default::default(),
            remote_endpoints: Default::default(),
            at: now,
        };
        for _ in 0..2 {
            store
                .complete_notified(&id, &ours, &notified, &seen, "m-1")
                .await
                .unwrap();
        }
        assert_eq!(store.get(&id).await.unwrap().unwrap().message_ids, ["m-1"]);
        let theirs = lease("theirs");
        assert_eq!(
            store.complete_silent(&id, &theirs, &seen, false).await,
            Err(StoreError::LostLease)
        );
    }
}
