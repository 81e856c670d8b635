//! EKS audit logs in triage: the vocabulary of Kubernetes audit activity that the EKS audit
//! reader (`triage-logs`) writes and triage reads back (why a call is shown on its own,
//! [`NotableKind`], stored under the names of [`NotableKind::as_str`] so that a row written by
//! one version reads in another), the partition keys both sides build, the rows as stored, and
//! the source's part in triage ([`EksAuditLogs`]: keys, summary, rules, notice lines).

mod notice;
mod rows;
mod rules;
mod source;
mod summary;

pub use rows::{KubeCaller, KubeRow, KubeRows};
pub use source::{EksAuditLogs, KubeKeys};
pub use summary::{KubeSummary, KubeUserActivity};

use crate::text::field;
use chrono::{DateTime, Utc};
use std::fmt;
use std::net::IpAddr;

/// The partition of a Kubernetes user's activity in a cluster. A user is keyed per cluster:
/// two clusters' `kubernetes-admin` are two principals.
pub fn user_subject(cluster: &str, username: &str) -> String {
    format!("K8S#{cluster}#user#{username}")
}

/// The partition of the Kubernetes activity from one address in a cluster, the address spelled
/// as [`IpAddr`] displays it (so the writer and the finding's side agree on `::1` vs `0::1`).
pub fn address_subject(cluster: &str, address: &IpAddr) -> String {
    format!("K8S#{cluster}#ip#{address}")
}

/// Whether `pk` is [`user_subject`] of `cluster` and `username`, without building it: asked of
/// every row of a busy address.
pub fn is_user_subject(pk: &str, cluster: &str, username: &str) -> bool {
    pk.strip_prefix("K8S#")
        .and_then(|rest| rest.strip_prefix(cluster))
        .and_then(|rest| rest.strip_prefix("#user#"))
        == Some(username)
}

/// Whether the user is one of the controllers that create pods from specs others wrote: the
/// ReplicaSet, DaemonSet, StatefulSet, Job and CronJob controllers of `kube-controller-manager`
/// (each its own `system:serviceaccount:kube-system:<name>-controller` under
/// `--use-service-account-credentials`, as EKS runs it), or the manager's own identity. What
/// their pods carry (privileged, host namespaces, host paths) is the workload owner's choice,
/// not a step the controller took.
pub fn creates_pods_for_others(username: &str) -> bool {
    username == "system:kube-controller-manager"
        || username
            .strip_prefix("system:serviceaccount:kube-system:")
            .is_some_and(|name| {
                matches!(
                    name,
                    "replicaset-controller"
                        | "daemon-set-controller"
                        | "statefulset-controller"
                        | "job-controller"
                        | "cronjob-controller"
                        | "replication-controller"
                )
            })
}

/// Whether a user name is the API server's name for an unauthenticated caller.
pub fn is_anonymous(username: &str) -> bool {
    username == "system:anonymous"
}

