//! Kubernetes findings read against real EKS audit records held in memory
//! ([`MemoryContextSource`]: the lookups and decoding of the DynamoDB source, without the
//! server; `enrichment.rs` runs a Kubernetes finding against the local server).

use chrono::{DateTime, Utc};
use integration_tests::weight_of;
use serde_json::json;
use triage_aws::MemoryContextSource;
use triage_aws::context_items::{ObjectId, kube_items};
use triage_domain::classify::Signal;
use triage_domain::enrich::ContextSummary;
use triage_domain::enrich::subjects;
use triage_domain::finding::{FindingEvent, parse_event};
use triage_domain::kube::NotableKind;
use triage_domain::pipeline::{TriageSettings, load_context, preview_with};
use triage_domain::scope::ScopeWindow;
use triage_logs::eks;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/eks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Audit events read and laid out as `triage-cli ingest eks` does, filed under `cluster`, in
/// memory.
fn audit_table(object: &[u8], cluster: &str) -> MemoryContextSource {
    let (aggregates, _) = eks::read_cluster_object(object, 1 << 20, Some(cluster)).unwrap();
    let mut memory = MemoryContextSource::new();
    memory.put_all(kube_items(&aggregates, &ObjectId::of(cluster), i64::MAX));
    memory
}

/// The finding's context summary as a responder had it at the finding's last update, and that
/// time.
async fn summary_at_update(
    memory: &MemoryContextSource,
    event: &FindingEvent,
    settings: &TriageSettings,
) -> (ContextSummary, DateTime<Utc>) {
    let now = event.finding.updated_at().unwrap();
    let window = ScopeWindow::for_finding(&event.finding, settings.look_back, now);
    let summary = load_context(memory, event, &window, settings.min_history)
        .await
        .unwrap();
    (summary, now)
}

/// Panther's four anonymous-access test records (an anonymous read of a pod from 8.8.8.8, the
/// same pod read by `kubernetes-admin` from the same address, `/version` read anonymously from
/// an AWS address, a refused scanner probe), filed under cluster `prod`, and a
/// `Discovery:Kubernetes/SuccessfulAnonymousAccess` finding built on the first of them.
#[tokio::test]
async fn an_anonymous_call_is_read_by_its_address_beside_the_other_users_from_it() {
    let memory = audit_table(&fixture("panther-eks-anonymous.ndjson"), "prod");
    let event = parse_event(json!({"id": "anon", "type": "Discovery:Kubernetes/SuccessfulAnonymousAccess",
        "severity": 5, "accountId": "123456789012", "region": "us-east-1",
        "resource": {"resourceType": "EKSCluster", "eksClusterDetails": {"name": "prod"},
            "kubernetesDetails": {"kubernetesUserDetails": {"username": "system:anonymous",
                "groups": ["system:unauthenticated"]}}},
        "service": {"action": {"actionType": "KUBERNETES_API_CALL", "kubernetesApiCallAction": {
                "requestUri": "/api/v1/namespaces/default/pods/test-pod", "verb": "get",
                "sourceIPs": ["8.8.8.8"], "statusCode": 200}},
            "eventFirstSeen": "2022-11-29T00:09:04.000Z", "eventLastSeen": "2022-11-29T00:09:04.000Z",
            "count": 1},
        "updatedAt": "2022-11-29T00:14:00.000Z"}))
    .unwrap();
    let s = subjects(&event);
    assert!(
        s.sources.kube.users.is_empty(),
        "system:anonymous is nobody in particular"
    );
    assert_eq!(
        s.sources.kube.addresses.iter().collect::<Vec<_>>(),
        ["K8S#prod#ip#8.8.8.8"]
    );
    let settings = TriageSettings::default();
    let (summary, now) = summary_at_update(&memory, &event, &settings).await;
    let kube = summary.sources.kube.as_ref().expect("the address's calls");
    let user = kube
        .user
        .as_ref()
        .expect("the anonymous calls from 8.8.8.8");
    assert_eq!(
        (user.username.as_str(), user.calls, user.denied),
        ("system:anonymous", 1, 0)
    );
    assert_eq!(user.addresses, [("8.8.8.8".to_string(), 1)]);
    assert!(
        user.further_kinds.is_empty(),
        "being anonymous is not a technique"
    );
    assert_eq!(
        kube.others_from_addresses,
        [("kubernetes-admin".to_string(), 1, 0)],
        "the scanner and the AWS address are other subjects: not read"
    );
    let (assessment, notice) = preview_with(&event, &settings, now, Some(&summary));
    assert_eq!(weight_of(&assessment, Signal::KubeFurtherTechniques), None);
    assert!(
        notice.body.contains(
            "From the finding's address(es), 1 other user(s): kubernetes-admin (1 calls)"
        ),
        "{}",
        notice.body
    );
}

