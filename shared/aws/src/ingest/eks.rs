//! EKS (Kubernetes) audit logs as a [`LogSource`]: the objects Firehose writes to S3 from a
//! CloudWatch Logs subscription of the cluster's log group (payloads one per line or back to
//! back, each gzip member read), or NDJSON / JSON array exports of audit events (gzip or plain);
//! aggregated per cluster, user, source address and ten minutes ([`triage_logs::eks`]), laid out
//! by [`kube_items`](crate::context_items::kube_items).
//!
//! The cluster is named by each payload's log group (`/aws/eks/<cluster>/cluster`); events
//! exported without it are filed under the cluster `-`.

use super::read::{ObjectError, ObjectItems, ObjectStats};
use super::source::{Configured, LogSource};
use crate::Item;
use crate::context_items::{ChunkNumbers, ObjectId};
use std::io::Read;
use triage_domain::config::{ConfigError, number};
use triage_logs::eks;

/// The EKS audit source, with its cap on an object's text and its bound on memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EksAuditSource {
    /// Largest object once decompressed: Firehose buffers at most 128 MB before it writes; the
    /// cap stops a gzip bomb or an object that is not an audit log.
    pub max_text_bytes: u64,
    /// Live aggregates held while an object streams in.
    pub limits: eks::Limits,
}

impl EksAuditSource {
    /// 1 GiB of text: about a million audit events, several Firehose deliveries' worth.
    pub const DEFAULT_MAX_TEXT_BYTES: u64 = 1 << 30;
}

impl Default for EksAuditSource {
    fn default() -> Self {
        Self {
            max_text_bytes: Self::DEFAULT_MAX_TEXT_BYTES,
            limits: eks::DEFAULT_LIMITS,
        }
    }
}

impl Configured for EksAuditSource {
    /// `TRIAGE_EKS_MAX_TEXT_MB` (default 1024, 1-16384): the cap on an object's text.
    /// `TRIAGE_EKS_MAX_LIVE_AGGREGATES` (default 16384, 1024-16777216): most aggregates held
    /// while an object streams in; bounds the function's memory whatever the object's size.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let megabytes = number(&get, "TRIAGE_EKS_MAX_TEXT_MB", 1024, 1, 16_384)?;
        let max_live = number(
            &get,
            "TRIAGE_EKS_MAX_LIVE_AGGREGATES",
            eks::DEFAULT_LIMITS.max_live as i64,
            1024,
            16_777_216,
        )?;
        Ok(Self {
            max_text_bytes: (megabytes as u64) << 20,
            limits: eks::Limits {
                max_live: max_live as usize,
                ..eks::DEFAULT_LIMITS
            },
        })
    }
}

impl LogSource for EksAuditSource {
    fn name(&self) -> &'static str {
        "eks"
    }

    fn read(
        &self,
        input: &mut dyn Read,
        id: &ObjectId,
        expires_at: i64,
        on_items: &mut dyn FnMut(Vec<Item>),
    ) -> Result<ObjectStats, ObjectError> {
        stream_eks_audit_log(input, self, id, expires_at, on_items)
    }
}

/// Read an EKS audit log object into items held in memory, within `max_text_bytes` of text and
/// with no bound on live aggregates: one part, for tests and small objects.
pub fn read_eks_audit_log(
    input: impl Read,
    max_text_bytes: u64,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let source = EksAuditSource {
        max_text_bytes,
        limits: eks::Limits::UNBOUNDED,
    };
    let mut items = Vec::new();
    let stats = stream_eks_audit_log(input, &source, id, expires_at, &mut |part| {
        items.extend(part)
    })?;
    Ok(ObjectItems { items, stats })
}

/// Read an EKS audit log object as it streams in, handing its items to `on_items` part by part,
/// each part's chunks numbered after the earlier parts' so that none overwrites another and a
/// retry writes the same keys again.
pub fn stream_eks_audit_log(
    input: impl Read,
    source: &EksAuditSource,
    id: &ObjectId,
    expires_at: i64,
    on_items: &mut dyn FnMut(Vec<Item>),
) -> Result<ObjectStats, ObjectError> {
    let mut chunks = ChunkNumbers::default();
    let summary = eks::read_object_within(input, source.max_text_bytes, source.limits, |part| {
        on_items(chunks.kube_items(&part, id, expires_at))
    })
    .map_err(|e| ObjectError::of_json_object(e, "EKS audit log"))?;
    Ok(ObjectStats::counted(
        summary.records,
        &summary.skipped,
        summary.text_bytes,
    ))
}