/// Why a call is shown on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum NotableKind {
    /// `pods/exec`: a command run in a running container (T1609 Container Administration
    /// Command; GuardDuty `Execution:Kubernetes/ExecInKubeSystemPod`).
    PodExec,
    /// `pods/attach`: a terminal on a running container's main process (T1609).
    PodAttach,
    /// `pods/portforward`: a pod's port reached from the client, past the cluster's network
    /// controls (no technique of its own in the Containers matrix; Enterprise T1572 Protocol
    /// Tunneling).
    PodPortForward,
    /// `secrets` read with `get`, `list` or `watch` (T1552.007 Unsecured Credentials: Container
    /// API). Kubelets read the secrets of the pods they run, so theirs are not notable.
    SecretRead,
    /// A pod, or a workload's pod template, with a `privileged` container (T1611 Escape to Host;
    /// GuardDuty `PrivilegeEscalation:Kubernetes/PrivilegedContainer`).
    PrivilegedContainer,
    /// `hostPID: true`: the node's processes visible, and `nsenter` into them (T1611).
    HostPid,
    /// `hostIPC: true`: the node's shared memory (T1611).
    HostIpc,
    /// `hostNetwork: true`: the node's interfaces, and what only the node may reach, such as the
    /// instance metadata service (T1611).
    HostNetwork,
    /// A `hostPath` volume: a directory of the node mounted in the pod (T1611; GuardDuty
    /// `Persistence:Kubernetes/ContainerWithSensitiveMount`).
    HostPathMount,
    /// A role, cluster role or (cluster) role binding created, updated or patched (T1098.006
    /// Account Manipulation: Additional Container Cluster Roles).
    RbacChange,
    /// A (cluster) role binding to `cluster-admin` (T1098.006; GuardDuty
    /// `Policy:Kubernetes/AdminAccessToDefaultServiceAccount` when the subject is a default
    /// service account).
    ClusterAdminBinding,
    /// A call by `system:anonymous` or the `system:unauthenticated` group, allowed or not
    /// (T1078.001 Valid Accounts: Default Accounts; GuardDuty
    /// `Policy:Kubernetes/AnonymousAccessGranted`, `Discovery:Kubernetes/SuccessfulAnonymousAccess`).
    Anonymous,
    /// `serviceaccounts/token` created: a new token for a service account (T1528 Steal
    /// Application Access Token). Kubelets request one for every pod they run, so theirs are not
    /// notable.
    TokenRequest,
}

impl NotableKind {
    /// Whether the kind is read off the pod's spec (what the pod may do), not off the call.
    pub fn of_pod_spec(self) -> bool {
        matches!(
            self,
            NotableKind::PrivilegedContainer
                | NotableKind::HostPid
                | NotableKind::HostIpc
                | NotableKind::HostNetwork
                | NotableKind::HostPathMount
        )
    }

    pub const ALL: [NotableKind; 13] = [
        NotableKind::PodExec,
        NotableKind::PodAttach,
        NotableKind::PodPortForward,
        NotableKind::SecretRead,
        NotableKind::PrivilegedContainer,
        NotableKind::HostPid,
        NotableKind::HostIpc,
        NotableKind::HostNetwork,
        NotableKind::HostPathMount,
        NotableKind::RbacChange,
        NotableKind::ClusterAdminBinding,
        NotableKind::Anonymous,
        NotableKind::TokenRequest,
    ];

    /// The stored name: stable across versions, never the `Debug` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotableKind::PodExec => "podExec",
            NotableKind::PodAttach => "podAttach",
            NotableKind::PodPortForward => "podPortForward",
            NotableKind::SecretRead => "secretRead",
            NotableKind::PrivilegedContainer => "privilegedContainer",
            NotableKind::HostPid => "hostPid",
            NotableKind::HostIpc => "hostIpc",
            NotableKind::HostNetwork => "hostNetwork",
            NotableKind::HostPathMount => "hostPathMount",
            NotableKind::RbacChange => "rbacChange",
            NotableKind::ClusterAdminBinding => "clusterAdminBinding",
            NotableKind::Anonymous => "anonymous",
            NotableKind::TokenRequest => "tokenRequest",
        }
    }

    /// The kind stored as `name`; `None` for a name this version does not know (written by a
    /// newer one).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// A few words for a notice line.
    pub fn label(self) -> &'static str {
        match self {
            NotableKind::PodExec => "exec into a pod",
            NotableKind::PodAttach => "attach to a pod",
            NotableKind::PodPortForward => "port-forward to a pod",
            NotableKind::SecretRead => "secrets read",
            NotableKind::PrivilegedContainer => "privileged container",
            NotableKind::HostPid => "pod on the host's PID namespace",
            NotableKind::HostIpc => "pod on the host's IPC namespace",
            NotableKind::HostNetwork => "pod on the host's network",
            NotableKind::HostPathMount => "host path mounted",
            NotableKind::RbacChange => "RBAC change",
            NotableKind::ClusterAdminBinding => "cluster-admin bound",
            NotableKind::Anonymous => "anonymous call",
            NotableKind::TokenRequest => "service account token minted",
        }
    }

    /// The ATT&CK technique, as cited in the doc comment.
    pub fn technique(self) -> &'static str {
        match self {
            NotableKind::PodExec | NotableKind::PodAttach => "T1609",
            NotableKind::PodPortForward => "T1572",
            NotableKind::SecretRead => "T1552.007",
            NotableKind::PrivilegedContainer
            | NotableKind::HostPid
            | NotableKind::HostIpc
            | NotableKind::HostNetwork
            | NotableKind::HostPathMount => "T1611",
            NotableKind::RbacChange | NotableKind::ClusterAdminBinding => "T1098.006",
            NotableKind::Anonymous => "T1078.001",
            NotableKind::TokenRequest => "T1528",
        }
    }
}

