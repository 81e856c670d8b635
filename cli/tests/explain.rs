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
