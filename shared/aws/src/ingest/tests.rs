//! Notification parsing, object reading and the batch pipeline, on fixtures and in memory (the
//! S3 and DynamoDB adapters are tested against the local server in `tests/tests/ingest.rs`).

use super::json_log::{JsonLog, JsonLogSource};
use super::read::ObjectItems;
use super::*;
use crate::context_items::ObjectId;
use crate::{BatchReport, Item, item_key};
use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::types::AttributeValue;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use triage_domain::config::ConfigError;
use triage_domain::dedupe::StoreError;
use triage_logs::bucketed::Limits;
use triage_logs::flowlogs;
use triage_logs::test_support::eks_firehose_object;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An S3 notification as S3 sends it to SQS, for keys already URL-encoded as S3 encodes them.
fn record(event_name: &str, bucket: &str, encoded_key: &str, etag: &str) -> Value {
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T10:05:12.345Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
        "requestParameters": {"sourceIPAddress": "198.51.100.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "guardduty-triage",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": encoded_key, "size": 1024, "eTag": etag, "sequencer": "0055AED6DCD90281E5"}
        }
    })
}

fn notification(bucket: &str, encoded_key: &str, etag: &str) -> String {
    json!({"Records": [record("ObjectCreated:Put", bucket, encoded_key, etag)]}).to_string()
}

const TEST_EVENT: &str = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T10:00:00.000Z","Bucket":"logs","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}"#;

fn objects(announced: Vec<Announced>) -> Vec<ObjectRef> {
    announced
        .into_iter()
        .filter_map(|a| match a {
            Announced::Object(o) => Some(o),
            Announced::Ignored(_) => None,
        })
        .collect()
}

#[test]
fn keys_are_url_decoded_as_s3_encodes_them() {
    // S3 encodes a space as `+`, and `+`, `=` and non-ASCII as %XX.
    let body = notification(
        "logs",
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/a+b%2Bc%3Dd%C3%A9.json.gz",
        "0123abcd",
    );
    let found = objects(parse_notification(&body, &CloudTrailSource::default()).unwrap());
    assert_eq!(
        found,
        vec![ObjectRef {
            bucket: "logs".into(),
            key: "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/a b+c=dé.json.gz".into(),
            version_id: None,
            etag: Some("0123abcd".into()),
            size: Some(1024),
        }]
    );
}

#[test]
fn test_events_removals_digests_and_folders_are_ignored_with_a_reason() {
    let ignored = |body: &str, source: &dyn LogSource| match parse_notification(body, source)
        .unwrap()
        .as_slice()
    {
        [Announced::Ignored(why)] => why.clone(),
        other => panic!("expected one ignored record, got {other:?}"),
    };
    assert!(ignored(TEST_EVENT, &CloudTrailSource::default()).contains("s3:TestEvent"));
    assert!(ignored(TEST_EVENT, &FlowLogSource::default()).contains("bucket logs"));

    let digest = notification(
        "logs",
        "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/25/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261125T100512Z.json.gz",
        "e1",
    );
    assert!(ignored(&digest, &CloudTrailSource::default()).contains("digest"));
    // Only the CloudTrail function knows digest files; the flow-log one reads what it is sent.
    assert_eq!(
        objects(parse_notification(&digest, &FlowLogSource::default()).unwrap()).len(),
        1
    );

    let folder = notification("logs", "AWSLogs/123456789012/vpcflowlogs/", "e2");
    assert!(ignored(&folder, &FlowLogSource::default()).contains("folder"));

    let removed =
        json!({"Records": [record("ObjectRemoved:Delete", "logs", "AWSLogs/x.log.gz", "e3")]});
    assert!(
        ignored(&removed.to_string(), &FlowLogSource::default()).contains("ObjectRemoved:Delete")
    );
}

