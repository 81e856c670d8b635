//! CloudTrail for triage: every shape CloudTrail reaches us in, and the compact aggregates the
//! ingest functions store. Pure: bytes in, values out; storage is the ingest functions'
//! business. The record model itself ([`Record`](triage_domain::activity::Record), lenient, a
//! counted [`SkipReason`](triage_domain::activity::SkipReason) when it lacks a time or an API
//! name) is the domain's [`triage_domain::activity`].
//!
//! - [`parse_object`] / [`for_each_record`]: one object (gzip or plain S3 delivery, JSON array,
//!   NDJSON, EventBridge event, single record) to records; a bad object is an [`InputError`].
//! - [`aggregate_stream`]: an object of any size read, aggregated and handed over in parts,
//!   memory bounded by [`Settings::max_live_aggregates`].
//! - [`Aggregator`] / [`aggregate_object`]: activity per principal key and source IP per time
//!   bucket ([`Activity`], keys on [`EntityKey`](triage_domain::activity::EntityKey)), notable events
//!   ([`notable_reasons`](triage_domain::activity::notable_reasons)),
//!   credentials issued by STS ([`CredentialIssue`]), per-principal [`Baseline`]s, and a
//!   [`Summary`].
//!
//! Files, in reading order: `input.rs`, `credentials.rs`, `baseline.rs`, `aggregate.rs`,
//! `stream.rs`; `tests.rs` runs everything on the corpus records in `tests/fixtures/cloudtrail/`.

mod aggregate;
mod baseline;
mod credentials;
mod input;
mod intern;
mod stats;
mod stream;

#[cfg(test)]
mod tests;

pub use aggregate::{
    Activity, Aggregates, Aggregator, CallKey, DEFAULT_MAX_LIVE_AGGREGATES, ObjectReport, Outcome,
    PrincipalInfo, Settings, Summary, aggregate_object, bucket_start,
};
pub use baseline::{Baseline, BaselineEntry};
pub use credentials::{CredentialIssue, ISSUING_CALLS, credential_issue};
pub use input::{
    InputError, ParsedObject, ReadOptions, Shape, Skips, StreamRead, for_each_record, parse_object,
    parse_object_with, read_records,
};
pub use stats::Stats;
pub use stream::{StreamReport, aggregate_stream};
