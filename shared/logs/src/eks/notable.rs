//! The calls worth showing one by one beside a Kubernetes finding: what GuardDuty's EKS
//! Protection findings are about, so that triage can say whether the user went on to do it (or
//! had done it before). Everything else is only counted.
//!
//! Techniques are MITRE ATT&CK's (the Containers matrix where it has one), so a notice can name
//! them the way the findings' own documentation does.

use super::record::AuditObject;
use serde::Deserialize;
use serde::de::IgnoredAny;

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

/// Resources whose body holds a pod template (`spec.template.spec`, or
/// `spec.jobTemplate.spec.template.spec` for cron jobs): creating one creates the pods.
const WORKLOADS: [&str; 7] = [
    "deployments",
    "daemonsets",
    "statefulsets",
    "replicasets",
    "replicationcontrollers",
    "jobs",
    "cronjobs",
];

const RBAC: [&str; 4] = [
    "roles",
    "clusterroles",
    "rolebindings",
    "clusterrolebindings",
];

fn writes(verb: &str) -> bool {
    matches!(verb, "create" | "update" | "patch")
}

/// What makes `event` notable (nothing for most calls).
pub fn classify(event: &AuditObject<'_>) -> NotableKinds {
    let mut kinds = NotableKinds::default();
    let user = event.user.as_ref();
    let username = user.and_then(|u| u.username.as_deref()).unwrap_or("");
    let unauthenticated = user
        .and_then(|u| u.groups.as_ref())
        .is_some_and(|groups| groups.iter().any(|g| g == "system:unauthenticated"));
    if username == "system:anonymous" || unauthenticated {
        kinds.insert(NotableKind::Anonymous);
    }
    // A node's credential: the node authorizer lets it reach only what its own pods need.
    let kubelet = username.starts_with("system:node:");
    let Some(object) = event.object_ref.as_ref() else {
        return kinds;
    };
    let verb = event.verb.as_deref().unwrap_or("");
    let resource = object.resource.as_deref().unwrap_or("");
    let subresource = object.subresource.as_deref();
    match (resource, subresource) {
        ("pods", Some("exec")) => kinds.insert(NotableKind::PodExec),
        ("pods", Some("attach")) => kinds.insert(NotableKind::PodAttach),
        ("pods", Some("portforward")) => kinds.insert(NotableKind::PodPortForward),
        ("pods", None | Some("ephemeralcontainers")) if writes(verb) => {
            if let Some(spec) = body(event).and_then(|b| b.spec) {
                spec.add_kinds(&mut kinds);
            }
        }
        ("secrets", None) if matches!(verb, "get" | "list" | "watch") && !kubelet => {
            kinds.insert(NotableKind::SecretRead)
        }
        ("serviceaccounts", Some("token")) if verb == "create" && !kubelet => {
            kinds.insert(NotableKind::TokenRequest)
        }
        (resource, None) if writes(verb) && WORKLOADS.contains(&resource) => {
            if let Some(spec) = body(event).and_then(|b| b.spec) {
                spec.add_template_kinds(&mut kinds);
            }
        }
        (resource, None) if writes(verb) && RBAC.contains(&resource) => {
            kinds.insert(NotableKind::RbacChange);
            let admin = body(event)
                .and_then(|b| b.role_ref)
                .is_some_and(|r| r.name.as_deref() == Some("cluster-admin"));
            if admin && resource.ends_with("bindings") {
                kinds.insert(NotableKind::ClusterAdminBinding);
            }
        }
        _ => {}
    }
    kinds
}

/// The request body, when it reads as one: a body of another shape (a JSON patch is a list) is
/// none, not an error.
fn body<'a>(event: &AuditObject<'a>) -> Option<Body<'a>> {
    serde_json::from_str(event.request_object?.get()).ok()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    #[serde(default)]
    spec: Option<Spec>,
    #[serde(default, borrow)]
    role_ref: Option<RoleRef<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct RoleRef<'a> {
    #[serde(default, borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
}

/// A pod spec, or a workload spec holding one in `template` (`jobTemplate` for a cron job).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default, rename = "hostPID")]
    host_pid: Option<bool>,
    #[serde(default, rename = "hostIPC")]
    host_ipc: Option<bool>,
    #[serde(default)]
    host_network: Option<bool>,
    #[serde(default)]
    containers: Option<Vec<Container>>,
    #[serde(default)]
    init_containers: Option<Vec<Container>>,
    #[serde(default)]
    ephemeral_containers: Option<Vec<Container>>,
    #[serde(default)]
    volumes: Option<Vec<Volume>>,
    #[serde(default)]
    template: Option<Box<Template>>,
    #[serde(default)]
    job_template: Option<Box<Template>>,
}

#[derive(Debug, Default, Deserialize)]
struct Template {
    #[serde(default)]
    spec: Option<Spec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    #[serde(default)]
    security_context: Option<SecurityContext>,
}

#[derive(Debug, Default, Deserialize)]
struct SecurityContext {
    #[serde(default)]
    privileged: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Volume {
    #[serde(default)]
    host_path: Option<IgnoredAny>,
}

impl Spec {
    fn add_kinds(&self, kinds: &mut NotableKinds) {
        let containers = [
            &self.containers,
            &self.init_containers,
            &self.ephemeral_containers,
        ];
        let privileged = containers.into_iter().flatten().flatten().any(|c| {
            c.security_context
                .as_ref()
                .and_then(|s| s.privileged)
                .unwrap_or(false)
        });
        let flags = [
            (privileged, NotableKind::PrivilegedContainer),
            (self.host_pid == Some(true), NotableKind::HostPid),
            (self.host_ipc == Some(true), NotableKind::HostIpc),
            (self.host_network == Some(true), NotableKind::HostNetwork),
            (
                self.volumes.iter().flatten().any(|v| v.host_path.is_some()),
                NotableKind::HostPathMount,
            ),
        ];
        for (set, kind) in flags {
            if set {
                kinds.insert(kind);
            }
        }
    }

    /// The pod template's kinds: `spec.template.spec`, or one level deeper for a cron job.
    fn add_template_kinds(&self, kinds: &mut NotableKinds) {
        let template = self.template.as_ref().and_then(|t| t.spec.as_ref());
        if let Some(pod) = template {
            pod.add_kinds(kinds);
        }
        let job = self
            .job_template
            .as_ref()
            .and_then(|t| t.spec.as_ref())
            .and_then(|job| job.template.as_ref())
            .and_then(|t| t.spec.as_ref());
        if let Some(pod) = job {
            pod.add_kinds(kinds);
        }
    }
}
