//! EKS (Kubernetes) audit logs as a [`LogSource`](super::LogSource): the objects Firehose writes
//! to S3 from a CloudWatch Logs subscription of the cluster's log group (payloads one per line or
//! back to back, each gzip member read), or NDJSON / JSON array exports of audit events (gzip or
//! plain); aggregated per cluster, user, source address and ten minutes ([`triage_logs::eks`]),
//! laid out by [`kube_items`](crate::context_items::kube_items).
//!
//! The cluster is named by each payload's log group (`/aws/eks/<cluster>/cluster`); events
//! exported without it are filed under the cluster `-`.

use super::json_log::{JsonLog, JsonLogSource};
use crate::Item;
use crate::context_items::{ChunkNumbers, ObjectId};
use std::io::Read;
use triage_logs::bucketed::{Limits, Summary};
use triage_logs::eks::{self, CallKey, CallStats, SkipReason};
use triage_logs::json_object::InputError;

/// EKS audit logs. Firehose buffers at most 128 MB before it writes, under the default cap on an
/// object's text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EksAuditLog;

/// The EKS audit source, with its cap on an object's text and its bound on memory.
pub type EksAuditSource = JsonLogSource<EksAuditLog>;

impl JsonLog for EksAuditLog {
    const NAME: &'static str = "eks";
    const DESCRIPTION: &'static str = "EKS audit log";
    /// Default 1024, 1-16384.
    const MAX_TEXT_MB_VAR: &'static str = "TRIAGE_EKS_MAX_TEXT_MB";
    /// Default 16384, 1024-16777216.
    const MAX_LIVE_VAR: &'static str = "TRIAGE_EKS_MAX_LIVE_AGGREGATES";
    const DEFAULT_LIMITS: Limits = eks::DEFAULT_LIMITS;

    type Aggregate = (CallKey, CallStats);
    type SkipReason = SkipReason;

    fn read_within(
        input: impl Read,
        max_text_bytes: u64,
        limits: Limits,
        on_part: impl FnMut(Vec<Self::Aggregate>),
    ) -> Result<Summary<SkipReason>, InputError> {
        eks::read_object_within(input, max_text_bytes, limits, on_part)
    }

    fn items(
        chunks: &mut ChunkNumbers,
        part: &[Self::Aggregate],
        id: &ObjectId,
        expires_at: i64,
    ) -> Vec<Item> {
        chunks.kube_items(part, id, expires_at)
    }
}
