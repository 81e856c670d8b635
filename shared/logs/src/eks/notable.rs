//! The calls worth showing one by one beside a Kubernetes finding: what GuardDuty's EKS
//! Protection findings are about, so that triage can say whether the user went on to do it (or
//! had done it before). Everything else is only counted.
//!
//! Techniques are MITRE ATT&CK's (the Containers matrix where it has one), so a notice can name
//! them the way the findings' own documentation does.

use super::record::AuditObject;
use serde::Deserialize;
use serde::de::IgnoredAny;
pub use triage_domain::kube::{NotableKind, NotableKinds};

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
