//! EKS (Kubernetes) audit logs as a [`LogSource`](super::LogSource): the objects Firehose writes
//! to S3 from a CloudWatch Logs subscription of the cluster's log group (payloads one per line or
//! back to back, each gzip member read), or NDJSON / JSON array exports of audit events (gzip or
//! plain); aggregated per cluster, user, source address and ten minutes ([`triage_logs::eks`]),
//! laid out by [`kube_items`](crate::context_items::kube_items).
//!
//! The cluster is named by each payload's log group (`/aws/eks/<cluster>/cluster`). Audit events
//! that reach S3 without it (Firehose's message extraction keeps only the messages; exports)
//! take the cluster [`ClusterNames`] gives their object's key, else `-`, where no Kubernetes
//! finding will look for them.

use super::json_log::{JsonLog, JsonLogSource};
use crate::Item;
use crate::context_items::{ChunkNumbers, ObjectId};
use std::io::Read;
use std::str::FromStr;
use triage_domain::config::ConfigError;
use triage_logs::bucketed::{Limits, Summary};
use triage_logs::eks::{self, CallKey, CallStats, SkipReason};
use triage_logs::json_object::InputError;

/// EKS audit logs. Firehose buffers at most 128 MB before it writes, under the default cap on an
/// object's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EksAuditLog {
    /// The cluster of events without a log group, by object key.
    pub clusters: ClusterNames,
}

/// Which cluster the audit events of an object without log groups belong to, by the object's
/// key: `name` alone for every object, or `prefix=name` pairs, comma separated, the longest
/// matching prefix winning (one Firehose stream per cluster, each with its own S3 prefix). A
/// payload's log group always wins: it is the log's own word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterNames {
    /// (key prefix, cluster), longest prefix first.
    by_prefix: Vec<(String, String)>,
}

impl ClusterNames {
    /// The environment variable of the ingest function (and of `triage-cli`).
    pub const VAR: &'static str = "TRIAGE_EKS_CLUSTERS";

    /// The cluster of the object at `key`, if one is configured.
    pub fn of_key(&self, key: &str) -> Option<&str> {
        (self.by_prefix.iter())
            .find(|(prefix, _)| key.starts_with(prefix.as_str()))
            .map(|(_, cluster)| cluster.as_str())
    }

    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let raw = get(Self::VAR).unwrap_or_default();
        raw.parse().map_err(|reason| ConfigError::Invalid {
            name: Self::VAR,
            value: raw,
            reason,
        })
    }
}

impl FromStr for ClusterNames {
    type Err = &'static str;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let mut by_prefix: Vec<(String, String)> = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (prefix, cluster) = entry.rsplit_once('=').unwrap_or(("", entry));
            let (prefix, cluster) = (prefix.trim(), cluster.trim());
            if !is_cluster_name(cluster) {
                return Err(
                    "a cluster name is 1-100 letters, digits, '-' or '_', starting with a letter or digit (entries are `name` or `prefix=name`, comma separated)",
                );
            }
            if by_prefix.iter().any(|(p, _)| p == prefix) {
                return Err("a key prefix is given two clusters");
            }
            by_prefix.push((prefix.to_owned(), cluster.to_owned()));
        }
        by_prefix.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(Self { by_prefix })
    }
}

/// EKS's rule for a cluster's name.
fn is_cluster_name(name: &str) -> bool {
    name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

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
    /// The control plane's audit log is in CloudWatch Logs first: a subscription filter on
    /// `/aws/eks/<cluster>/cluster` may invoke `ingest-eks` directly.
    const READS_LOG_SUBSCRIPTIONS: bool = true;

    type Aggregate = (CallKey, CallStats);
    type SkipReason = SkipReason;

    /// [`ClusterNames::VAR`]: see [`ClusterNames`]; none by default.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            clusters: ClusterNames::from_lookup(get)?,
        })
    }

    fn read_within(
        &self,
        input: impl Read,
        key: &str,
        max_text_bytes: u64,
        limits: Limits,
        on_part: impl FnMut(Vec<Self::Aggregate>),
    ) -> Result<Summary<SkipReason>, InputError> {
        let cluster = self.clusters.of_key(key);
        eks::read_cluster_object_within(input, max_text_bytes, cluster, limits, on_part)
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
