//! CloudTrail for triage: a tolerant record model, every shape CloudTrail reaches us
//! in, and the compact aggregates the ingest functions store. Pure: bytes in, values out;
//! storage is the ingest functions' business.
//!
//! - [`CloudTrailRecord`] / [`Record`]: the record, every field optional and lenient; a record
//!   needs only a time and an API name, else it is a counted [`SkipReason`].
//! - [`parse_object`] / [`for_each_record`]: one object (gzip or plain S3 delivery, JSON array,
//!   NDJSON, EventBridge event, single record) to records; a bad object is an [`InputError`].
//! - [`aggregate_stream`]: an object of any size read, aggregated and handed over in parts,
//!   memory bounded by [`Settings::max_live_aggregates`].
//! - [`Aggregator`] / [`aggregate_object`]: activity per principal key and source IP per time
//!   bucket ([`Activity`], keys on [`EntityKey`]), notable events ([`notable_reasons`]),
//!   credentials issued by STS ([`CredentialIssue`]), per-principal [`Baseline`]s, and a
//!   [`Summary`].
//!
//! Files, in reading order: `record.rs` (and `de.rs`, its lenient field readers), `input.rs`,
//! `principal.rs`, `notable.rs`, `credentials.rs`, `baseline.rs`, `aggregate.rs`, `stream.rs`; `tests.rs`
//! runs everything on the corpus records in `tests/fixtures/cloudtrail/`.

mod aggregate;
mod baseline;
mod call_details;
mod credentials;
mod de;
mod input;
mod intern;
mod limits;
mod net;
mod notable;
mod principal;
mod record;
mod stats;
mod stream;

#[cfg(test)]
mod tests;

pub use aggregate::{
    Activity, Aggregates, Aggregator, CallKey, DEFAULT_MAX_LIVE_AGGREGATES, ObjectReport, Outcome,
    PrincipalInfo, Settings, Summary, aggregate_object, bucket_start,
};
pub use baseline::{Baseline, BaselineEntry, ObservationKind, api_name};
pub use call_details::CallDetails;
pub use credentials::{CredentialIssue, ISSUING_CALLS, credential_issue};
pub use input::{
    InputError, ParsedObject, ReadOptions, Shape, Skips, StreamRead, for_each_record, parse_object,
    parse_object_with, read_records,
};
pub use limits::{ERROR_MESSAGE_MAX, NAME_MAX, TARGETS_MAX, USER_AGENT_MAX};
pub use net::{IPV4_NETWORK_BITS, IPV6_NETWORK_BITS, network, normalize_source, parse_ip};
pub use notable::{
    KMS_CRYPTO_OPERATIONS, NotableEvent, NotableReason, READ_PREFIXES, S3_POLICY_CHANGES,
    SECRET_READS, SENSITIVE_SERVICES, is_auth_error, notable_reasons,
};
pub use principal::{EntityKey, EntityKind, PrincipalType, issuer_arn};
pub use record::{
    CloudTrailRecord, EventType, InsightDetails, Record, ResourceRef, SessionAttributes,
    SessionContext, SessionIssuer, SkipReason, UserIdentity, parse_event_time,
};
pub use stats::Stats;
pub use stream::{StreamReport, aggregate_stream};
