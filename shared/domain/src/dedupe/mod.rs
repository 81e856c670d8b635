//! Deduplication by finding ID: the pure decision and the store it runs against.

mod decision;
pub mod memory;
pub mod store;

pub use decision::{Change, Decision, DedupePolicy, FindingRecord, Notified, Observation, decide};
pub use store::{ClaimOutcome, DedupeStore, Lease, RecordLabels, Seen, StoreError};
