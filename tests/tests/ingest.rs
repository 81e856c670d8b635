//! The ingest pipeline against the local server: real objects in a bucket of our own (S3), real
//! items in the table (DynamoDB), SQS events as Lambda hands them to the ingest functions. Good
//! objects' items can be queried; the bad ones (a missing key, a corrupt gzip, invalid JSON, a
//! malformed message) are exactly the batch item failures.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_s3::primitives::ByteStream;
use integration_tests::{LocalStack, unique};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use triage_aws::ingest::{
    CloudTrailLimits, CloudTrailSource, EksAuditSource, FlowLogSource, Ingestor, LogSource,
    ObjectRef, ResolverSource, Trigger, batch_id, detect_trigger, read_cloudtrail, read_flow_log,
};
use triage_aws::s3::{S3ObjectSource, s3_client};
use triage_aws::{BatchWriter, item_key};
use triage_logs::test_support::{eks_firehose_object, gzip};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(path),
    )
    .unwrap()
}

/// A CloudTrail delivery (`{"Records":[...]}`) of real corpus records, with a principal of its
/// own so the test owns its items.
fn cloudtrail_delivery(user: &str) -> Vec<u8> {
    let records = String::from_utf8(fixture(
        "cloudtrail/stratus_red_team_detonations/aws.persistence.iam-create-admin-user.json",
    ))
    .unwrap()
    .replace("user/christophe", &format!("user/{user}"));
    let records: Value = serde_json::from_str(&records).unwrap();
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

/// An S3 notification body as S3 sends it to SQS (the key URL-encoded as S3 encodes it).
fn notification(bucket: &str, encoded_key: &str, etag: &str) -> String {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T10:05:12.345Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
        "requestParameters": {"sourceIPAddress": "198.51.100.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "example"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "guardduty-triage",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": encoded_key, "size": 1, "eTag": etag, "sequencer": "0055AED6DCD90281E5"}
        }
    }]})
    .to_string()
}

fn sqs_event(messages: &[(&str, String)]) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("handle-{id}"),
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn failures(response: &SqsBatchResponse) -> BTreeSet<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

/// `(pk, sk)` of items.
fn keys(items: &[triage_aws::Item]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .filter_map(item_key)
        .map(|(pk, sk)| (pk.to_owned(), sk.to_owned()))
        .collect()
}

/// The stored items of the given partitions whose sort key names `object` (one Query each).
async fn stored(
    stack: &LocalStack,
    pks: &BTreeSet<String>,
    object: &str,
) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for pk in pks {
        let page = stack.partition(pk.clone()).await;
        assert!(
            page.last_evaluated_key.is_none(),
            "one page per partition here"
        );
        for item in page.items() {
            let sk = item["sk"].as_s().unwrap();
            if sk.contains(object) {
                assert!(item.contains_key("expires_at") && item.contains_key("rows"));
                found.insert((pk.clone(), sk.clone()));
            }
        }
    }
    found
}

struct Bucket {
    s3: aws_sdk_s3::Client,
    name: String,
}

impl Bucket {
    async fn create(stack: &LocalStack) -> Self {
        let s3 = s3_client(&stack.sdk);
        let name = unique("ingest");
        s3.create_bucket().bucket(&name).send().await.unwrap();
        Self { s3, name }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) {
        self.s3
            .put_object()
            .bucket(&self.name)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .unwrap();
    }
}

fn ingestor<L: LogSource>(
    stack: &LocalStack,
    source: L,
) -> Ingestor<S3ObjectSource, BatchWriter, L> {
    Ingestor::new(
        S3ObjectSource::new(s3_client(&stack.sdk), Duration::from_secs(5)),
        BatchWriter::new(stack.dynamodb.clone(), &stack.table),
        source,
        chrono::Duration::days(90),
    )
}

