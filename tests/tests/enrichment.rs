//! The end-to-end check of context on the local server: context ingested into DynamoDB (with the
//! same parsing, aggregation and item layout as the ingest functions), then a finding about the
//! same entities replayed: its notice shows that context and its verdict uses it.

use chrono::{Duration, Utc};
use integration_tests::{LocalStack, event, unique};
use triage_aws::BatchWriter;
use triage_aws::context_items::{ObjectId, cloudtrail_items, flow_items, kube_items};
use triage_domain::classify::Signal;
use triage_domain::classify::Verdict;
use triage_domain::pipeline::TriageSettings;
use triage_logs::{cloudtrail, eks, flowlogs};

fn lease() -> chrono::DateTime<Utc> {
    Utc::now() + Duration::seconds(30)
}

/// Triage `raw` with the context stored in the stack's table: the outcome and the notice body.
async fn triage_with_context(
    stack: &LocalStack,
    raw: serde_json::Value,
) -> (triage_domain::pipeline::Outcome, String) {
    let outcome = stack
        .pipeline_with_context(TriageSettings::default())
        .handle_raw(raw, lease(), Utc::now())
        .await
        .unwrap()
        .outcome;
    let body = outcome.notice.clone().expect("a notice").body;
    (outcome, body)
}

/// Flow records in the default v2 format of the AWS documentation, for one interface: a brute
/// force from 198.51.100.23 on port 22 (400 rejected), then 3 accepted sessions carrying data.
fn brute_force_flows(eni: &str) -> String {
    let mut text = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    let start = 1_770_091_869; // 2026-02-03T04:11:09Z, the finding's first sighting
    for i in 0..400 {
        let t = start + i * 50;
        text.push_str(&format!(
            "2 123456789012 {eni} 198.51.100.23 10.0.1.25 {} 22 6 3 180 {t} {} REJECT OK\n",
            40_000 + i,
            t + 10
        ));
    }
    for i in 0..3 {
        let t = start + 20_500 + i * 300;
        text.push_str(&format!(
            "2 123456789012 {eni} 198.51.100.23 10.0.1.25 {} 22 6 900 1200000 {t} {} ACCEPT OK\n",
            50_000 + i,
            t + 60
        ));
        text.push_str(&format!(
            "2 123456789012 {eni} 10.0.1.25 198.51.100.23 22 {} 6 4000 6000000 {t} {} ACCEPT OK\n",
            50_000 + i,
            t + 60
        ));
    }
    text
}

#[tokio::test]
async fn accepted_sessions_after_a_brute_force_turn_it_into_a_likely_true_positive() {
    let stack = LocalStack::start().await;
    let eni = unique("eni");
    let (aggregates, _) = flowlogs::ingest(
        brute_force_flows(&eni).as_bytes(),
        &flowlogs::IngestOptions::default(),
    )
    .unwrap();
    let expires = (Utc::now() + Duration::days(1)).timestamp();
    BatchWriter::new(stack.dynamodb.clone(), &stack.table)
        .put_all(flow_items(&aggregates, &ObjectId::of(&eni), expires))
        .await
        .unwrap();

    let mut raw = event("ssh-brute-force-target.json", &unique("ctx-flows"));
    raw["detail"]["resource"]["instanceDetails"]["networkInterfaces"][0]["networkInterfaceId"] =
        eni.clone().into();
    raw["detail"]["resource"]["instanceDetails"]["networkInterfaces"][0]["privateIpAddress"] =
        unique("10.0.1.25").into();

    let without = stack.pipeline(TriageSettings::default());
    let (assessment, _) = triage_domain::pipeline::preview(
        &triage_domain::finding::parse_event(raw.clone()).unwrap(),
        without.settings(),
        Utc::now(),
    );
    assert_ne!(
        assessment.verdict,
        Verdict::LikelyTruePositive,
        "on its own fields it is not"
    );

    let pipeline = stack.pipeline_with_context(TriageSettings::default());
    let before = stack.requests.get();
    let triaged = pipeline.handle_raw(raw, lease(), Utc::now()).await.unwrap();
    // 3 sequential (claim, publish, complete) + 7 context queries issued beside the claim: the
    // interface and its private IP (flows), the instance and its private IP (Resolver queries),
    // and the remote IP as a CloudTrail caller (activity, notable events, baseline).
    assert_eq!(stack.requests.get() - before, 3 + 7);
    let outcome = triaged.outcome;
    assert_eq!(outcome.assessment.verdict, Verdict::LikelyTruePositive);
    assert!(
        outcome
            .assessment
            .evidence
            .iter()
            .any(|e| e.signal == Signal::AcceptedAfterBruteForce)
    );
    let body = outcome.notice.unwrap().body;
    assert!(
        body.contains("Traffic with 198.51.100.23: 6 accepted flows (21.6 MB, 18.0 MB sent), 400 rejected; port(s) 22 (local)"),
        "{body}"
    );
    assert!(
        body.contains("All flows of the resource: 6 accepted, 400 rejected"),
        "{body}"
    );
}