#[test]
fn malformed_bodies_are_errors_that_say_why() {
    let err = |body: &str| parse_notification(body, &FlowLogSource::default()).unwrap_err();
    assert!(matches!(err("not json"), NotificationError::NotJson(_)));
    assert!(matches!(
        err(r#"{"hello":"world"}"#),
        NotificationError::NotS3Notification(_)
    ));
    assert!(matches!(
        err("[1,2]"),
        NotificationError::NotS3Notification(_)
    ));
    assert!(matches!(
        err(r#"{"Records": "soon"}"#),
        NotificationError::NotS3Notification(_)
    ));
    // A record without the fields every S3 notification has.
    assert!(matches!(
        err(r#"{"Records": [{"eventName": "ObjectCreated:Put"}]}"#),
        NotificationError::NotS3Notification(_)
    ));
    let mut no_key = record("ObjectCreated:Put", "logs", "k", "e");
    no_key["s3"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("key");
    assert_eq!(
        err(&json!({ "Records": [no_key] }).to_string()),
        NotificationError::Missing {
            index: 0,
            field: "s3.object.key"
        }
    );
    // %FF is not UTF-8.
    assert!(matches!(
        err(&notification("logs", "AWSLogs/%FF.log.gz", "e")),
        NotificationError::BadKey { index: 0, .. }
    ));
    let mut sqs = record("ObjectCreated:Put", "logs", "k", "e");
    sqs["eventSource"] = "aws:sqs".into();
    assert!(matches!(
        err(&json!({ "Records": [sqs] }).to_string()),
        NotificationError::NotS3Notification(_)
    ));
}

#[test]
fn notifications_inside_an_sns_envelope_are_read() {
    let envelope = json!({
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:log-notifications",
        "Subject": "Amazon S3 Notification",
        "Message": notification("logs", "AWSLogs/a.log.gz", "e"),
    });
    let found =
        objects(parse_notification(&envelope.to_string(), &FlowLogSource::default()).unwrap());
    assert_eq!(found[0].key, "AWSLogs/a.log.gz");
}

#[test]
fn the_object_id_follows_bucket_key_and_revision() {
    let parse = |body: &str| {
        objects(parse_notification(body, &FlowLogSource::default()).unwrap()).remove(0)
    };
    let a = parse(&notification("logs", "k.log.gz", "e1"));
    // A redelivered notification: the same items.
    assert_eq!(a.id(), parse(&notification("logs", "k.log.gz", "e1")).id());
    // ETags may come quoted.
    assert_eq!(
        a.id(),
        parse(&notification("logs", "k.log.gz", "\"e1\"")).id()
    );
    // Another revision of the key, another key or another bucket: other items.
    assert_ne!(a.id(), parse(&notification("logs", "k.log.gz", "e2")).id());
    assert_ne!(a.id(), parse(&notification("logs", "j.log.gz", "e1")).id());
    assert_ne!(a.id(), parse(&notification("other", "k.log.gz", "e1")).id());
    // A version ID, when the bucket is versioned, names the revision.
    let mut versioned = record("ObjectCreated:Put", "logs", "k.log.gz", "e1");
    versioned["s3"]["object"]["versionId"] = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY".into();
    let v = parse(&json!({ "Records": [versioned] }).to_string());
    assert_ne!(v.id(), a.id());
}

#[test]
fn sqs_batches_and_eventbridge_events_are_told_apart() {
    let sqs =
        json!({"Records": [{"messageId": "m1", "body": TEST_EVENT, "eventSource": "aws:sqs"}]});
    assert!(matches!(detect_trigger(sqs), Ok(Trigger::Sqs(e)) if e.records.len() == 1));
    let eventbridge: Value = serde_json::from_slice(&fixture(
        "../../events/ingest/eventbridge-cloudtrail-api-call.json",
    ))
    .unwrap();
    assert!(matches!(
        detect_trigger(eventbridge),
        Ok(Trigger::EventBridge(_))
    ));
    let direct_s3 = json!({"Records": [record("ObjectCreated:Put", "logs", "k", "e")]});
    assert!(
        detect_trigger(direct_s3)
            .unwrap_err()
            .to_string()
            .contains("SQS queue")
    );
    assert!(detect_trigger(json!({"hello": 1})).is_err());
    assert!(detect_trigger(json!("text")).is_err());

    let Ok(Trigger::LogSubscription(logs)) =
        detect_trigger(subscription_event("cloudwatch-logs-eks.json"))
    else {
        panic!("a subscription batch")
    };
    assert_eq!(logs.aws_logs.data.log_group, "/aws/eks/minikube/cluster");
    assert_eq!(logs.aws_logs.data.log_events.len(), 7);
    let damaged = detect_trigger(json!({"awslogs": {"data": "bm90IGd6aXA="}})).unwrap_err();
    assert!(
        damaged
            .to_string()
            .starts_with("not a CloudWatch Logs subscription batch: "),
        "{damaged}"
    );
}

/// One of the sample subscription events in `events/ingest/`.
fn subscription_event(name: &str) -> Value {
    serde_json::from_slice(&fixture(&format!("../../events/ingest/{name}"))).unwrap()
}

/// The batch of a sample subscription event.
fn subscription_batch(name: &str) -> aws_lambda_events::cloudwatch_logs::LogData {
    match detect_trigger(subscription_event(name)) {
        Ok(Trigger::LogSubscription(event)) => event.aws_logs.data,
        other => panic!("{name}: {other:?}"),
    }
}

#[tokio::test]
async fn a_subscription_batch_is_read_as_its_firehose_delivery_and_rewrites_its_own_items() {
    let ingest = Ingestor::new(
        MemoryObjects::default(),
        MemorySink::default(),
        EksAuditSource::default(),
        chrono::Duration::days(1),
    );
    let batch = subscription_batch("cloudwatch-logs-eks.json");
    let done = ingest.ingest_log_batch(&batch).await.unwrap().unwrap();
    assert_eq!(done.stats.records, 7);
    let first = ingest.sink().0.lock().unwrap().clone();
    assert_eq!(first.len(), done.plan.items);
    let pks: BTreeSet<String> = first.iter().map(|item| string(item, "pk")).collect();
    assert!(
        pks.iter().all(|pk| pk.starts_with("K8S#minikube#")),
        "{pks:?}"
    );
    assert!(pks.contains("K8S#minikube#user#minikube-user"), "{pks:?}");

    // Redelivered (Lambda's retry of an invocation that timed out): the same keys again.
    ingest.ingest_log_batch(&batch).await.unwrap().unwrap();
    let all = ingest.sink().0.lock().unwrap().clone();
    let keys = |items: &[Item]| -> BTreeSet<(String, String)> {
        items
            .iter()
            .map(|i| (string(i, "pk"), string(i, "sk")))
            .collect()
    };
    assert_eq!(keys(&all), keys(&first));

    let control = subscription_batch("cloudwatch-logs-control-message.json");
    assert!(ingest.ingest_log_batch(&control).await.unwrap().is_none());
    assert_eq!(ingest.sink().0.lock().unwrap().len(), all.len());
}

#[tokio::test]
async fn a_source_that_cannot_read_subscription_batches_refuses_them() {
    let ingest = Ingestor::new(
        MemoryObjects::default(),
        MemorySink::default(),
        ResolverSource::default(),
        chrono::Duration::days(1),
    );
    let batch = subscription_batch("cloudwatch-logs-eks.json");
    let refused = ingest.ingest_log_batch(&batch).await.unwrap_err();
    assert_eq!(refused.error_type(), "InvalidObject");
    assert!(!refused.is_retryable());
    assert!(refused.to_string().contains("subscription"), "{refused}");
}

#[test]
fn the_sample_events_parse() {
    let sqs = |name: &str| -> SqsEvent {
        serde_json::from_slice(&fixture(&format!("../../events/ingest/{name}"))).unwrap()
    };
    let body = |event: &SqsEvent| event.records[0].body.clone().unwrap();
    let ct = sqs("sqs-s3-cloudtrail.json");
    let found = objects(parse_notification(&body(&ct), &CloudTrailSource::default()).unwrap());
    assert!(found[0].key.contains("/CloudTrail/"), "{found:?}");
    let flow = sqs("sqs-s3-flowlogs.json");
    let found = objects(parse_notification(&body(&flow), &FlowLogSource::default()).unwrap());
    assert!(found[0].key.contains("/vpcflowlogs/"), "{found:?}");
    let dns = sqs("sqs-s3-resolver.json");
    let found = objects(parse_notification(&body(&dns), &ResolverSource::default()).unwrap());
    assert!(found[0].key.contains("/vpcdnsquerylogs/"), "{found:?}");
    let eks = sqs("sqs-s3-eks.json");
    let found = objects(parse_notification(&body(&eks), &EksAuditSource::default()).unwrap());
    assert!(found[0].key.starts_with("eks-audit/"), "{found:?}");
    let test = sqs("sqs-s3-test-event.json");
    assert!(
        objects(parse_notification(&body(&test), &FlowLogSource::default()).unwrap()).is_empty()
    );
}

fn id() -> ObjectId {
    ObjectId::of("test")
}

#[test]
fn flow_logs_read_the_same_gzip_or_plain_and_count_the_plain_bytes() {
    let plain = fixture("vpcflow/default-v2.txt");
    let a = read_flow_log(&plain[..], &id(), 1).unwrap();
    let b = read_flow_log(&gzip(&plain)[..], &id(), 1).unwrap();
    assert_eq!(a.items, b.items);
    assert_eq!(a.stats, b.stats);
    assert_eq!(a.stats.uncompressed_bytes, plain.len() as u64);
    assert_eq!(a.stats.records, 7);
    assert!(!a.items.is_empty());
    // Several gzip members (concatenated objects) read as one.
    let mut two = gzip(&plain);
    two.extend(gzip(
        b"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n",
    ));
    assert_eq!(read_flow_log(&two[..], &id(), 1).unwrap().stats.records, 8);
}

/// A bound on live flow aggregates below what an object holds changes how its rows are split
/// into items, never what they add up to.
#[test]
fn a_flow_log_read_within_a_small_bound_adds_up_to_the_unbounded_read() {
    // 3,000 SSH clients from distinct addresses in one ten-minute bucket: 3,000 aggregates.
    let mut text = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    for i in 0..3_000u32 {
        let remote = std::net::Ipv4Addr::from(0xcb00_7100 + i);
        text.push_str(&format!(
            "2 123456789010 eni-1235b8ca123456789 {remote} 172.31.16.21 {} 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n",
            40_000 + i % 20_000
        ));
    }
    let totals = |read: &ObjectItems| {
        let rows: Vec<_> = read
            .items
            .iter()
            .flat_map(|item| {
                crate::context_items::decode_flow_rows(item["rows"].as_b().unwrap().as_ref())
            })
            .collect();
        (
            rows.len(),
            rows.iter().map(|r| r.flows).sum::<u64>(),
            rows.iter().map(|r| r.bytes).sum::<u64>(),
        )
    };
    let unbounded = read_flow_log(text.as_bytes(), &id(), 1).unwrap();
    let small = flowlogs::Limits {
        max_live: 1_000,
        ..flowlogs::Limits::DEFAULT
    };
    let bounded = read_flow_log_within(text.as_bytes(), &small, &id(), 1).unwrap();
    assert_eq!(totals(&unbounded), (3_000, 3_000, 3_000 * 4249));
    assert_eq!(totals(&bounded), totals(&unbounded));
    assert!(
        bounded.items.len() > unbounded.items.len(),
        "flushed early into chunks of their own: {} vs {} items",
        bounded.items.len(),
        unbounded.items.len()
    );
    let keys: BTreeSet<_> = bounded.items.iter().filter_map(item_key).collect();
    assert_eq!(
        keys.len(),
        bounded.items.len(),
        "no item overwrites another"
    );
}

#[test]
fn bad_flow_log_objects_fail_whole_and_permanently() {
    let plain = fixture("vpcflow/default-v2.txt");
    let compressed = gzip(&plain);
    // Truncated, and corrupted in the middle of the deflate stream.
    let truncated = &compressed[..compressed.len() / 2];
    let mut corrupt = compressed.clone();
    for b in &mut corrupt[20..60] {
        *b = !*b;
    }
    for bad in [truncated, &corrupt[..]] {
        let err = read_flow_log(bad, &id(), 1).unwrap_err();
        assert!(matches!(err, ObjectError::FlowLog(_)), "{err}");
        assert!(!err.is_retryable(), "{err}");
        assert_eq!(err.error_type(), "InvalidObject");
    }
    // A header without the fields aggregation needs (the NAT gateway example).
    let err = read_flow_log(&fixture("vpcflow/nat-gateway.txt")[..], &id(), 1).unwrap_err();
    assert!(err.to_string().contains("lacks fields"), "{err}");
    // Not a flow log at all.
    let err = read_flow_log(&b"{\"Records\": []}\n"[..], &id(), 1).unwrap_err();
    assert!(err.to_string().contains("header"), "{err}");
}

fn delivery() -> Vec<u8> {
    let records: Value = serde_json::from_slice(&fixture(
        "cloudtrail/stratus_red_team_detonations/aws.persistence.iam-create-admin-user.json",
    ))
    .unwrap();
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

#[test]
fn cloudtrail_deliveries_read_the_same_gzip_or_plain() {
    let plain = delivery();
    let a = read_cloudtrail(&plain[..], &CloudTrailLimits::FUNCTION, &id(), 1).unwrap();
    let b = read_cloudtrail(&gzip(&plain)[..], &CloudTrailLimits::FUNCTION, &id(), 1).unwrap();
    assert_eq!(a.items, b.items);
    assert_eq!(a.stats, b.stats);
    assert!(a.stats.records > 0 && !a.items.is_empty());
    assert_eq!(a.stats.uncompressed_bytes, plain.len() as u64);
}

#[test]
fn bad_cloudtrail_objects_fail_with_the_reason() {
    let limits = CloudTrailLimits::FUNCTION;
    // Invalid JSON upstream (a missing comma between two records).
    let invalid = gzip(&fixture(
        "cloudtrail/stratus_detonations_2022_datadog_forwarder/aws.execution.ec2-user-data.json",
    ));
    let err = read_cloudtrail(&invalid[..], &limits, &id(), 1).unwrap_err();
    assert!(err.to_string().contains("invalid JSON"), "{err}");
    assert!(!err.is_retryable());

    let compressed = gzip(&delivery());
    let err = read_cloudtrail(&compressed[..compressed.len() - 10], &limits, &id(), 1).unwrap_err();
    assert!(matches!(err, ObjectError::Gzip(_)), "{err}");
    assert!(err.to_string().starts_with("corrupt gzip"));

    let small = CloudTrailLimits {
        max_object_bytes: 100,
        max_decompressed_bytes: 1000,
        ..CloudTrailLimits::FUNCTION
    };
    let err = read_cloudtrail(&compressed[..], &small, &id(), 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "object is more than 100 bytes (the configured limit)"
    );
    let bomb = gzip(&vec![b' '; 100_000]);
    let err = read_cloudtrail(
        &bomb[..],
        &CloudTrailLimits {
            max_object_bytes: 10_000,
            ..small
        },
        &id(),
        1,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "object decompresses to more than 1000 bytes (the configured limit)"
    );
    assert!(!err.is_retryable());
}

/// Items kept in memory.
#[derive(Default)]
struct MemorySink(Mutex<Vec<Item>>);

#[async_trait]
impl ItemSink for MemorySink {
    async fn put_all(&self, items: Vec<Item>) -> Result<BatchReport, StoreError> {
        let report = BatchReport {
            items: items.len(),
            calls: items.len().div_ceil(25),
            ..BatchReport::default()
        };
        self.0.lock().unwrap().extend(items);
        Ok(report)
    }
}

fn sqs_event(bodies: &[(&str, String)]) -> SqsEvent {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| json!({"messageId": id, "body": body, "eventSource": "aws:sqs"}))
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn failures(response: &SqsBatchResponse) -> Vec<&str> {
    let mut ids: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn exactly_the_bad_messages_are_batch_item_failures() {
    let mut store = MemoryObjects::default();
    store.insert("logs", "ct/good.json.gz", gzip(&delivery()));
    store.insert(
        "logs",
        "ct/corrupt.json.gz",
        vec![0x1f, 0x8b, 8, 0, 1, 2, 3],
    );
    let ingest = Ingestor::new(
        store,
        MemorySink::default(),
        CloudTrailSource::default(),
        chrono::Duration::days(90),
    );
    let event = sqs_event(&[
        ("good", notification("logs", "ct/good.json.gz", "e1")),
        ("missing", notification("logs", "ct/missing.json.gz", "e2")),
        ("corrupt", notification("logs", "ct/corrupt.json.gz", "e3")),
        ("test", TEST_EVENT.to_owned()),
        (
            "digest",
            notification("logs", "AWSLogs/1/CloudTrail-Digest/x.json.gz", "e4"),
        ),
        ("garbage", "not an S3 notification".to_owned()),
    ]);
    let response = ingest.ingest_batch(&event, None).await;
    assert_eq!(failures(&response), ["corrupt", "garbage", "missing"]);
    let written = ingest.sink().0.lock().unwrap().len();
    let expected = read_cloudtrail(
        &delivery()[..],
        &CloudTrailLimits::FUNCTION,
        &ObjectRef::new("logs", "ct/good.json.gz").id(),
        1,
    )
    .unwrap()
    .items
    .len();
    assert_eq!(written, expected);
    // The response is what Lambda expects.
    assert_eq!(
        serde_json::to_value(&response).unwrap()["batchItemFailures"][0]["itemIdentifier"],
        "missing"
    );
}

#[tokio::test]
async fn one_bad_object_fails_its_message_but_not_the_other_objects_in_it() {
    let mut store = MemoryObjects::default();
    store.insert("logs", "good.log", fixture("vpcflow/default-v2.txt"));
    let ingest = Ingestor::new(
        store,
        MemorySink::default(),
        FlowLogSource::default(),
        chrono::Duration::days(1),
    );
    let both = json!({"Records": [
        record("ObjectCreated:Put", "logs", "missing.log", "e1"),
        record("ObjectCreated:Put", "logs", "good.log", "e2"),
    ]});
    let err = ingest
        .ingest_message(Some(&both.to_string()))
        .await
        .unwrap_err();
    match err {
        MessageError::Objects(failed) => {
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].0.key, "missing.log");
            assert_eq!(failed[0].1.error_type(), "ObjectNotFound");
        }
        other => panic!("{other}"),
    }
    assert!(!ingest.sink().0.lock().unwrap().is_empty());
    assert!(matches!(
        ingest.ingest_message(None).await,
        Err(MessageError::Notification(NotificationError::NoBody))
    ));
}

#[tokio::test]
async fn near_the_deadline_only_the_first_message_is_started() {
    let ingest = Ingestor::new(
        MemoryObjects::default(),
        MemorySink::default(),
        FlowLogSource::default(),
        chrono::Duration::days(1),
    );
    let event = sqs_event(&[
        ("a", TEST_EVENT.to_owned()),
        ("b", TEST_EVENT.to_owned()),
        ("c", TEST_EVENT.to_owned()),
    ]);
    let response = ingest
        .ingest_batch(&event, Some(Instant::now() + Duration::from_millis(500)))
        .await;
    assert_eq!(failures(&response), ["b", "c"]);
    let response = ingest
        .ingest_batch(&event, Some(Instant::now() + Duration::from_secs(600)))
        .await;
    assert!(response.batch_item_failures.is_empty());
}

#[test]
fn deadlines_in_the_past_are_not_deadlines() {
    assert_eq!(deadline_from_epoch_ms(600_000), None);
    let in_a_minute = (chrono::Utc::now().timestamp_millis() + 60_000) as u64;
    let deadline = deadline_from_epoch_ms(in_a_minute).unwrap();
    let left = deadline - Instant::now();
    assert!(
        left > Duration::from_secs(58) && left <= Duration::from_secs(60),
        "{left:?}"
    );
}

#[tokio::test]
async fn an_eventbridge_cloudtrail_event_is_ingested_under_its_id() {
    let ingest = Ingestor::new(
        MemoryObjects::default(),
        MemorySink::default(),
        CloudTrailSource::default(),
        chrono::Duration::days(1),
    );
    let event: Value = serde_json::from_slice(&fixture(
        "../../events/ingest/eventbridge-cloudtrail-api-call.json",
    ))
    .unwrap();
    let done = ingest.ingest_event(&event).await.unwrap();
    assert_eq!(done.stats.records, 1);
    assert!(done.plan.items > 0);
    let first: Vec<Item> = ingest.sink().0.lock().unwrap().drain(..).collect();
    // Delivered again: the same keys.
    ingest.ingest_event(&event).await.unwrap();
    let keys = |items: &[Item]| -> Vec<(String, String)> {
        items
            .iter()
            .filter_map(item_key)
            .map(|(pk, sk)| (pk.to_owned(), sk.to_owned()))
            .collect()
    };
    assert_eq!(keys(&first), keys(&ingest.sink().0.lock().unwrap()));
    // Another kind of EventBridge event is refused, permanently.
    let err = ingest
        .ingest_event(&json!({"id": "x", "detail-type": "EC2 Instance State-change Notification", "detail": {}}))
        .await
        .unwrap_err();
    assert!(matches!(err, ObjectError::CloudTrail(_)) && !err.is_retryable());
}

#[test]
fn configuration_defaults_and_errors() {
    let lookup = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let config = IngestConfig::from_lookup(lookup(&[("TRIAGE_TABLE_NAME", "t")])).unwrap();
    assert_eq!(config.context_ttl, chrono::Duration::days(90));
    assert_eq!(config.aws_timeout, Duration::from_secs(3));
    // Each source reads its own settings, with the defaults the benchmarks sized.
    let none = |_: &str| None;
    let cloudtrail = CloudTrailSource::from_lookup(&none).unwrap();
    assert_eq!(cloudtrail.limits.max_live_aggregates, 100_000);
    assert_eq!(cloudtrail, CloudTrailSource::default());
    let bounded = CloudTrailSource::from_lookup(&lookup(&[(
        "TRIAGE_CLOUDTRAIL_MAX_LIVE_AGGREGATES",
        "5000",
    )]))
    .unwrap();
    assert_eq!(bounded.limits.max_live_aggregates, 5000);
    assert_eq!(
        FlowLogSource::from_lookup(&none).unwrap().limits.max_live,
        262_144
    );
    let flows = FlowLogSource::from_lookup(&lookup(&[("TRIAGE_FLOW_MAX_LIVE_AGGREGATES", "4096")]))
        .unwrap();
    assert_eq!(flows.limits.max_live, 4096);
    let too_small =
        FlowLogSource::from_lookup(&lookup(&[("TRIAGE_FLOW_MAX_LIVE_AGGREGATES", "10")]))
            .unwrap_err();
    assert!(
        too_small
            .to_string()
            .contains("TRIAGE_FLOW_MAX_LIVE_AGGREGATES")
    );
    assert_eq!(
        ResolverSource::from_lookup(&none).unwrap(),
        ResolverSource::default()
    );
    let resolver =
        ResolverSource::from_lookup(&lookup(&[("TRIAGE_RESOLVER_MAX_TEXT_MB", "16")])).unwrap();
    assert_eq!(resolver.max_text_bytes, 16 << 20);
    let resolver =
        ResolverSource::from_lookup(&lookup(&[("TRIAGE_RESOLVER_MAX_LIVE_AGGREGATES", "2048")]))
            .unwrap();
    assert_eq!(resolver.limits.max_live, 2048);
    assert_eq!(
        IngestConfig::from_lookup(lookup(&[])).unwrap_err(),
        ConfigError::Missing("TRIAGE_TABLE_NAME")
    );
    let err = IngestConfig::from_lookup(lookup(&[
        ("TRIAGE_TABLE_NAME", "t"),
        ("TRIAGE_CONTEXT_TTL_DAYS", "0"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("TRIAGE_CONTEXT_TTL_DAYS=\"0\""));
}

/// Every Stratus detonation record in one S3 delivery: days of buckets, many principals.
fn stratus_delivery() -> Vec<u8> {
    let dir = format!(
        "{}/../../tests/fixtures/cloudtrail/stratus_red_team_detonations",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut records = Vec::new();
    for path in paths {
        let value: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        records.extend(value.as_array().unwrap().iter().cloned());
    }
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

fn string(item: &Item, name: &str) -> String {
    item[name].as_s().unwrap().clone()
}

/// What a reader sums from items, whatever their chunks: activity per (pk, bucket, row key),
/// baselines per (pk, kind, value), notable events per (pk, hour), as text.
fn read_back(items: &[Item]) -> BTreeMap<(String, String, String), (u64, String, String)> {
    use crate::context_items::{decode_activity_rows, decode_baseline_rows, decode_notable_rows};
    let mut out: BTreeMap<(String, String, String), (u64, String, String)> = BTreeMap::new();
    let mut add = |key: (String, String, String), count: u64, first: String, last: String| {
        let entry = out.entry(key).or_insert((0, first.clone(), last.clone()));
        entry.0 += count;
        entry.1 = entry.1.clone().min(first);
        entry.2 = entry.2.clone().max(last);
    };
    for item in items {
        let (pk, sk) = (string(item, "pk"), string(item, "sk"));
        let (prefix, _chunk) = sk.rsplit_once('#').unwrap();
        let prefix = prefix.to_owned();
        let blob = item["rows"].as_b().unwrap().as_ref();
        if sk.starts_with("ACT#") {
            for r in decode_activity_rows(blob) {
                let row = format!(
                    "{} {} {} {} {} {}",
                    r.event_source, r.event_name, r.outcome, r.source_ip, r.region, r.user_agent
                );
                add(
                    (pk.clone(), prefix.clone(), row),
                    r.count,
                    r.first.to_rfc3339(),
                    r.last.to_rfc3339(),
                );
            }
        } else if sk.starts_with("BASE#") {
            for r in decode_baseline_rows(blob) {
                let row = format!("{} {}", r.kind.as_str(), r.value);
                add(
                    (pk.clone(), prefix.clone(), row),
                    r.count,
                    r.first.to_rfc3339(),
                    r.last.to_rfc3339(),
                );
            }
        } else {
            for event in decode_notable_rows(blob) {
                let row = serde_json::to_string(&event).unwrap();
                add(
                    (pk.clone(), prefix.clone(), row),
                    1,
                    String::new(),
                    String::new(),
                );
            }
        }
    }
    out
}

fn bounded(max_live_aggregates: usize) -> CloudTrailLimits {
    CloudTrailLimits {
        max_live_aggregates,
        ..CloudTrailLimits::FUNCTION
    }
}

#[test]
fn items_of_a_bounded_read_sum_to_the_items_of_an_unbounded_one() {
    let object = gzip(&stratus_delivery());
    let whole = read_cloudtrail(&object[..], &bounded(usize::MAX), &id(), 1).unwrap();
    for bound in [1, 20, 100] {
        let parts = read_cloudtrail(&object[..], &bounded(bound), &id(), 1).unwrap();
        assert!(parts.items.len() > whole.items.len(), "bound {bound}");
        assert_eq!(
            read_back(&parts.items),
            read_back(&whole.items),
            "bound {bound}"
        );
        assert_eq!(parts.stats, whole.stats, "bound {bound}");
        // No part overwrites another's item.
        let keys: BTreeSet<(String, String)> = parts
            .items
            .iter()
            .map(|i| (string(i, "pk"), string(i, "sk")))
            .collect();
        assert_eq!(keys.len(), parts.items.len(), "bound {bound}");
    }
    // An object that fits writes the keys it always had: chunk 0 of each.
    assert!(whole.items.iter().all(|i| string(i, "sk").ends_with("#0")));
}

#[tokio::test]
async fn a_redelivered_object_read_in_parts_writes_the_same_items_again() {
    let object = gzip(&stratus_delivery());
    let first = read_cloudtrail(&object[..], &bounded(20), &id(), 1).unwrap();
    let again = read_cloudtrail(&object[..], &bounded(20), &id(), 1).unwrap();
    assert_eq!(first.items, again.items);

    // Through the pipeline, twice (an SQS redelivery): the table, keyed as DynamoDB keys it,
    // holds each item once.
    let mut store = MemoryObjects::default();
    store.insert("logs", "ct/big.json.gz", object);
    let ingest = Ingestor::new(
        store,
        MemorySink::default(),
        CloudTrailSource {
            limits: bounded(20),
        },
        chrono::Duration::days(90),
    );
    let event = sqs_event(&[("m", notification("logs", "ct/big.json.gz", "e1"))]);
    for _ in 0..2 {
        assert!(failures(&ingest.ingest_batch(&event, None).await).is_empty());
    }
    let written = ingest.sink().0.lock().unwrap();
    let table: BTreeMap<(String, String), &Item> = written
        .iter()
        .map(|i| ((string(i, "pk"), string(i, "sk")), i))
        .collect();
    assert_eq!(written.len(), 2 * table.len());
    assert_eq!(table.len(), first.items.len());
}

#[tokio::test]
async fn resolver_objects_go_through_the_same_pipeline_and_fail_for_their_reasons() {
    let log = fixture("resolver/panther-vpcdns.ndjson");
    let mut store = MemoryObjects::default();
    store.insert(
        "dns",
        "AWSLogs/1/vpcdnsquerylogs/vpc-1/a.log.gz",
        gzip(&log),
    );
    store.insert(
        "dns",
        "AWSLogs/1/vpcdnsquerylogs/vpc-1/bad.log",
        b"{not json".to_vec(),
    );
    store.insert(
        "dns",
        "AWSLogs/1/vpcdnsquerylogs/vpc-1/big.log",
        log.repeat(64),
    );
    let ingest = Ingestor::new(
        store,
        MemorySink::default(),
        ResolverSource {
            max_text_bytes: log.len() as u64 * 8,
            ..ResolverSource::default()
        },
        chrono::Duration::days(1),
    );
    let done = ingest
        .ingest_object(&ObjectRef::new(
            "dns",
            "AWSLogs/1/vpcdnsquerylogs/vpc-1/a.log.gz",
        ))
        .await
        .unwrap();
    assert_eq!(done.stats.records, 8);
    assert_eq!(done.stats.uncompressed_bytes, log.len() as u64);
    let written = ingest.sink().0.lock().unwrap().clone();
    assert_eq!(written.len(), done.plan.items);
    assert!(
        written
            .iter()
            .all(|item| string(item, "pk").starts_with("DNS#"))
    );

    let bad = ingest
        .ingest_object(&ObjectRef::new(
            "dns",
            "AWSLogs/1/vpcdnsquerylogs/vpc-1/bad.log",
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.error_type(), "InvalidObject", "{bad}");
    assert!(
        bad.to_string().starts_with("Route 53 Resolver query log: "),
        "{bad}"
    );
    let big = ingest
        .ingest_object(&ObjectRef::new(
            "dns",
            "AWSLogs/1/vpcdnsquerylogs/vpc-1/big.log",
        ))
        .await
        .unwrap_err();
    assert!(matches!(big, ObjectError::TooLarge { .. }), "{big}");
    assert!(!big.is_retryable());
}

/// Resolver entries over `minutes`, `names` distinct names a minute, as a delivery's lines.
fn resolver_lines(minutes: i64, names: usize) -> Vec<u8> {
    let mut out = String::new();
    for minute in 0..minutes {
        for n in 0..names {
            let time = chrono::DateTime::from_timestamp(1_700_000_000 + minute * 60, 0).unwrap();
            out.push_str(
                &json!({
                    "version": "1.100000", "account_id": "111122223333", "region": "us-east-1",
                    "vpc_id": "vpc-7example", "query_timestamp": time.to_rfc3339(),
                    "query_name": format!("host{}.example.com.", n + minute as usize % 3),
                    "query_type": "A", "query_class": "IN", "rcode": "NOERROR",
                    "answers": [{"Rdata": "192.0.2.1", "Type": "A", "Class": "IN"}],
                    "srcaddr": "10.0.0.5", "srcport": "53000", "transport": "UDP",
                    "srcids": {"instance": "i-0d15cd0d3example"}
                })
                .to_string(),
            );
            out.push('\n');
        }
    }
    out.into_bytes()
}

#[test]
fn a_resolver_log_read_within_a_small_bound_counts_every_query_once() {
    let (whole, items, parts) = whole_and_in_parts::<ResolverLog>(&resolver_lines(90, 40));
    assert!(parts > 5, "{parts} parts");
    let counts = |items: &[Item]| {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (_, blob) in rows_of(items) {
            for row in crate::context_items::decode_resolver_rows(blob) {
                *counts.entry(row.name).or_default() += row.count;
            }
        }
        counts
    };
    assert_eq!(counts(&items), counts(&whole.items));
    assert_eq!(counts(&items).values().sum::<u64>(), 90 * 40);
}

/// `lines` read whole, and streamed within a bound of 50 live aggregates: the same stats, and
/// no key written twice. The whole read, the streamed items and how many parts they came in.
fn whole_and_in_parts<L: JsonLog>(lines: &[u8]) -> (ObjectItems, Vec<Item>, usize) {
    let whole = JsonLogSource::<L>::read_whole(lines, u64::MAX, &id(), 1).unwrap();
    let small = JsonLogSource::<L> {
        limits: Limits {
            max_live: 50,
            grace_secs: 600,
        },
        ..JsonLogSource::default()
    };
    let mut parts = 0;
    let mut items = Vec::new();
    let stats = small
        .stream(lines, "", &id(), 1, &mut |part| {
            parts += 1;
            items.extend(part);
        })
        .unwrap();
    assert_eq!(stats, whole.stats);
    // No key written twice, whichever part it came in.
    let keys: BTreeSet<(String, String)> = items
        .iter()
        .map(|i| (string(i, "pk"), string(i, "sk")))
        .collect();
    assert_eq!(keys.len(), items.len());
    (whole, items, parts)
}

/// Each item's partition key and rows blob.
fn rows_of(items: &[Item]) -> impl Iterator<Item = (String, &[u8])> {
    items.iter().map(|item| {
        let AttributeValue::B(blob) = &item["rows"] else {
            panic!("rows are binary")
        };
        (string(item, "pk"), blob.as_ref())
    })
}

#[tokio::test]
async fn eks_audit_objects_go_through_the_same_pipeline_and_fail_for_their_reasons() {
    let (object, records) = eks_firehose_object("prod", 4);
    let mut store = MemoryObjects::default();
    store.insert("eks", "firehose/2026/12/02/08/audit-1", object);
    store.insert("eks", "firehose/bad", b"[{\"stage\": ".to_vec());
    store.insert("eks", "firehose/big", vec![b' '; 4 << 20]);
    let ingest = Ingestor::new(
        store,
        MemorySink::default(),
        EksAuditSource {
            max_text_bytes: 1 << 20,
            ..EksAuditSource::default()
        },
        chrono::Duration::days(1),
    );
    let done = ingest
        .ingest_object(&ObjectRef::new("eks", "firehose/2026/12/02/08/audit-1"))
        .await
        .unwrap();
    assert_eq!(done.stats.records, records as u64);
    assert!(
        done.stats.skip_reasons.is_empty(),
        "sessions count when they start: {:?}",
        done.stats.skip_reasons
    );
    let written = ingest.sink().0.lock().unwrap().clone();
    assert_eq!(written.len(), done.plan.items);
    let pks: BTreeSet<String> = written.iter().map(|item| string(item, "pk")).collect();
    assert!(pks.contains("K8S#prod#user#minikube-user"), "{pks:?}");
    assert!(pks.contains("K8S#prod#ip#192.168.99.1"), "{pks:?}");
    assert!(pks.iter().all(|pk| pk.starts_with("K8S#prod#")), "{pks:?}");

    let bad = ingest
        .ingest_object(&ObjectRef::new("eks", "firehose/bad"))
        .await
        .unwrap_err();
    assert_eq!(bad.error_type(), "InvalidObject", "{bad}");
    assert!(bad.to_string().starts_with("EKS audit log: "), "{bad}");
    let big = ingest
        .ingest_object(&ObjectRef::new("eks", "firehose/big"))
        .await
        .unwrap_err();
    assert!(matches!(big, ObjectError::TooLarge { .. }), "{big}");
    assert!(!big.is_retryable());
}

#[tokio::test]
async fn audit_events_without_their_log_group_take_the_cluster_their_key_is_given() {
    let plain = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/eks/falco-k8s-audit.ndjson"
    ))
    .unwrap();
    let (enveloped, _) = eks_firehose_object("staging", 2);
    let mut store = MemoryObjects::default();
    // Firehose with message extraction: one stream, and prefix, per cluster.
    store.insert("eks", "eks/prod/2026/12/02/08/audit-1", plain.clone());
    store.insert("eks", "eks/other/2026/12/02/08/audit-1", plain);
    // A payload's log group is the log's own word: it wins over the key.
    store.insert("eks", "eks/prod/2026/12/02/08/audit-2", enveloped);
    let ingest = Ingestor::new(
        store,
        MemorySink::default(),
        EksAuditSource {
            log: EksAuditLog {
                clusters: "eks/prod/=prod, eks/prod/old/=legacy".parse().unwrap(),
            },
            ..EksAuditSource::default()
        },
        chrono::Duration::days(1),
    );
    let clusters = |key: &'static str| {
        let ingest = &ingest;
        async move {
            let before = ingest.sink().0.lock().unwrap().len();
            ingest
                .ingest_object(&ObjectRef::new("eks", key))
                .await
                .unwrap();
            let written = ingest.sink().0.lock().unwrap()[before..].to_vec();
            (written.iter())
                .map(|item| string(item, "pk").split('#').nth(1).unwrap().to_owned())
                .collect::<BTreeSet<String>>()
        }
    };
    assert_eq!(
        clusters("eks/prod/2026/12/02/08/audit-1").await,
        ["prod".to_string()].into()
    );
    assert_eq!(
        clusters("eks/other/2026/12/02/08/audit-1").await,
        ["-".to_string()].into()
    );
    assert_eq!(
        clusters("eks/prod/2026/12/02/08/audit-2").await,
        ["staging".to_string()].into()
    );
}

#[test]
fn cluster_names_by_key_prefix_read_as_documented_and_bad_ones_say_why() {
    let one: ClusterNames = "prod".parse().unwrap();
    assert_eq!(one.of_key("anything/at/all"), Some("prod"));
    let by_prefix: ClusterNames = "eks/=fallback,eks/prod/=prod, logs/cluster=b/=b_2"
        .parse()
        .unwrap();
    assert_eq!(
        by_prefix.of_key("eks/prod/2026/x.gz"),
        Some("prod"),
        "longest prefix wins"
    );
    assert_eq!(by_prefix.of_key("eks/dev/2026/x.gz"), Some("fallback"));
    assert_eq!(
        by_prefix.of_key("logs/cluster=b/x"),
        Some("b_2"),
        "'=' in a prefix"
    );
    assert_eq!(by_prefix.of_key("elsewhere/x"), None);
    assert_eq!("".parse::<ClusterNames>().unwrap(), ClusterNames::default());
    assert_eq!(ClusterNames::default().of_key("x"), None);
    for bad in [
        "eks/=",
        "-starts-with-dash",
        "has space",
        "a=b,a=c",
        "a =b,a=c",
        "dots.are.not.allowed",
    ] {
        assert!(bad.parse::<ClusterNames>().is_err(), "{bad}");
    }
    assert!("x".repeat(101).parse::<ClusterNames>().is_err());
}

#[test]
fn the_eks_source_reads_its_own_settings() {
    let none = |_: &str| None;
    assert_eq!(
        EksAuditSource::from_lookup(&none).unwrap(),
        EksAuditSource::default()
    );
    let lookup = |name: &str| match name {
        "TRIAGE_EKS_MAX_TEXT_MB" => Some("16".to_string()),
        "TRIAGE_EKS_MAX_LIVE_AGGREGATES" => Some("2048".to_string()),
        _ => None,
    };
    let eks = EksAuditSource::from_lookup(&lookup).unwrap();
    assert_eq!((eks.max_text_bytes, eks.limits.max_live), (16 << 20, 2048));
    let named = |name: &str| (name == "TRIAGE_EKS_CLUSTERS").then(|| "eks/prod/=prod".into());
    let eks = EksAuditSource::from_lookup(&named).unwrap();
    assert_eq!(eks.log.clusters.of_key("eks/prod/x"), Some("prod"));
    let bad = |name: &str| (name == "TRIAGE_EKS_CLUSTERS").then(|| "eks/=no good".into());
    let err = EksAuditSource::from_lookup(&bad).unwrap_err();
    assert!(err.to_string().contains("TRIAGE_EKS_CLUSTERS"), "{err}");
    let too_small = |name: &str| (name == "TRIAGE_EKS_MAX_LIVE_AGGREGATES").then(|| "10".into());
    let err = EksAuditSource::from_lookup(&too_small).unwrap_err();
    assert!(
        err.to_string().contains("TRIAGE_EKS_MAX_LIVE_AGGREGATES"),
        "{err}"
    );
}

/// Anonymous `get /version` calls over `minutes`, from `addresses` distinct addresses a minute,
/// as an export's lines.
fn eks_lines(minutes: i64, addresses: usize) -> Vec<u8> {
    let mut out = String::new();
    for minute in 0..minutes {
        for n in 0..addresses {
            let time = chrono::DateTime::from_timestamp(1_700_000_000 + minute * 60, 0).unwrap();
            out.push_str(
                &json!({
                    "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
                    "auditID": format!("{minute}-{n}"), "stage": "ResponseComplete",
                    "requestURI": "/version", "verb": "get",
                    "user": {"username": "system:anonymous", "groups": ["system:unauthenticated"]},
                    "sourceIPs": [format!("198.51.100.{}", (n + minute as usize) % 250)],
                    "userAgent": "masscan", "responseStatus": {"code": 200},
                    "requestReceivedTimestamp": time.to_rfc3339(),
                    "stageTimestamp": time.to_rfc3339()
                })
                .to_string(),
            );
            out.push('\n');
        }
    }
    out.into_bytes()
}

#[test]
fn an_eks_audit_log_read_within_a_small_bound_counts_every_call_once() {
    let (whole, items, parts) = whole_and_in_parts::<EksAuditLog>(&eks_lines(90, 40));
    assert_eq!(whole.stats.skipped, 0);
    assert!(parts > 9, "{parts} parts");
    let calls = |items: &[Item]| {
        let mut calls: BTreeMap<String, u64> = BTreeMap::new();
        for (pk, blob) in rows_of(items) {
            for row in crate::context_items::decode_kube_rows(blob) {
                *calls.entry(pk.clone()).or_default() += row.calls;
            }
        }
        calls
    };
    assert_eq!(calls(&items), calls(&whole.items));
    assert_eq!(calls(&items)["K8S#-#user#system:anonymous"], 90 * 40);
}
