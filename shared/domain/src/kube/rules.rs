//! Rules on what the finding's Kubernetes user did around the finding (EKS audit logs). An EKS
//! audit-log finding is raised on one call (a pod exec'd into, a privileged pod created, a role
//! bound, an anonymous read): an intruder in a cluster does not stop at one. The Containers
//! matrix of ATT&CK reads as a chain (T1609 exec into a container, T1552.007 secrets from the
//! API, T1611 a privileged or host-namespace pod to escape to the node, T1098.006 a role binding
//! to stay, T1528 a token to leave with), and that chain, by the same user in the same hour, is
//! what an analyst looks for in the audit log before anything else.
//!
//! Only techniques beyond the finding's own call count: a second privileged pod says nothing
//! the finding did not. The weight is the class the behaviour catalogue gives the same step in
//! an AWS account ([`crate::behaviour::catalogue`]): an exec, attach or port-forward is a
//! remote command (`MODERATE`: operators do it daily); secrets read, a privileged or
//! host-namespace pod, an RBAC change and a minted token are the credential, privilege and
//! persistence steps of an intrusion (`STRONG`). Neither rule weighs toward false positive: a user who did nothing else
//! in the window, or whose calls are not in the log (audit logging off, the stream not
//! ingested), is an absence of evidence.

use super::{KubeSummary, KubeUserActivity, NotableKind, NotableKinds};
use crate::behaviour::catalogue::{DENIED_APIS_AT, MODERATE, STRONG};
use crate::classify::{Evidence, Signal, ev};
use crate::finding::{Family, Finding};
use crate::text::field;

/// Calls named in a sentence.
const CALLS_NAMED: usize = 3;

fn activity<'a>(f: &Finding, s: &'a KubeSummary) -> Option<&'a KubeUserActivity> {
    (f.family() == Family::Kubernetes).then_some(())?;
    s.user.as_ref()
}

/// The catalogue's class of the strongest step among `kinds`.
fn weight(kinds: NotableKinds) -> i32 {
    kinds
        .iter()
        .map(|kind| match kind {
            NotableKind::PodExec | NotableKind::PodAttach | NotableKind::PodPortForward => MODERATE,
            // Who called, not what was done: the summary never counts it as a step.
            NotableKind::Anonymous => 0,
            NotableKind::SecretRead
            | NotableKind::PrivilegedContainer
            | NotableKind::HostPid
            | NotableKind::HostIpc
            | NotableKind::HostNetwork
            | NotableKind::HostPathMount
            | NotableKind::RbacChange
            | NotableKind::ClusterAdminBinding
            | NotableKind::TokenRequest => STRONG,
        })
        .max()
        .unwrap_or(0)
}

