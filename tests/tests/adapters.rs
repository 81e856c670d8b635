//! The AWS adapters on the wire: round trips, message attributes, error classification,
//! timeouts, and the EventBridge rule pattern of the template.

use chrono::{Duration, Utc};
use integration_tests::{LocalStack, event, unique};
use triage_aws::{DynamoDedupeStore, SnsPublisher, sdk_config};
use triage_domain::dedupe::{DedupeStore, Lease, RecordLabels, StoreError};
use triage_domain::finding::FindingId;
use triage_domain::pipeline::{Disposition, TriageSettings};

#[tokio::test]
async fn a_new_finding_costs_three_round_trips_and_a_duplicate_two() {
    let stack = LocalStack::start().await;
    let pipeline = stack.pipeline(TriageSettings::default());
    let raw = event("cryptocurrency-bitcoin-tool-dns.json", &unique("trips"));
    let before = stack.requests.get();
    let out = pipeline
        .handle_raw(raw.clone(), Utc::now() + Duration::seconds(30), Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        out.outcome.disposition,
        Disposition::Published { .. }
    ));
    assert_eq!(stack.requests.get() - before, 3, "claim, publish, complete");
    let before = stack.requests.get();
    pipeline
        .handle_raw(raw, Utc::now() + Duration::seconds(30), Utc::now())
        .await
        .unwrap();
    assert_eq!(stack.requests.get() - before, 2, "claim, complete");
}

#[tokio::test]
async fn notices_arrive_with_subject_body_and_filterable_attributes() {
    let stack = LocalStack::start().await;
    let pipeline = stack.pipeline(TriageSettings::default());
    let id = unique("attrs");
    pipeline
        .handle_raw(
            event("port-probe-scanner-censys.json", &id),
            Utc::now() + Duration::seconds(30),
            Utc::now(),
        )
        .await
        .unwrap();
    let notices = stack.drain_notices().await;
    assert_eq!(notices.len(), 1);
    let n = &notices[0];
    let attr = |name: &str| {
        n["MessageAttributes"][name]["Value"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let kind = |name: &str| {
        n["MessageAttributes"][name]["Type"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(attr("verdict"), "likely_false_positive");
    assert_eq!(attr("severity"), "2.0");
    assert_eq!(kind("severity"), "Number");
    assert_eq!(attr("severity_band"), "Low");
    assert_eq!(attr("finding_type"), "Recon:EC2/PortProbeUnprotectedPort");
    assert_eq!(attr("account"), "123456789012");
    assert_eq!(attr("region"), "us-west-2");
    assert_eq!(attr("notice_kind"), "new");
    assert_eq!(attr("notice_sequence"), "1");
    assert!(n["Subject"].as_str().unwrap().starts_with("[LIKELY FP "));
    assert!(
        n["Message"]
            .as_str()
            .unwrap()
            .contains("Censys, a known internet-wide scanner")
    );
}

#[tokio::test]
async fn a_missing_table_is_a_permanent_error_and_a_dead_endpoint_a_transient_one() {
    let stack = LocalStack::start().await;
    let id = FindingId::parse(unique("err")).unwrap();
    let lease = Lease {
        token: "t".into(),
        until: Utc::now() + Duration::seconds(30),
    };
    let claim = |store: DynamoDedupeStore| {
        let (id, lease) = (id.clone(), lease.clone());
        async move {
            store
                .claim(
                    &id,
                    &lease,
                    &RecordLabels::default(),
                    Utc::now(),
                    Utc::now(),
                )
                .await
                .unwrap_err()
        }
    };
    let err = claim(DynamoDedupeStore::new(
        stack.dynamodb.clone(),
        unique("no-such-table"),
    ))
    .await;
    assert!(
        matches!(err, StoreError::Rejected(ref m) if m.contains("ResourceNotFoundException")),
        "{err}"
    );
    assert!(!err.is_retryable());

    // A port where nothing listens: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dead = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&stack.sdk)
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .build(),
    );
    let err = claim(DynamoDedupeStore::new(dead, &stack.table)).await;
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_server_that_never_answers_hits_our_timeout_not_the_lambda_deadline() {
    let stack = LocalStack::start().await;
    // Accepts connections and never replies.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let sdk = sdk_config(std::time::Duration::from_millis(300)).await;
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&sdk)
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .build(),
    );
    let started = std::time::Instant::now();
    let err = SnsPublisher::new(sns, &stack.topic_arn)
        .warm_up()
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "gave up after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_eventbridge_rule_from_the_template_matches_guardduty_findings_only() {
    let stack = LocalStack::start().await;
    let queue_url =
        std::env::var("TRIAGE_EVENTS_QUEUE_URL").expect("TRIAGE_EVENTS_QUEUE_URL from up.sh");
    let eventbridge = aws_sdk_eventbridge::Client::new(&stack.sdk);
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    let finding_id = unique("rule");
    let finding = event("ssh-brute-force-target.json", &finding_id);
    let entry = |source: &str, detail_type: &str, detail: &serde_json::Value| {
        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source(source)
            .detail_type(detail_type)
            .detail(detail.to_string())
            .build()
    };
    let other_id = unique("cloudtrail");
    let other_detail = serde_json::json!({"id": other_id, "eventName": "ConsoleLogin"});
    eventbridge
        .put_events()
        .entries(entry(
            "aws.guardduty",
            "GuardDuty Finding",
            &finding["detail"],
        ))
        .entries(entry(
            "aws.signin",
            "AWS Console Sign In via CloudTrail",
            &other_detail,
        ))
        .send()
        .await
        .unwrap();
    let mut bodies = Vec::new();
    for _ in 0..5 {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        bodies.extend(
            received
                .messages
                .unwrap_or_default()
                .into_iter()
                .filter_map(|m| m.body),
        );
        if bodies.iter().any(|b| b.contains(&finding_id)) {
            break;
        }
    }
    assert!(
        bodies.iter().any(|b| b.contains(&finding_id)),
        "GuardDuty finding routed"
    );
    assert!(
        !bodies.iter().any(|b| b.contains(&other_id)),
        "other events not routed"
    );
}