#[tokio::test]
async fn a_stolen_key_replayed_after_ingesting_its_cloudtrail_shows_what_it_did() {
    let stack = LocalStack::start().await;
    // The OTRF "EC2 proxy S3 exfiltration" dataset (MIT): instance-role credentials used from
    // outside. Its records are ingested as one object; the test makes the key unique so runs
    // never share context.
    let key = format!("ASIA{}", &unique("k")[2..18].to_uppercase());
    let corpus = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/cloudtrail/otrf_security_datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json"),
    )
    .unwrap()
    .replace("ASIA5FLZVX4OPVKKVBMX", &key);
    let report = cloudtrail::aggregate_object(
        corpus.as_bytes(),
        &cloudtrail::ReadOptions::default(),
        &cloudtrail::Settings::default(),
    )
    .unwrap();
    let expires = (Utc::now() + Duration::days(1)).timestamp();
    BatchWriter::new(stack.dynamodb.clone(), &stack.table)
        .put_all(cloudtrail_items(
            &report.aggregates,
            &ObjectId::of(&key),
            expires,
        ))
        .await
        .unwrap();

    let mut raw = event(
        "instance-credential-exfiltration-outside-aws.json",
        &unique("ctx-ct"),
    );
    let detail = &mut raw["detail"];
    detail["resource"]["accessKeyDetails"]["accessKeyId"] = key.clone().into();
    detail["service"]["eventFirstSeen"] = "2020-09-14T01:00:04Z".into();
    detail["service"]["eventLastSeen"] = "2020-09-14T01:13:20Z".into();
    detail["service"]["action"]["awsApiCallAction"]["remoteIpDetails"]["ipAddressV4"] =
        "1.2.3.4".into();

    let (outcome, body) = triage_with_context(&stack, raw).await;
    assert!(
        body.contains("Context (ingested CloudTrail, VPC Flow, Resolver and EKS audit logs"),
        "{body}"
    );
    // Exactly the stolen key's 11 calls in the corpus: not the other principals' calls from the
    // same IP, and not counted twice under the key and the role.
    assert!(
        body.contains(
            "API calls: 11 (0 failed); top: s3:ListObjects x7, s3:GetObject x2, s3:ListBuckets x2"
        ),
        "{body}"
    );
    assert_eq!(outcome.assessment.verdict, Verdict::LikelyTruePositive);
}

#[tokio::test]
async fn behaviour_read_from_the_stored_context_names_the_technique_and_its_grantee() {
    let stack = LocalStack::start().await;
    // The Stratus Red Team detonation that shares an EBS snapshot with another account
    // (Apache-2.0), verbatim but for the user name, made unique so runs never share context.
    let user = unique("sharer");
    let corpus = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/cloudtrail/stratus_red_team_detonations/aws.exfiltration.ec2-share-ebs-snapshot.json"),
    )
    .unwrap()
    .replace("christophe", &user);
    let body = format!("{{\"Records\": {corpus}}}");
    let report = cloudtrail::aggregate_object(
        body.as_bytes(),
        &cloudtrail::ReadOptions::default(),
        &cloudtrail::Settings::default(),
    )
    .unwrap();
    let expires = (Utc::now() + Duration::days(1)).timestamp();
    BatchWriter::new(stack.dynamodb.clone(), &stack.table)
        .put_all(cloudtrail_items(
            &report.aggregates,
            &ObjectId::of(&user),
            expires,
        ))
        .await
        .unwrap();

    let mut raw = event(
        "iam-anomalous-behavior-credential-access.json",
        &unique("share"),
    );
    raw["detail"]["type"] = "Exfiltration:IAMUser/AnomalousBehavior".into();
    raw["detail"]["accountId"] = "756680937392".into();
    raw["detail"]["resource"]["accessKeyDetails"] = serde_json::json!({
        "accessKeyId": "AKIAYLJU0B35TFSNKCS2", "userName": user, "userType": "IAMUser"});
    raw["detail"]["service"]["eventFirstSeen"] = "2024-08-01T12:28:02Z".into();
    raw["detail"]["service"]["eventLastSeen"] = "2024-08-01T12:28:02Z".into();

    let (outcome, body) = triage_with_context(&stack, raw).await;
    assert!(
        body.contains("Behaviour observed")
            && body.contains("T1537 Transfer Data to Cloud Account")
            && body.contains("ec2:ModifySnapshotAttribute to 098797384747"),
        "{body}"
    );
    assert_eq!(
        outcome.assessment.verdict,
        Verdict::LikelyTruePositive,
        "{body}"
    );
}

