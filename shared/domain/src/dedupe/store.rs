//! The dedupe store: one record per finding ID, claimed with a lease before any side effect.
//!
//! The protocol is Powertools' idempotency pattern adapted to a finding that is notified more
//! than once over its life:
//! 1. `claim` takes a lease on the record (conditional write) that expires with the invocation's
//!    deadline, and returns the record as it was, in the same round trip.
//! 2. The caller decides, and publishes if the decision says so.
//! 3. `complete_*` writes the outcome and drops the lease, on condition that the lease is still
//!    ours. A crash between 1 and 3 leaves the old outcome and a lease that expires, so the
//!    retry claims again and publishes: no notice is lost.

use super::decision::{FindingRecord, Notified};
use crate::finding::FindingId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A claim on a finding's record, valid until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub token: String,
    pub until: DateTime<Utc>,
}

/// Descriptive fields written with the claim so the record explains itself to a human.
#[derive(Debug, Clone, Default)]
pub struct RecordLabels {
    pub finding_type: String,
    pub account: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The lease is ours; `previous` is the record before this delivery (None: first sight).
    Claimed { previous: Option<FindingRecord> },
    /// Another invocation holds a live lease on this finding.
    Busy { until: DateTime<Utc> },
}

/// What a delivery saw, written whether or not it was notified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub count: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A failure of the triage table. One table holds the finding records and the ingested
/// context, so dedupe, enrichment and ingest share this error, and its messages name the table,
/// not one of its users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("triage table throttled the request: {0}")]
    Throttled(String),
    #[error("triage table did not answer in time: {0}")]
    Timeout(String),
    #[error("triage table is unavailable: {0}")]
    Unavailable(String),
    #[error("triage table rejected the request: {0}")]
    Rejected(String),
    #[error("our lease on the finding record was taken over before we completed")]
    LostLease,
    #[error("finding record is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled(_) | Self::Timeout(_) | Self::Unavailable(_)
        )
    }
}

#[async_trait]
pub trait DedupeStore: Send + Sync {
    async fn claim(
        &self,
        id: &FindingId,
        lease: &Lease,
        labels: &RecordLabels,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError>;

    /// Record a published notice and release the lease.
    async fn complete_notified(
        &self,
        id: &FindingId,
        lease: &Lease,
        notified: &Notified,
        seen: &Seen,
        message_id: &str,
    ) -> Result<(), StoreError>;

    /// Record a delivery that sent nothing and release the lease; `repeat` counts it as a
    /// suppressed update.
    async fn complete_silent(
        &self,
        id: &FindingId,
        lease: &Lease,
        seen: &Seen,
        repeat: bool,
    ) -> Result<(), StoreError>;

    /// Give the lease back after a failure, so a retry need not wait for it to expire.
    async fn release(&self, id: &FindingId, lease: &Lease) -> Result<(), StoreError>;

    /// Read the record without claiming it (for `explain` and tests).
    async fn get(&self, id: &FindingId) -> Result<Option<FindingRecord>, StoreError>;
}