#[tokio::test]
async fn cloudtrail_batch_writes_good_objects_and_fails_exactly_the_bad_ones() {
    let stack = LocalStack::start().await;
    let bucket = Bucket::create(&stack).await;
    let user = unique("user");
    let delivery = cloudtrail_delivery(&user);
    // A key with a space and a `+`, which S3 notifications encode as `+` and `%2B`.
    let key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/123456789012_CloudTrail_us-east-1_20261125T1005Z_a b+c.json.gz";
    let encoded = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/123456789012_CloudTrail_us-east-1_20261125T1005Z_a+b%2Bc.json.gz";
    bucket.put(key, gzip(&delivery)).await;
    // Invalid JSON upstream (a missing comma between two records), gzip as delivered.
    bucket
        .put(
            "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/invalid.json.gz",
            gzip(&fixture(
                "cloudtrail/stratus_detonations_2022_datadog_forwarder/aws.execution.ec2-user-data.json",
            )),
        )
        .await;

    let ingest = ingestor(&stack, CloudTrailSource::default());
    let b = &bucket.name;
    let event = sqs_event(&[
        ("good", notification(b, encoded, "etag-good")),
        (
            "missing",
            notification(
                b,
                "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/gone.json.gz",
                "etag-gone",
            ),
        ),
        (
            "invalid-json",
            notification(
                b,
                "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/invalid.json.gz",
                "etag-bad",
            ),
        ),
        (
            "digest",
            notification(
                b,
                "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/25/digest.json.gz",
                "etag-d",
            ),
        ),
        (
            "test-event",
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": b}).to_string(),
        ),
        ("malformed", "{\"Records\": 42}".to_owned()),
    ]);
    let response = ingest.ingest_batch(&event, None).await;
    assert_eq!(
        failures(&response),
        BTreeSet::from(["invalid-json", "malformed", "missing"].map(String::from))
    );

    // The good object's items, exactly as the parser lays them out, are in the table.
    let object = ObjectRef {
        etag: Some("etag-good".into()),
        ..ObjectRef::new(b.as_str(), key)
    };
    let expected = keys(
        &read_cloudtrail(&delivery[..], &CloudTrailLimits::FUNCTION, &object.id(), 0)
            .unwrap()
            .items,
    );
    assert!(
        expected.iter().any(|(pk, _)| pk.contains(&user)),
        "{expected:?}"
    );
    let pks = expected.iter().map(|(pk, _)| pk.clone()).collect();
    assert_eq!(stored(&stack, &pks, object.id().as_str()).await, expected);

    // A redelivered notification rewrites the same items: nothing is counted twice.
    let again = ingest
        .ingest_batch(
            &sqs_event(&[("again", notification(b, encoded, "etag-good"))]),
            None,
        )
        .await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(stored(&stack, &pks, object.id().as_str()).await, expected);
}

