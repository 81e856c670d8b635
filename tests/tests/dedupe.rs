//! The dedupe guarantees of the triage pipeline, against the local AWS server (moto): real
//! conditional writes in DynamoDB, real SNS publishes delivered to an SQS queue.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use integration_tests::{LocalStack, LoseUpdateResponse, Pipeline, event, unique};
use serde_json::Value;
use std::sync::Arc;
use triage_aws::{DynamoDedupeStore, SnsPublisher};
use triage_domain::dedupe::{DedupeStore, Lease, RecordLabels};
use triage_domain::finding::{FindingId, parse_event};
use triage_domain::pipeline::{Disposition, Triage, TriageError, TriageSettings};

/// dynalite does not return the old item with a failed condition
/// (`ReturnValuesOnConditionCheckFailure`), which recognising a lost response rests on (DynamoDB
/// and moto do): those tests say so and skip in the dynalite conformance run.
fn dynalite_ignores_return_values_on_condition_check_failure() -> bool {
    let dynalite = std::env::var("TRIAGE_DYNAMODB_IS_DYNALITE").is_ok_and(|v| v == "1");
    if dynalite {
        eprintln!("skipped on dynalite: it ignores ReturnValuesOnConditionCheckFailure");
    }
    dynalite
}

fn lease_end() -> chrono::DateTime<Utc> {
    Utc::now() + Duration::seconds(30)
}

/// The retry of a delivery that published nothing publishes, and only once.
async fn retry_publishes_exactly_once(stack: &LocalStack, pipeline: &Pipeline, raw: Value) {
    let retry = pipeline
        .handle_raw(raw, lease_end(), Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        retry.outcome.disposition,
        Disposition::Published { .. }
    ));
    assert_eq!(stack.drain_notices().await.len(), 1);
}

fn with_count(mut e: Value, count: i64, updated_at: &str) -> Value {
    e["detail"]["service"]["count"] = count.into();
    e["detail"]["updatedAt"] = updated_at.into();
    e
}

#[tokio::test]
async fn the_same_event_twice_in_a_row_makes_one_notice() {
    let stack = LocalStack::start().await;
    let pipeline = stack.pipeline(TriageSettings::default());
    let id = unique("seq");
    let raw = event("ssh-brute-force-target.json", &id);
    let first = pipeline
        .handle_raw(raw.clone(), lease_end(), Utc::now())
        .await
        .unwrap();
    let second = pipeline
        .handle_raw(raw, lease_end(), Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        first.outcome.disposition,
        Disposition::Published { .. }
    ));
    assert_eq!(second.outcome.disposition, Disposition::Duplicate);
    let notices = stack.drain_notices().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0]["MessageAttributes"]["finding_id"]["Value"].as_str(),
        Some(id.as_str())
    );
}

