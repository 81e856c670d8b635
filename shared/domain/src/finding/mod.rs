//! The GuardDuty finding: its typed model, how it is read from an event, and the facts the
//! later steps derive from it.

mod anomaly;
mod event;
mod facts;
mod ids;
mod kube_call;
mod model;

pub use anomaly::AccountNetwork;
pub use event::{
    FindingEvent, GUARDDUTY_DETAIL_TYPE, GUARDDUTY_SOURCE, InputError, parse_event,
    parse_event_bytes,
};
pub use facts::{Family, ResourceSummary, parse_time};
pub use ids::{FindingId, IdError, Severity, SeverityBand};
pub use kube_call::KubeFindingCall;
pub use model::*;