fn kinds(kinds: NotableKinds) -> String {
    kinds
        .iter()
        .map(|k| format!("{} ({})", k.label(), k.technique()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn calls(u: &KubeUserActivity, wanted: NotableKinds, denied: bool) -> String {
    u.other_calls
        .iter()
        .filter(|c| c.denied == denied && c.kinds.iter().any(|k| wanted.contains(k)))
        .take(CALLS_NAMED)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The user went on, in the window, to techniques the finding's own call was not, and the API
/// server let them through: the finding is one step of a chain, the mark of an intruder
/// working through the cluster rather than of an operator's one-off command. Raises toward true
/// positive by the class of its strongest step.
pub fn further_techniques(f: &Finding, s: &KubeSummary) -> Option<Evidence> {
    let u = activity(f, s)?;
    (!u.further_kinds.is_empty()).then_some(())?;
    ev(
        Signal::KubeFurtherTechniques,
        format!(
            "{} also, in the window: {}: {}",
            field(&u.username, 80),
            kinds(u.further_kinds),
            calls(u, u.further_kinds, false)
        ),
        weight(u.further_kinds),
    )
}

/// The user tried further techniques and was refused (401, 403): the attempt shows intent
/// (an operator rarely tries to read secrets or bind roles they were never given), the refusal
/// that it went no further. Weighs half of what succeeding would; said only when nothing
/// further succeeded, which [`further_techniques`] already weighs.
pub fn further_techniques_refused(f: &Finding, s: &KubeSummary) -> Option<Evidence> {
    let u = activity(f, s)?;
    (u.further_kinds.is_empty() && !u.further_kinds_refused.is_empty()).then_some(())?;
    ev(
        Signal::KubeFurtherTechniquesRefused,
        format!(
            "{} also tried, and was refused: {}: {}",
            field(&u.username, 80),
            kinds(u.further_kinds_refused),
            calls(u, u.further_kinds_refused, true)
        ),
        weight(u.further_kinds_refused) / 2,
    )
}

/// The user was refused [`DENIED_APIS_AT`] distinct actions or more in the window (`list
/// secrets`, `create clusterrolebindings`, `get pods/exec`...): someone trying what the
/// credentials may do (T1613 Container and Resource Discovery), the cluster's counterpart of
/// the catalogue's `denied_probing`, with its threshold and its weight (`MODERATE`). A
/// controller or a person whose role lacks one right meets the same one or two walls, however
/// often. The anonymous user's refusals count too: an address trying the API's resources one by
/// one without credentials is looking for what was left open.
pub fn permission_probing(f: &Finding, s: &KubeSummary) -> Option<Evidence> {
    let u = activity(f, s)?;
    (u.refused_actions >= DENIED_APIS_AT).then_some(())?;
    let listed: Vec<String> = u
        .top_refused
        .iter()
        .map(|(action, n)| format!("{} x{n}", field(action, 60)))
        .collect();
    ev(
        Signal::KubePermissionProbing,
        format!(
            "{} was refused {} distinct actions in the window ({} refused calls; most: {})",
            field(&u.username, 80),
            u.refused_actions,
            u.denied,
            listed.join(", ")
        ),
        MODERATE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::NotableCall;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn finding(t: &str) -> Finding {
        serde_json::from_value(json!({"id": "a", "type": t, "severity": 5})).unwrap()
    }

    fn exec(denied: bool) -> NotableCall {
        NotableCall {
            time: Utc.with_ymd_and_hms(2026, 1, 30, 12, 5, 0).unwrap(),
            kinds: [NotableKind::PodExec].into_iter().collect(),
            verb: "create".into(),
            resource: "pods/exec".into(),
            namespace: Some("kube-system".into()),
            name: Some("coredns-x".into()),
            code: Some(if denied { 403 } else { 101 }),
            denied,
        }
    }

    fn summary(denied: bool) -> KubeSummary {
        let kinds: NotableKinds = [NotableKind::PodExec].into_iter().collect();
        KubeSummary {
            cluster: "prod".into(),
            user: Some(KubeUserActivity {
                username: "alice".into(),
                calls: 12,
                other_calls: vec![exec(denied)],
                other_calls_kept: 1,
                further_kinds: if denied {
                    NotableKinds::default()
                } else {
                    kinds
                },
                further_kinds_refused: if denied {
                    kinds
                } else {
                    NotableKinds::default()
                },
                ..KubeUserActivity::default()
            }),
            ..KubeSummary::default()
        }
    }

    #[test]
    fn a_further_technique_let_through_raises_and_names_the_call() {
        let f = finding("PrivilegeEscalation:Kubernetes/PrivilegedContainer");
        let e = further_techniques(&f, &summary(false)).unwrap();
        assert_eq!((e.signal, e.weight), (Signal::KubeFurtherTechniques, 20));
        assert_eq!(
            e.sentence,
            "alice also, in the window: exec into a pod (T1609): 12:05 create pods/exec kube-system/coredns-x (101)"
        );
        assert!(further_techniques_refused(&f, &summary(false)).is_none());
        let mut secrets = summary(false);
        let u = secrets.user.as_mut().unwrap();
        u.further_kinds.insert(NotableKind::SecretRead);
        let e = further_techniques(&f, &secrets).unwrap();
        assert_eq!(e.weight, 30, "the strongest step sets the weight");
        assert!(
            e.sentence
                .contains("exec into a pod (T1609), secrets read (T1552.007)")
        );
    }

    #[test]
    fn a_refused_attempt_weighs_half_and_other_families_are_left_alone() {
        let f = finding("PrivilegeEscalation:Kubernetes/PrivilegedContainer");
        assert!(further_techniques(&f, &summary(true)).is_none());
        let e = further_techniques_refused(&f, &summary(true)).unwrap();
        assert_eq!(
            (e.signal, e.weight),
            (Signal::KubeFurtherTechniquesRefused, 10)
        );
        assert!(e.sentence.contains("(403)"), "{}", e.sentence);
        let ec2 = finding("Recon:EC2/PortProbeUnprotectedPort");
        assert!(further_techniques(&ec2, &summary(false)).is_none());
    }

    #[test]
    fn ten_distinct_refusals_are_probing_and_one_wall_hit_often_is_not() {
        let f = finding("Discovery:Kubernetes/MaliciousIPCaller");
        let mut c = summary(false);
        let u = c.user.as_mut().unwrap();
        u.denied = 400;
        u.refused_actions = 1;
        u.top_refused = vec![("watch endpointslices".into(), 400)];
        assert!(
            permission_probing(&f, &c).is_none(),
            "a controller retrying"
        );
        let u = c.user.as_mut().unwrap();
        u.denied = 14;
        u.refused_actions = 10;
        u.top_refused = vec![("list secrets".into(), 3), ("get pods/exec".into(), 2)];
        let e = permission_probing(&f, &c).unwrap();
        assert_eq!((e.signal, e.weight), (Signal::KubePermissionProbing, 20));
        assert_eq!(
            e.sentence,
            "alice was refused 10 distinct actions in the window (14 refused calls; most: list secrets x3, get pods/exec x2)"
        );
    }

    #[test]
    fn no_user_activity_is_no_evidence() {
        let f = finding("Execution:Kubernetes/ExecInKubeSystemPod");
        let c = KubeSummary::default();
        assert!(further_techniques(&f, &c).is_none());
        assert!(further_techniques_refused(&f, &c).is_none());
        assert!(permission_probing(&f, &c).is_none());
    }
}
