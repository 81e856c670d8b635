//! API activity as CloudTrail records it, and what it means for triage: the record model (every
//! field optional and lenient), who made a call ([`PrincipalType`], [`EntityKey`]), which calls
//! are kept in full ([`NotableEvent`], [`notable_reasons`]) and what their parameters grant or
//! change ([`CallDetails`]).
//!
//! It sits in the domain, not with the log readers, because both sides speak it: the CloudTrail
//! ingest builds notable events and baselines from records, and the behaviour catalogue,
//! enrichment and rules read them back. Reading whole log objects and compacting them is the
//! `triage-logs` crate's business.
//!
//! Files, in reading order: `record.rs` (its fields read by [`crate::lenient`]),
//! `identity.rs`, `principal.rs`, `notable.rs`, `call_details.rs`, `observation.rs`, `net.rs`, `limits.rs`.

mod call_details;
mod identity;
mod limits;
mod net;
mod notable;
mod observation;
mod principal;
mod record;

pub use crate::lenient::Lenient;
pub use call_details::CallDetails;
pub use identity::{PrincipalType, SessionAttributes, SessionContext, SessionIssuer, UserIdentity};
pub use limits::{
    ERROR_MESSAGE_MAX, NAME_MAX, TARGETS_MAX, USER_AGENT_MAX, bounded, bounded_owned,
};
pub use net::{IPV4_NETWORK_BITS, IPV6_NETWORK_BITS, network, normalize_source, parse_ip};
pub use notable::{
    KMS_CRYPTO_OPERATIONS, NotableEvent, NotableReason, READ_PREFIXES, S3_POLICY_CHANGES,
    SECRET_READS, SENSITIVE_SERVICES, is_auth_error, notable_reasons,
};
pub use observation::{ObservationKind, api_name};
pub use principal::{
    EntityKey, EntityKind, KeyRef, issuer_arn, primary_key, principal_keys, without_iam_path,
};
pub use record::{
    CloudTrailRecord, EventType, InsightDetails, Record, ResourceRef, SkipReason, parse_event_time,
};
