//! `triage-cli explain` with context from local log files: no AWS, the ingest code in memory,
//! and the same notice the Lambda would publish.

use std::process::Command;

fn explain(args: &[&str]) -> (bool, String, String) {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(env!("CARGO_BIN_EXE_triage-cli"))
        .current_dir(repo)
        .arg("explain")
        .args(args)
        // Nothing here may need the local stack.
        .env_remove("TRIAGE_TABLE_NAME")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn local_logs_give_the_notice_its_context_without_aws() {
    let (ok, out, err) = explain(&[
        "--flowlogs",
        "events/context/flowlogs",
        "--cloudtrail",
        "events/context/cloudtrail",
        "events/ssh-brute-force-target.json",
        "events/tor-ip-caller-iam.json",
    ]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("subject: [LIKELY TP 67] Low EC2/SSHBruteForce - accepted sessions"),
        "{out}"
    );
    assert!(
        out.contains(
            "Traffic with 198.51.100.23: 6 accepted flows (18.4 MB, 18.0 MB sent), 400 rejected"
        ),
        "{out}"
    );
    assert!(
        out.contains("Sensitive calls from new network 198.51.100.0/24: iam:AttachUserPolicy, iam:CreateAccessKey, iam:CreateUser (3)"),
        "{out}"
    );
    assert!(
        out.contains("History available: 14 days of CloudTrail baseline"),
        "{out}"
    );
}

#[test]
fn without_context_the_same_finding_is_judged_on_its_own_fields() {
    let (ok, out, err) = explain(&["events/ssh-brute-force-target.json"]);
    assert!(ok, "{out}{err}");
    assert!(!out.contains("accepted sessions"), "{out}");
    assert!(
        out.contains("Context used: the finding's own fields only"),
        "{out}"
    );
}

#[test]
fn an_unreadable_log_fails_the_explanation_instead_of_explaining_on_half_the_context() {
    let (ok, out, err) = explain(&[
        "--flowlogs",
        "events/context/no-such-dir",
        "events/ssh-brute-force-target.json",
    ]);
    assert!(!ok, "{out}");
    assert!(err.contains("no-such-dir: cannot open"), "{err}");
}

#[test]
fn audit_events_without_their_log_group_count_for_the_cluster_they_are_named() {
    // The scenario's audit events as Firehose's message extraction delivers them: the events
    // alone, one per line, without the payload's log group that names the cluster.
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/scenarios/attack-kubernetes-user-execs-into-a-pod-then-binds-cluster-admin"
    );
    let payload: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!("{scenario}/eks/kube-apiserver-audit.json")).unwrap(),
    )
    .unwrap();
    let events: Vec<&str> = payload["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    let dir = std::env::temp_dir().join(format!("triage-extracted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("audit.ndjson"), events.join("\n")).unwrap();
    let (dir, finding) = (
        dir.display().to_string(),
        format!("{scenario}/finding.json"),
    );

    let named = format!("{dir}/=minikube");
    let (ok, out, err) = explain(&["--eks", &dir, "--eks-clusters", &named, &finding]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("Kubernetes (EKS audit logs, cluster minikube"),
        "{out}"
    );
    let (ok, out, err) = explain(&["--eks", &dir, &finding]);
    assert!(ok, "{out}{err}");
    assert!(
        !out.contains("Kubernetes (EKS audit logs"),
        "unnamed: {out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