/// An Identity Center user's sign-in names no IAM identity, only the user: it is stored under
/// its address, and the role session's finding (which names that address) finds it there. The
/// records are the real ones of the scenario, the user renamed so runs never share context.
#[tokio::test]
async fn an_identity_center_mfa_sign_in_stored_under_its_address_vouches_for_the_role_session() {
    let stack = LocalStack::start().await;
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "scenarios/benign-identity-center-password-and-totp-sign-in-then-devadmin-console-login",
    );
    let user = unique("nicholas");
    let read = |file: &str| {
        std::fs::read_to_string(scenario.join(file))
            .unwrap()
            .replace("nicholas.hakmiller", &user)
    };
    let records = read("cloudtrail/records.json");
    let report = cloudtrail::aggregate_object(
        records.as_bytes(),
        &cloudtrail::ReadOptions::default(),
        &cloudtrail::Settings::default(),
    )
    .unwrap();
    let items = cloudtrail_items(
        &report.aggregates,
        &ObjectId::of(&user),
        (Utc::now() + Duration::days(1)).timestamp(),
    );
    assert!(
        items.iter().any(|i| i
            .get("pk")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|pk| pk == "CT#ip#73.252.165.138")),
        "the portal sign-in is filed under its address"
    );
    BatchWriter::new(stack.dynamodb.clone(), &stack.table)
        .put_all(items)
        .await
        .unwrap();

    let mut raw: serde_json::Value = serde_json::from_str(&read("finding.json")).unwrap();
    raw["detail"]["id"] = unique("sso").into();
    let (outcome, body) = triage_with_context(&stack, raw).await;
    assert!(
        body.contains("console sign-in with MFA from 73.252.165.138"),
        "{body}"
    );
    assert_eq!(
        outcome.assessment.verdict,
        Verdict::LikelyFalsePositive,
        "{body}"
    );
}

/// The labelled scenario of a Kubernetes user who exec'd into a pod, attached to it, then bound
/// cluster-admin (Falco's recorded audit events in a CloudWatch Logs payload): its audit log
/// stored by the EKS ingest layout, then its finding triaged against the table.
#[tokio::test]
async fn a_kubernetes_finding_reads_what_its_user_did_from_the_stored_audit_log() {
    const SCENARIO: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/attack-kubernetes-user-execs-into-a-pod-then-binds-cluster-admin"
    );
    let stack = LocalStack::start().await;
    // A cluster of its own, so runs against one table never read each other's rows.
    let cluster = unique("minikube");
    let payload = std::fs::read_to_string(format!("{SCENARIO}/eks/kube-apiserver-audit.json"))
        .unwrap()
        .replace(
            "/aws/eks/minikube/cluster",
            &format!("/aws/eks/{cluster}/cluster"),
        );
    let (aggregates, _) = eks::read_object(payload.as_bytes(), 1 << 20).unwrap();
    let expires = (Utc::now() + Duration::days(1)).timestamp();
    BatchWriter::new(stack.dynamodb.clone(), &stack.table)
        .put_all(kube_items(&aggregates, &ObjectId::of(&cluster), expires))
        .await
        .unwrap();

    let mut raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{SCENARIO}/finding.json")).unwrap())
            .unwrap();
    raw["detail"]["id"] = unique("ctx-eks").into();
    raw["detail"]["resource"]["eksClusterDetails"]["name"] = cluster.clone().into();
    let pipeline = stack.pipeline_with_context(TriageSettings::default());
    let before = stack.requests.get();
    let outcome = pipeline
        .handle_raw(raw, lease(), Utc::now())
        .await
        .unwrap()
        .outcome;
    // 3 sequential (claim, publish, complete) + 2 queries: the user and its address.
    assert_eq!(stack.requests.get() - before, 3 + 2);
    let further = outcome
        .assessment
        .evidence
        .iter()
        .find(|e| e.signal == Signal::KubeFurtherTechniques)
        .expect("the exec and the attach before the binding");
    assert_eq!(
        further.weight, 20,
        "a remote command: the catalogue's moderate class"
    );
    let body = outcome.notice.unwrap().body;
    assert!(
        body.contains(&format!(
            "Kubernetes (EKS audit logs, cluster {cluster}, scope window):"
        )),
        "{body}"
    );
    assert!(
        body.contains("minikube-user: 3 calls (0 refused) from 192.168.99.1 x3"),
        "each aggregate is read once, though stored under the user and the address: {body}"
    );
    assert!(
        body.contains("The finding's call in the log: 14:26 create clusterrolebindings some-reader-binding (201)"),
        "{body}"
    );
    assert!(
        body.contains(
            "13:38 create pods/exec default/nginx-deployment-7998647bdf-phvq7 (101) [exec into a pod]"
        ),
        "{body}"
    );
    assert!(body.contains("Revoke minikube-user's access to"), "{body}");
}
