//! Enrichment: what the ingested CloudTrail, VPC Flow Log, Route 53 Resolver and EKS audit
//! context says about the entities of a finding, within its scope window.
//!
//! [`subjects`] names what to look up, a [`ContextSource`] fetches the rows (DynamoDB in
//! production, in-memory in tests), and [`ContextSummary`] boils them down to the facts the
//! classifier's context rules and the notice use. Only the fetching touches AWS.

mod rows;
mod subjects;
mod summary;
mod timeline;

pub use rows::{ActivityRow, BaselineRow, Context, DnsRow, FlowRow, KubeCaller, KubeRow};
pub use subjects::{Subjects, subjects};
pub use summary::{
    AnswerTraffic, CallsFromNewNetwork, ContextSummary, DnsSummary, DomainLookups, FlowTotals,
    KubeSummary, KubeUserActivity, RemoteTraffic, ServicePort,
};
pub use timeline::{Timeline, sparkline};

use crate::dedupe::StoreError;
use crate::scope::ScopeWindow;
use async_trait::async_trait;

#[async_trait]
pub trait ContextSource: Send + Sync {
    /// Every stored row about `subjects` in `window` (baseline rows: all history).
    async fn load(&self, subjects: &Subjects, window: &ScopeWindow) -> Result<Context, StoreError>;
}
