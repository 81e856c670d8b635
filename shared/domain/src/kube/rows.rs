//! The EKS audit rows as triage reads them back.

use super::{NotableCall, NotableKind};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What one Kubernetes user did from one address in one ten-minute bucket of EKS audit logs:
/// how much, what kinds of call, whether refused, and the notable calls one by one. Every list
/// is cut to a few entries by the reader (the text is the client's choice); the counts are whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeRow {
    /// The EKS cluster's name (`-` when the log did not say).
    pub cluster: String,
    pub username: String,
    /// The address the API server saw; `None` for calls logged without one.
    pub source_ip: Option<IpAddr>,
    /// The user's `uid` (for an EKS user the IAM principal's ID): what links it to CloudTrail.
    pub uid: Option<String>,
    pub groups: Vec<String>,
    pub user_agents: Vec<String>,
    /// Users the calls impersonated.
    pub impersonated: Vec<String>,
    /// `X-Forwarded-For` addresses, which the client chooses: shown, never trusted.
    pub forwarded_for: Vec<IpAddr>,
    pub calls: u64,
    pub denied: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// Calls by verb; past a few dozen names the rest are under `(other)`.
    pub verbs: BTreeMap<String, u64>,
    /// Calls by resource with its subresource (`pods/exec`), cut like `verbs`.
    pub resources: BTreeMap<String, u64>,
    /// Refused calls by action, `<verb> <resource>` (`list secrets`), cut like `verbs`.
    pub refused: BTreeMap<String, u64>,
    /// Notable calls, all of them (`notable` keeps only the first few).
    pub notable_calls: u64,
    /// Notable calls per kind, all of them (a call of two kinds counts for both).
    pub notable_counts: BTreeMap<NotableKind, u64>,
    pub notable: Vec<NotableCall>,
}

/// Another user's calls from one address in one ten-minute bucket: the head of a [`KubeRow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeCaller {
    pub cluster: String,
    pub username: String,
    pub source_ip: Option<IpAddr>,
    pub calls: u64,
    pub denied: u64,
}

/// The audit rows read for a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeRows {
    /// What the finding's Kubernetes user, or its source addresses, did in the window.
    pub rows: Vec<KubeRow>,
    /// The other users calling from the finding's addresses, counts only: the notice names them,
    /// and behind a NAT gateway they can be thousands, so their rows are not read whole.
    pub callers: Vec<KubeCaller>,
}