/// Falco's three pods created by the ReplicaSet controller (privileged; the node's `/etc`
/// mounted; the node's network), moved into the ten minutes of 2018-10-25 14:00 (their times
/// varied, nothing else), then filed under a person instead: the same pod specs are further
/// techniques of a person, and the workload owners' choices for the controller.
#[tokio::test]
async fn pods_a_controller_creates_for_their_owners_are_not_its_techniques() {
    let falco = String::from_utf8(fixture("falco-k8s-audit.ndjson")).unwrap();
    let controller = "system:serviceaccount:kube-system:replicaset-controller";
    let pods: Vec<serde_json::Value> = falco
        .lines()
        .skip(1)
        .take(3)
        .enumerate()
        .map(|(i, line)| {
            let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(event["user"]["username"], controller);
            // The privileged pod last, at the finding's time; the other two before it.
            let at = format!("2018-10-25T14:{:02}:12.5Z", [5, 1, 3][i]);
            event["requestReceivedTimestamp"] = at.clone().into();
            event["stageTimestamp"] = at.into();
            event
        })
        .collect();
    let finding = |user: &str| {
        parse_event(json!({"id": "priv", "type": "PrivilegeEscalation:Kubernetes/PrivilegedContainer",
            "severity": 5, "accountId": "123456789012", "region": "us-east-1",
            "resource": {"resourceType": "EKSCluster", "eksClusterDetails": {"name": "minikube"},
                "kubernetesDetails": {"kubernetesUserDetails": {"username": user}}},
            "service": {"action": {"actionType": "KUBERNETES_API_CALL", "kubernetesApiCallAction": {
                    "requestUri": "/api/v1/namespaces/default/pods", "verb": "create",
                    "sourceIPs": ["::1"], "statusCode": 201}},
                "eventFirstSeen": "2018-10-25T14:05:12.000Z", "eventLastSeen": "2018-10-25T14:05:12.000Z",
                "count": 1},
            "updatedAt": "2018-10-25T14:15:00.000Z"}))
        .unwrap()
    };
    let settings = TriageSettings::default();
    for (user, expected) in [(controller, None), ("minikube-user", Some(30))] {
        let lines: String = pods
            .iter()
            .map(|event| {
                let mut event = event.clone();
                event["user"]["username"] = user.into();
                format!("{event}\n")
            })
            .collect();
        let memory = audit_table(lines.as_bytes(), "minikube");
        let event = finding(user);
        let (summary, now) = summary_at_update(&memory, &event, &settings).await;
        let activity = summary
            .sources
            .kube
            .as_ref()
            .unwrap()
            .user
            .as_ref()
            .unwrap();
        assert_eq!(activity.calls, 3, "{user}");
        let own = activity.own_call.as_ref().expect("the finding's pod");
        assert_eq!(
            own.time.format("%H:%M").to_string(),
            "14:05",
            "{user}: the finding names no pod: the nearest creation is its"
        );
        assert!(own.kinds.contains(NotableKind::PrivilegedContainer));
        let (assessment, notice) = preview_with(&event, &settings, now, Some(&summary));
        assert_eq!(
            weight_of(&assessment, Signal::KubeFurtherTechniques),
            expected,
            "{user}: {}",
            notice.body
        );
    }
}
