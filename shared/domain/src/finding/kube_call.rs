//! The Kubernetes API call a finding was raised on, in the terms the EKS audit rows use: the
//! cluster and user the rows are filed under, the addresses the call came from, and the call
//! itself, so the summary can tell the finding's own call (already in the finding) from what the
//! user did around it (what the audit log adds).

use super::Finding;
use crate::kube::{NotableCall, address_subject, is_anonymous, user_subject};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What a Kubernetes finding names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeFindingCall {
    /// `eksClusterDetails.name`.
    pub cluster: String,
    /// `kubernetesUserDetails.username`: the authenticated user, as the audit log's
    /// `user.username`.
    pub username: Option<String>,
    /// The last of `sourceIPs` (the peer the API server saw: the others come from
    /// `X-Forwarded-For`, which the client writes) and `remoteIpDetails`' address. The EKS reader
    /// files a call under the same last address.
    pub addresses: BTreeSet<IpAddr>,
    pub verb: Option<String>,
    /// With its subresource, as the rows spell it (`pods/exec`).
    pub resource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// When GuardDuty last saw the call: of several calls that match what the finding says
    /// (it may name no object), the finding's is the one nearest this.
    pub time: Option<DateTime<Utc>>,
}

impl KubeFindingCall {
    /// The partition key of the user's activity; `None` for the anonymous user, which is not a
    /// principal but every unauthenticated caller at once: during an internet-wide scan its
    /// partition holds an aggregate per scanning address (hundreds of thousands in an hour), and
    /// what matters of an anonymous call is what its address did, which the address keys read.
    pub fn user_subject(&self) -> Option<String> {
        self.username
            .as_deref()
            .filter(|u| !is_anonymous(u))
            .map(|u| user_subject(&self.cluster, u))
    }

    /// The partition keys of the activity from the call's addresses.
    pub fn address_subjects(&self) -> impl Iterator<Item = String> + '_ {
        self.addresses
            .iter()
            .map(|a| address_subject(&self.cluster, a))
    }

    /// Whether a notable call from the audit log is the one the finding was raised on. Every
    /// field the finding gives must match; a finding that names no resource matches nothing
    /// (its call cannot be told apart, so nothing is taken away).
    pub fn is_own(&self, call: &NotableCall) -> bool {
        let Some(resource) = &self.resource else {
            return false;
        };
        let same = |finding: &Option<String>, row: &Option<String>| {
            finding.is_none() || finding.as_deref() == row.as_deref()
        };
        call.resource == *resource
            && self.verb.as_deref().is_none_or(|v| v == call.verb)
            && same(&self.namespace, &call.namespace)
            && same(&self.name, &call.name)
    }
}

impl Finding {
    /// The Kubernetes call of an EKS audit-log finding; `None` for a finding that names no
    /// cluster.
    pub fn kube_call(&self) -> Option<KubeFindingCall> {
        let resource = self.resource.as_ref()?;
        let cluster = resource
            .eks_cluster_details
            .as_ref()?
            .name
            .as_deref()
            .filter(|n| !n.is_empty())?;
        let mut out = KubeFindingCall {
            cluster: cluster.to_owned(),
            username: resource
                .kubernetes_details
                .as_ref()
                .and_then(|k| k.kubernetes_user_details.as_ref())
                .and_then(|u| u.username.clone())
                .filter(|u| !u.is_empty()),
            time: self.last_seen(),
            ..KubeFindingCall::default()
        };
        let Some(action) = self
            .service()
            .and_then(|s| s.action.as_ref())
            .and_then(|a| a.kubernetes_api_call_action.as_ref())
        else {
            return Some(out);
        };
        out.addresses.extend(
            action
                .source_ips
                .last()
                .and_then(|ip| ip.trim().parse::<IpAddr>().ok()),
        );
        out.addresses.extend(
            action
                .remote_ip_details
                .as_ref()
                .and_then(|r| r.ip())
                .and_then(|ip| ip.parse::<IpAddr>().ok()),
        );
        out.verb = action.verb.clone().filter(|v| !v.is_empty());
        let from_uri = action.request_uri.as_deref().and_then(parse_request_uri);
        out.resource = match (&action.resource, &action.subresource) {
            (Some(r), Some(sub)) if !r.is_empty() && !sub.is_empty() => Some(format!("{r}/{sub}")),
            (Some(r), _) if !r.is_empty() => Some(r.clone()),
            _ => from_uri.as_ref().map(|c| c.resource.clone()),
        };
        out.namespace = action
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| from_uri.as_ref().and_then(|c| c.namespace.clone()));
        out.name = action
            .resource_name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| from_uri.and_then(|c| c.name));
        Some(out)
    }
}

/// A resource path read from a request URI.
#[derive(Debug, PartialEq, Eq)]
struct UriCall {
    resource: String,
    namespace: Option<String>,
    name: Option<String>,
}