#[tokio::test]
async fn flow_log_batch_streams_good_objects_and_fails_the_corrupt_one() {
    let stack = LocalStack::start().await;
    let bucket = Bucket::create(&stack).await;
    let eni = unique("eni");
    let text = String::from_utf8(fixture("vpcflow/default-v2.txt"))
        .unwrap()
        .replace("eni-1235b8ca123456789", &eni);
    let key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/25/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261125T1005Z_5f0e3b2a.log.gz";
    bucket.put(key, gzip(text.as_bytes())).await;
    let mut corrupt = gzip(text.as_bytes());
    let middle = corrupt.len() / 2;
    corrupt.truncate(middle);
    bucket
        .put("AWSLogs/123456789012/vpcflowlogs/corrupt.log.gz", corrupt)
        .await;

    let ingest = ingestor(&stack, FlowLogSource::default());
    let b = &bucket.name;
    let event = sqs_event(&[
        ("good", notification(b, key, "etag-flow")),
        (
            "corrupt",
            notification(
                b,
                "AWSLogs/123456789012/vpcflowlogs/corrupt.log.gz",
                "etag-c",
            ),
        ),
        (
            "missing",
            notification(b, "AWSLogs/123456789012/vpcflowlogs/none.log.gz", "etag-m"),
        ),
    ]);
    let response = ingest.ingest_batch(&event, None).await;
    assert_eq!(
        failures(&response),
        BTreeSet::from(["corrupt", "missing"].map(String::from))
    );

    // Each failure for the reason it should fail: not a transient error that would also retry.
    let err = ingest
        .ingest_object(&ObjectRef::new(
            b.as_str(),
            "AWSLogs/123456789012/vpcflowlogs/none.log.gz",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ObjectNotFound", "{err}");
    let err = ingest
        .ingest_object(&ObjectRef::new(
            b.as_str(),
            "AWSLogs/123456789012/vpcflowlogs/corrupt.log.gz",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidObject", "{err}");
    assert!(!err.is_retryable());

    let object = ObjectRef {
        etag: Some("etag-flow".into()),
        ..ObjectRef::new(b.as_str(), key)
    };
    let expected = keys(
        &read_flow_log(text.as_bytes(), &object.id(), 0)
            .unwrap()
            .items,
    );
    assert!(
        expected.iter().any(|(pk, _)| *pk == format!("FLOW#{eni}")),
        "{expected:?}"
    );
    let pks = expected.iter().map(|(pk, _)| pk.clone()).collect();
    assert_eq!(stored(&stack, &pks, object.id().as_str()).await, expected);
}

/// Put `object` at `key` and what is not a log at `bad` in a bucket of its own, and ingest one
/// batch announcing both with `source`: only the bad one fails, as an invalid object (a retry
/// would fail the same way). The good object as the batch read it.
async fn ingest_good_and_bad<L: LogSource>(
    stack: &LocalStack,
    source: L,
    (key, object): (&str, Vec<u8>),
    (bad, not_a_log): (&str, &[u8]),
) -> ObjectRef {
    let bucket = Bucket::create(stack).await;
    bucket.put(key, object).await;
    bucket.put(bad, not_a_log.to_vec()).await;

    let ingest = ingestor(stack, source);
    let b = &bucket.name;
    let event = sqs_event(&[
        ("good", notification(b, key, "etag-good")),
        ("bad", notification(b, bad, "etag-bad")),
    ]);
    let response = ingest.ingest_batch(&event, None).await;
    assert_eq!(failures(&response), BTreeSet::from(["bad".to_owned()]));
    let err = ingest
        .ingest_object(&ObjectRef::new(b.as_str(), bad))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidObject", "{err}");
    ObjectRef {
        etag: Some("etag-good".into()),
        ..ObjectRef::new(b.as_str(), key)
    }
}

#[tokio::test]
async fn resolver_batch_writes_what_each_instance_resolved_and_fails_the_bad_object() {
    let stack = LocalStack::start().await;
    let instance = unique("i");
    let text = String::from_utf8(fixture("resolver/panther-vpcdns.ndjson"))
        .unwrap()
        .replace("i-0abc234", &instance);
    let key = "AWSLogs/0123456789/vpcdnsquerylogs/vpc-abc123/2022/06/25/0123456789_vpcdnsquerylogs_vpc-abc123_20220625T0025Z_1a2b3c4d.log.gz";
    let bad = "AWSLogs/0123456789/vpcdnsquerylogs/vpc-abc123/not-json.log";
    let object = ingest_good_and_bad(
        &stack,
        ResolverSource::default(),
        (key, gzip(text.as_bytes())),
        (bad, b"this is not a query log\n"),
    )
    .await;

    let expected = keys(
        &ResolverSource::read_whole(text.as_bytes(), u64::MAX, &object.id(), 0)
            .unwrap()
            .items,
    );
    assert!(
        expected
            .iter()
            .all(|(pk, _)| *pk == format!("DNS#{instance}")),
        "{expected:?}"
    );
    let pks = expected.iter().map(|(pk, _)| pk.clone()).collect();
    assert_eq!(stored(&stack, &pks, object.id().as_str()).await, expected);
}

#[tokio::test]
async fn eks_batch_writes_each_users_and_addresses_calls_and_fails_the_bad_object() {
    let stack = LocalStack::start().await;
    let cluster = unique("eks");
    let (object, _) = eks_firehose_object(&cluster, 3);
    let key = "eks-audit/2026/12/02/08/triage-eks-audit-1-2026-12-02-08-15-00-0a1b2c3d.gz";
    let bad = "eks-audit/2026/12/02/08/not-json";
    let object_ref = ingest_good_and_bad(
        &stack,
        EksAuditSource::default(),
        (key, object.clone()),
        (bad, b"this is not an audit log\n"),
    )
    .await;

    // Read as the function reads it: Falco's records span two days, so its buckets are handed
    // over in several parts, each numbering its chunks after the last.
    let mut items = Vec::new();
    EksAuditSource::default()
        .stream(&object[..], key, &object_ref.id(), 0, &mut |part| {
            items.extend(part)
        })
        .unwrap();
    let expected = keys(&items);
    let pks: BTreeSet<String> = expected.iter().map(|(pk, _)| pk.clone()).collect();
    assert!(
        pks.contains(&format!("K8S#{cluster}#user#minikube-user"))
            && pks.contains(&format!("K8S#{cluster}#ip#192.168.99.1")),
        "{pks:?}"
    );
    assert!(
        pks.iter()
            .all(|pk| pk.starts_with(&format!("K8S#{cluster}#"))),
        "{pks:?}"
    );
    assert_eq!(
        stored(&stack, &pks, object_ref.id().as_str()).await,
        expected
    );
}

/// A sample CloudWatch Logs subscription event of `events/ingest/`.
fn subscription_event(name: &str) -> Value {
    serde_json::from_slice(&fixture(&format!("../../events/ingest/{name}"))).unwrap()
}

#[tokio::test]
async fn a_log_subscription_batch_is_written_whole_and_a_damaged_one_fails_the_invocation() {
    let stack = LocalStack::start().await;
    let ingest = ingestor(&stack, EksAuditSource::default());
    // As CloudWatch Logs invokes `ingest-eks` when the cluster's log group is subscribed to it.
    let event = subscription_event("cloudwatch-logs-eks.json");
    let response = ingest_sqs::handle(&ingest, event.clone(), None)
        .await
        .unwrap();
    assert_eq!(response["records"], 7, "{response}");
    let Ok(Trigger::LogSubscription(logs)) = detect_trigger(event) else {
        panic!("a subscription batch")
    };
    let id = batch_id(&logs.aws_logs.data);
    let stored = stack.partition("K8S#minikube#user#minikube-user").await;
    let ours: Vec<_> = (stored.items().iter())
        .filter(|item| item["sk"].as_s().unwrap().contains(id.as_str()))
        .collect();
    assert!(!ours.is_empty(), "the batch's items are in the table");
    assert!(ours.iter().all(|item| item.contains_key("expires_at")));

    let control = subscription_event("cloudwatch-logs-control-message.json");
    let response = ingest_sqs::handle(&ingest, control, None).await.unwrap();
    assert_eq!(response["items"], 0);

    let damaged = json!({"awslogs": {"data": "H4sIAAAAAAAA/wMAAAAAAAAAAAA="}});
    let failed = ingest_sqs::handle(&ingest, damaged, None)
        .await
        .unwrap_err();
    assert_eq!(failed.error_type, "InvalidEvent", "{failed:?}");

    // A function whose source cannot read the batch fails it, so it reaches the dead-letter queue.
    let resolver = ingestor(&stack, ResolverSource::default());
    let refused = ingest_sqs::handle(
        &resolver,
        subscription_event("cloudwatch-logs-eks.json"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.error_type, "InvalidObject", "{refused:?}");
}