#[tokio::test]
async fn twenty_concurrent_deliveries_make_exactly_one_notice_and_lose_none() {
    let stack = LocalStack::start().await;
    let pipeline = Arc::new(stack.pipeline(TriageSettings::default()));
    let raw = event("backdoor-cc-activity-threat-list.json", &unique("conc"));
    let deliveries: Vec<_> = (0..20)
        .map(|_| {
            let pipeline = pipeline.clone();
            let raw = raw.clone();
            tokio::spawn(async move { pipeline.handle_raw(raw, lease_end(), Utc::now()).await })
        })
        .collect();
    let mut published = 0;
    let mut busy = 0;
    for delivery in deliveries {
        match delivery.await.unwrap() {
            Ok(t) if matches!(t.outcome.disposition, Disposition::Published { .. }) => {
                published += 1
            }
            Ok(t) => assert_eq!(t.outcome.disposition, Disposition::Duplicate),
            Err(TriageError::InProgress { .. }) => busy += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(published, 1);
    // Busy deliveries failed as retryable; their retries (Lambda's) find the finding done.
    for _ in 0..busy {
        let retry = pipeline
            .handle_raw(raw.clone(), lease_end(), Utc::now())
            .await
            .unwrap();
        assert_eq!(retry.outcome.disposition, Disposition::Duplicate);
    }
    assert_eq!(stack.drain_notices().await.len(), 1);
}

#[tokio::test]
async fn a_crash_between_claim_and_publish_is_retried_into_a_notice() {
    let stack = LocalStack::start().await;
    let pipeline = stack.pipeline(TriageSettings::default());
    let raw = event(
        "instance-credential-exfiltration-outside-aws.json",
        &unique("crash"),
    );
    let finding_id = parse_event(raw.clone()).unwrap().finding.id;
    // The crashed invocation: claimed with a lease that ends in one second, then vanished.
    let crashed = Lease {
        token: "crashed-invocation".into(),
        until: Utc::now() + Duration::seconds(1),
    };
    pipeline
        .store()
        .claim(
            &finding_id,
            &crashed,
            &RecordLabels::default(),
            Utc::now(),
            lease_end(),
        )
        .await
        .unwrap();
    let during = pipeline
        .handle_raw(raw.clone(), lease_end(), Utc::now())
        .await;
    assert!(
        matches!(during, Err(TriageError::InProgress { .. })),
        "a live lease is never skipped silently"
    );
    assert!(stack.drain_notices().await.is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let retry = pipeline
        .handle_raw(raw, lease_end(), Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        retry.outcome.disposition,
        Disposition::Published { .. }
    ));
    // The crashed invocation may have published before it died: the notice says so (and keeps
    // the sequence a subscriber dedupes on) rather than stay silent and risk losing it.
    let body = retry.outcome.notice.unwrap().body;
    assert!(
        body.contains("Possible repeat: an earlier delivery of this finding stopped before recording its notice. If you already have notice 1 of this finding"),
        "{body}"
    );
    assert_eq!(stack.drain_notices().await.len(), 1);
}

#[tokio::test]
async fn repeats_are_counted_silently_and_material_changes_send_an_update() {
    let stack = LocalStack::start().await;
    let settings = TriageSettings {
        record_ttl: Duration::days(7),
        ..TriageSettings::default()
    };
    let pipeline = stack.pipeline(settings);
    let id = unique("update");
    let base = event("ssh-brute-force-target.json", &id);
    let first = with_count(base.clone(), 2, "2026-03-02T01:00:00Z");
    pipeline
        .handle_raw(first, lease_end(), Utc::now())
        .await
        .unwrap();

    let repeat = with_count(base.clone(), 5, "2026-03-02T01:15:00Z");
    let out = pipeline
        .handle_raw(repeat, lease_end(), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.outcome.disposition, Disposition::Suppressed);

    let mut severer = with_count(base.clone(), 6, "2026-03-02T01:30:00Z");
    severer["detail"]["severity"] = 8.into();
    let out = pipeline
        .handle_raw(severer, lease_end(), Utc::now())
        .await
        .unwrap();
    assert!(matches!(
        out.outcome.disposition,
        Disposition::Published {
            update: true,
            sequence: 2,
            ..
        }
    ));

    let notices = stack.drain_notices().await;
    assert_eq!(notices.len(), 2);
    let kinds: Vec<&str> = notices
        .iter()
        .map(|n| {
            n["MessageAttributes"]["notice_kind"]["Value"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(kinds.contains(&"new") && kinds.contains(&"update"));
    let update = notices
        .iter()
        .find(|n| n["MessageAttributes"]["notice_kind"]["Value"] == "update")
        .unwrap();
    assert!(update["Subject"].as_str().unwrap().starts_with("[UPDATE "));
    assert!(
        update["Message"]
            .as_str()
            .unwrap()
            .contains("severity band went up from Low to High")
    );

    // The record: both MessageIds, the repeat counted, the newest sighting, and a TTL.
    let record = pipeline
        .store()
        .get(&FindingId::parse(id.clone()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.message_ids.len(), 2);
    let published_ids: Vec<&str> = notices
        .iter()
        .map(|n| n["MessageId"].as_str().unwrap())
        .collect();
    for message_id in &record.message_ids {
        assert!(published_ids.contains(&message_id.as_str()));
    }
    assert_eq!(record.suppressed_updates, 1);
    assert_eq!(record.seen_count, 6);
    let item = stack
        .dynamodb
        .get_item()
        .table_name(&stack.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("FINDING#{id}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("STATE".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    let expected = (Utc::now() + Duration::days(7)).timestamp();
    assert!(
        (expires - expected).abs() < 60,
        "TTL {expires} vs {expected}"
    );
    assert!(!item.contains_key("lease_token"), "the lease is released");
}

#[tokio::test]
async fn a_failed_publish_gives_the_lease_back_so_the_retry_publishes_at_once() {
    let stack = LocalStack::start().await;
    let raw = event("tor-ip-caller-iam.json", &unique("release"));
    let finding_id = parse_event(raw.clone()).unwrap().finding.id;
    // A topic that does not exist: the publish fails after the claim.
    let broken = Triage::new(
        DynamoDedupeStore::new(stack.dynamodb.clone(), &stack.table),
        SnsPublisher::new(stack.sns.clone(), format!("{}-missing", stack.topic_arn)),
        TriageSettings::default(),
    );
    let failed = broken
        .handle_raw(raw.clone(), lease_end(), Utc::now())
        .await;
    assert!(failed.is_err(), "{failed:?}");
    let item = stack
        .dynamodb
        .get_item()
        .table_name(&stack.table)
        .key("pk", AttributeValue::S(format!("FINDING#{finding_id}")))
        .key("sk", AttributeValue::S("STATE".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the claim wrote the record");
    assert!(
        !item.contains_key("lease_token") && !item.contains_key("lease_until_ms"),
        "the lease is given back: {item:?}"
    );
    // The retry (well before the 30 s lease would have expired) claims and publishes.
    retry_publishes_exactly_once(&stack, &stack.pipeline(TriageSettings::default()), raw).await;
}

/// Lose the response of the `nth` `UpdateItem` of one delivery after the server applied it (the
/// SDK retries it): the delivery still publishes exactly one notice, and a second delivery of
/// the same event is a duplicate, so the record was completed.
async fn one_notice_despite_a_lost_update_response(nth: usize, what: &str) {
    let stack = LocalStack::start().await;
    let lose = LoseUpdateResponse::nth(nth);
    let pipeline = stack.pipeline_through(TriageSettings::default(), lose.clone());
    let raw = event("ssh-brute-force-target.json", &unique("lost"));
    let handled = pipeline
        .handle_raw(raw.clone(), lease_end(), Utc::now())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(matches!(
        handled.outcome.disposition,
        Disposition::Published { .. }
    ));
    assert!(
        lose.seen() >= 3,
        "{what}: {} UpdateItem responses",
        lose.seen()
    );
    let again = stack
        .pipeline(TriageSettings::default())
        .handle_raw(raw, lease_end(), Utc::now())
        .await
        .unwrap();
    assert_eq!(again.outcome.disposition, Disposition::Duplicate);
    assert_eq!(stack.drain_notices().await.len(), 1);
}

/// A claim that took effect but whose response was lost is retried by the SDK; the retry finds
/// the lease this very invocation took, recognises it by its token and goes on: one notice, no
/// `InProgress`, no wait for the lease to expire.
#[tokio::test]
async fn a_claim_whose_response_was_lost_is_recognised_as_ours() {
    if dynalite_ignores_return_values_on_condition_check_failure() {
        return;
    }
    one_notice_despite_a_lost_update_response(1, "claim, its retry, complete").await;
}

/// A completion that took effect but whose response was lost is retried by the SDK; the retry's
/// condition fails (the lease is gone) and the record shows the completion was ours: a success,
/// and the record is complete, so a later delivery is a duplicate, not a second notice.
#[tokio::test]
async fn a_completion_whose_response_was_lost_is_a_success() {
    if dynalite_ignores_return_values_on_condition_check_failure() {
        return;
    }
    one_notice_despite_a_lost_update_response(2, "claim, complete, its retry").await;
}