/// The resource of a Kubernetes REST path: `/api/v1/...` (the core group) or
/// `/apis/<group>/<version>/...`, then `namespaces/<ns>/` for a namespaced object, then
/// `<resource>[/<name>[/<subresource>]]`. Older findings give only this URI.
fn parse_request_uri(uri: &str) -> Option<UriCall> {
    let path = uri.split('?').next()?;
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let rest = match parts.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        _ => (None, rest),
    };
    let (resource, name) = match rest {
        [resource] => (resource.to_string(), None),
        [resource, name] => (resource.to_string(), Some(name.to_string())),
        [resource, name, sub, ..] => (format!("{resource}/{sub}"), Some(name.to_string())),
        [] => return None,
    };
    Some(UriCall {
        resource,
        namespace,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::parse_event;
    use crate::kube::NotableKinds;
    use serde_json::json;

    fn call(resource: &str, namespace: Option<&str>, name: Option<&str>) -> NotableCall {
        NotableCall {
            time: chrono::DateTime::UNIX_EPOCH,
            kinds: NotableKinds::default(),
            verb: "create".into(),
            resource: resource.into(),
            namespace: namespace.map(Into::into),
            name: name.map(Into::into),
            code: Some(101),
            denied: false,
        }
    }

    #[test]
    fn request_uris_read_as_the_rows_spell_resources() {
        let read = |uri| parse_request_uri(uri).map(|c| (c.resource, c.namespace, c.name));
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            read("/api/v1/namespaces/kube-system/pods/coredns-7f6b8c9d4-abcde/exec?command=sh"),
            Some((
                "pods/exec".into(),
                s("kube-system"),
                s("coredns-7f6b8c9d4-abcde")
            ))
        );
        assert_eq!(
            read("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"),
            Some(("clusterrolebindings".into(), None, None))
        );
        assert_eq!(
            read("/api/v1/namespaces/default/secrets"),
            Some(("secrets".into(), s("default"), None))
        );
        assert_eq!(
            read("/api/v1/namespaces/foo"),
            Some(("namespaces".into(), None, s("foo")))
        );
        assert_eq!(read("/version"), None);
        assert_eq!(read("/api"), None);
    }

    #[test]
    fn the_findings_own_call_is_told_from_the_users_other_calls() {
        // The shape of the documented finding format (GuardDuty API reference, `Finding`):
        // `sourceIPs` as the audit log spells it, resource fields as the newer findings give.
        let event = parse_event(
            json!({"id": "k", "type": "Execution:Kubernetes/ExecInKubeSystemPod",
            "severity": 5,
            "resource": {"resourceType": "EKSCluster", "eksClusterDetails": {"name": "prod"},
                "kubernetesDetails": {"kubernetesUserDetails": {"username": "alice"}}},
            "service": {"action": {"actionType": "KUBERNETES_API_CALL", "kubernetesApiCallAction": {
                "requestUri": "/api/v1/namespaces/kube-system/pods/aws-node-x/exec?command=sh",
                "verb": "create", "sourceIPs": ["198.51.100.7", "10.0.0.9"],
                "remoteIpDetails": {"ipAddressV4": "10.0.0.9"}}}}}),
        )
        .unwrap();
        let k = event.finding.kube_call().unwrap();
        assert_eq!(k.cluster, "prod");
        assert_eq!(k.user_subject().as_deref(), Some("K8S#prod#user#alice"));
        assert_eq!(
            k.address_subjects().collect::<Vec<_>>(),
            ["K8S#prod#ip#10.0.0.9"],
            "the forwarded-for address is the client's word: not a key"
        );
        assert!(k.is_own(&call("pods/exec", Some("kube-system"), Some("aws-node-x"))));
        assert!(!k.is_own(&call("pods/exec", Some("kube-system"), Some("coredns-1"))));
        assert!(!k.is_own(&call("secrets", Some("kube-system"), None)));
    }

    #[test]
    fn an_anonymous_call_is_looked_up_by_its_address_only() {
        let event = parse_event(
            json!({"id": "k", "type": "Discovery:Kubernetes/SuccessfulAnonymousAccess",
            "severity": 5,
            "resource": {"resourceType": "EKSCluster", "eksClusterDetails": {"name": "prod"},
                "kubernetesDetails": {"kubernetesUserDetails": {"username": "system:anonymous"}}},
            "service": {"action": {"kubernetesApiCallAction": {"requestUri": "/api/v1/pods",
                "verb": "list", "sourceIPs": ["203.0.113.9"]}}}}),
        )
        .unwrap();
        let k = event.finding.kube_call().unwrap();
        assert_eq!(k.user_subject(), None);
        assert_eq!(
            k.address_subjects().collect::<Vec<_>>(),
            ["K8S#prod#ip#203.0.113.9"]
        );
    }

    #[test]
    fn a_finding_without_a_cluster_has_no_kubernetes_call() {
        let event = parse_event(
            json!({"id": "k", "type": "Recon:EC2/PortProbeUnprotectedPort",
            "severity": 2, "resource": {"resourceType": "Instance"}}),
        )
        .unwrap();
        assert_eq!(event.finding.kube_call(), None);
    }
}