/// A set of [`NotableKind`]s: one call can be several (a privileged pod on the host's PID
/// namespace with the node's root mounted), and a set of bits costs nothing per call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NotableKinds(u16);

impl NotableKinds {
    pub fn insert(&mut self, kind: NotableKind) {
        self.0 |= 1 << kind as u8;
    }

    pub fn contains(self, kind: NotableKind) -> bool {
        self.0 & (1 << kind as u8) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = NotableKind> {
        NotableKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

impl FromIterator<NotableKind> for NotableKinds {
    fn from_iter<I: IntoIterator<Item = NotableKind>>(iter: I) -> Self {
        let mut kinds = NotableKinds::default();
        for kind in iter {
            kinds.insert(kind);
        }
        kinds
    }
}

/// One notable call kept on its own: what it did, to what, and whether it was let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotableCall {
    pub time: DateTime<Utc>,
    pub kinds: NotableKinds,
    pub verb: String,
    /// With its subresource (`pods/exec`).
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// The response's HTTP code, when logged.
    pub code: Option<u16>,
    /// Refused by authentication or authorization (401, 403).
    pub denied: bool,
}

/// As a notice shows it: `12:05 create pods/exec kube-system/coredns-x (101)`. Every part but
/// the time comes from the client's request: sanitised and clipped.
impl fmt::Display for NotableCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.time.format("%H:%M"),
            field(&self.verb, 20),
            field(&self.resource, 40)
        )?;
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => write!(f, " {}/{}", field(ns, 40), field(name, 60))?,
            (Some(ns), None) => write!(f, " in {}", field(ns, 40))?,
            (None, Some(name)) => write!(f, " {}", field(name, 60))?,
            (None, None) => {}
        }
        match self.code {
            Some(code) => write!(f, " ({code})"),
            None => Ok(()),
        }
    }
}

impl NotableKinds {
    /// The stored form: the kinds' names, comma-separated, in [`NotableKind::ALL`]'s order.
    pub fn to_stored(self) -> String {
        self.iter()
            .map(NotableKind::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Read back [`Self::to_stored`]; names this version does not know are left out.
    pub fn from_stored(stored: &str) -> Self {
        stored.split(',').filter_map(NotableKind::parse).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_subject_is_recognised_without_being_built() {
        let pk = user_subject("prod", "alice");
        assert!(is_user_subject(&pk, "prod", "alice"));
        assert!(!is_user_subject(&pk, "prod", "alic"));
        assert!(!is_user_subject(&pk, "pro", "d#user#alice"));
        assert!(!is_user_subject(
            &address_subject("prod", &[10, 0, 0, 1].into()),
            "prod",
            "10.0.0.1"
        ));
    }

    #[test]
    fn every_kind_reads_back_from_its_stored_name_and_unknown_names_are_left_out() {
        for kind in NotableKind::ALL {
            assert_eq!(NotableKind::parse(kind.as_str()), Some(kind));
        }
        let names: std::collections::BTreeSet<_> =
            NotableKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), NotableKind::ALL.len(), "names are distinct");
        let kinds: NotableKinds = [NotableKind::HostPid, NotableKind::PrivilegedContainer]
            .into_iter()
            .collect();
        assert_eq!(kinds.to_stored(), "privilegedContainer,hostPid");
        assert_eq!(NotableKinds::from_stored(&kinds.to_stored()), kinds);
        assert_eq!(
            NotableKinds::from_stored("podExec,fromTheFuture"),
            [NotableKind::PodExec].into_iter().collect()
        );
        assert!(NotableKinds::from_stored("").is_empty());
    }
}
