//! The benign readings and the behaviour catalogue on the real records of labelled scenarios
//! (`tests/scenarios/`, provenance in each `scenario.json`): each reading fires where the
//! records support it, through the production path (ingest, item layout, lookups, summary,
//! classifier) with the table in memory. `triage-cli eval` measures the verdicts; this checks
//! the reasons.

use chrono::{Duration, Utc};
use integration_tests::weight_of;
use triage_aws::MemoryContextSource;
use triage_aws::context_items::ObjectId;
use triage_aws::ingest;
use triage_domain::classify::Assessment;
use triage_domain::classify::Signal;
use triage_domain::dedupe::memory::MemoryStore;
use triage_domain::pipeline::{Triage, TriageSettings};
use triage_domain::publish::RecordingPublisher;

fn scenario_dir(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Classify a scenario's finding with its CloudTrail files as context, as at its last update.
async fn assess(name: &str) -> (Assessment, String) {
    let dir = scenario_dir(name);
    let mut table = MemoryContextSource::new();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cloudtrail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let body = std::fs::read(&file).unwrap();
        let read = ingest::cloudtrail_object_items(
            &body,
            &ingest::CloudTrailLimits::FUNCTION,
            &ObjectId::of(&file.display().to_string()),
            i64::MAX,
        )
        .unwrap();
        table.put_all(read.items);
    }
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("finding.json")).unwrap()).unwrap();
    let updated = raw["detail"]["updatedAt"].as_str().unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(updated)
        .unwrap()
        .with_timezone(&Utc);
    let pipeline = Triage::new(
        MemoryStore::new(),
        RecordingPublisher::default(),
        TriageSettings::default(),
    )
    .with_context(table);
    let outcome = pipeline
        .handle_raw(raw, now + Duration::seconds(30), now)
        .await
        .unwrap()
        .outcome;
    (outcome.assessment, outcome.notice.unwrap().body)
}

#[tokio::test]
async fn each_benign_reading_fires_on_the_records_that_support_it() {
    let cases = [
        (
            "benign-terraform-creates-webserver-security-group",
            Signal::InfrastructureAsCode,
            -25,
        ),
        (
            "benign-cloudformation-attaches-policy-to-stack-role",
            Signal::InfrastructureAsCode,
            -25,
        ),
        (
            "benign-identity-center-service-role-creates-its-saml-provider",
            Signal::AwsServiceActing,
            -20,
        ),
        (
            "benign-mfa-console-signin-usual-address",
            Signal::MfaSession,
            -20,
        ),
        (
            "benign-trusted-advisor-checks-ses-send-quota",
            Signal::AwsServiceActing,
            -20,
        ),
        (
            "benign-aws-config-recorder-describes-traffic-mirroring",
            Signal::AuditTool,
            -10,
        ),
        (
            "benign-test-stack-deleted-by-its-creator-minutes-later",
            Signal::OwnTeardown,
            -10,
        ),
        (
            "benign-developer-updates-own-lambda-from-mfa-console-session",
            Signal::FamiliarChanges,
            -15,
        ),
    ];
    for (scenario, signal, weight) in cases {
        let (a, body) = assess(scenario).await;
        assert_eq!(
            weight_of(&a, signal),
            Some(weight),
            "{scenario}: {signal}\n{body}"
        );
    }
}

#[tokio::test]
async fn cloudformation_acting_is_one_observation_not_two() {
    let (a, body) = assess("benign-cloudformation-attaches-policy-to-stack-role").await;
    assert_eq!(weight_of(&a, Signal::AwsServiceActing), None, "{body}");
}

#[tokio::test]
async fn a_person_browsing_the_console_is_not_a_discovery_burst() {
    // 87 reads across EC2 and three other services from the console's own user agents.
    let (a, body) = assess("benign-mfa-console-user-browses-ec2").await;
    assert_eq!(weight_of(&a, Signal::DiscoveryBurst), None, "{body}");
}

#[tokio::test]
async fn an_identity_center_role_with_a_path_is_found_by_its_name() {
    // The role's ARN is role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_...; the finding
    // names it by user name only.
    let (a, body) = assess("attack-serial-console-enabled-and-ssh-key-pushed-by-sso-role").await;
    assert_eq!(
        weight_of(&a, Signal::DirectVmConnection),
        Some(30),
        "{body}"
    );
    assert!(
        body.contains("T1021.008") && body.contains("on 3 instances"),
        "{body}"
    );
}

#[tokio::test]
async fn a_benign_lean_says_first_how_to_confirm_it() {
    let (a, body) = assess("benign-terraform-creates-webserver-security-group").await;
    assert_eq!(
        a.verdict,
        triage_domain::classify::Verdict::LikelyFalsePositive,
        "{body}"
    );
    assert!(
        body.contains("Do next\n  1. Match the changes to a pipeline run or an approved plan"),
        "{body}"
    );
}
