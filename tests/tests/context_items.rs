//! Context items on the wire: the flow aggregates of a real object written with `BatchWriter`
//! and read back, rows intact; writing the same object twice leaves the same items.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{LocalStack, unique};
use std::io::Read;
use triage_core::aws::BatchWriter;
use triage_core::aws::context_items::{ObjectId, flow_items};
use triage_core::context::flowlogs;

#[tokio::test]
async fn flow_items_round_trip_and_rewriting_an_object_is_idempotent() {
    let stack = LocalStack::start().await;
    // The documentation's default-format records, with a unique interface so the test owns its keys.
    let fixture = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vpcflow/default-v2.txt"),
    )
    .unwrap();
    let eni = unique("eni");
    let text = fixture.replace("eni-1235b8ca123456789", &eni);
    let (aggregates, _) =
        flowlogs::ingest(text.as_bytes(), &flowlogs::IngestOptions::default()).unwrap();
    let expected_rows = aggregates
        .iter()
        .filter(|a| a.interface_id == Some(eni.as_str()))
        .count();
    assert!(expected_rows > 0, "fixture has records of that interface");
    let items = flow_items(&aggregates, &ObjectId::of(&eni), 2_000_000_000);
    let writer = BatchWriter::new(stack.dynamodb.clone(), &stack.table);
    writer.put_all(items.clone()).await.unwrap();
    writer.put_all(items).await.unwrap();

    let stored = stack
        .dynamodb
        .query()
        .table_name(&stack.table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("FLOW#{eni}")))
        .send()
        .await
        .unwrap();
    let mut rows = 0;
    for item in stored.items() {
        let blob = item["rows"].as_b().unwrap();
        let mut text = String::new();
        flate2::read::DeflateDecoder::new(blob.as_ref())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(
            text.lines().count().to_string(),
            *item["rows_n"].as_n().unwrap()
        );
        rows += text.lines().count();
        assert!(text.lines().all(|l| l.split('\t').count() == 12));
    }
    assert_eq!(rows, expected_rows, "written twice, stored once");
}
