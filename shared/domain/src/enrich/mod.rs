//! Enrichment: what the ingested context says about the entities of a finding, within its scope
//! window.
//!
//! [`subjects`] names what to look up, a [`ContextSource`] fetches the rows (DynamoDB in
//! production, in-memory in tests), and [`ContextSummary`] boils them down to the facts the
//! classifier's context rules and the notice use. Only the fetching touches AWS. CloudTrail and
//! the VPC flow logs are the core context, summarised here; every other log source (Route 53
//! Resolver, EKS audit) is a [`LogContext`] in its own module, registered in [`sources`].

mod context;
mod rows;
mod source;
pub mod sources;
mod subjects;
mod summary;

pub(crate) use summary::top;
mod timeline;

pub use context::Context;
pub use rows::{ActivityRow, BaselineRow, CoreRows, FlowRow};
pub use source::{LogContext, SourceRule};
pub use sources::{SourceKeys, SourceRows, SourceSummaries};
pub use subjects::{Subjects, subjects};
pub use summary::{CallsFromNewNetwork, ContextSummary, FlowTotals, RemoteTraffic, ServicePort};
pub use timeline::{Timeline, sparkline};

use crate::dedupe::StoreError;
use crate::scope::ScopeWindow;
use async_trait::async_trait;

#[async_trait]
pub trait ContextSource: Send + Sync {
    /// Every stored row about `subjects` in `window` (baseline rows: all history).
    async fn load(&self, subjects: &Subjects, window: &ScopeWindow) -> Result<Context, StoreError>;
}
