//! `BatchWriter` against the local server: 25 items per call, every item stored.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{LocalStack, unique};
use triage_aws::{BatchWriter, Item};

#[tokio::test]
async fn sixty_items_take_three_calls_and_all_arrive() {
    let stack = LocalStack::start().await;
    let pk = unique("BATCH");
    let items: Vec<Item> = (0..60)
        .map(|i| {
            Item::from([
                ("pk".to_string(), AttributeValue::S(pk.clone())),
                ("sk".to_string(), AttributeValue::S(format!("{i:03}"))),
                (
                    "expires_at".to_string(),
                    AttributeValue::N("2000000000".into()),
                ),
            ])
        })
        .collect();
    let writer = BatchWriter::new(stack.dynamodb.clone(), &stack.table);
    let report = writer.put_all(items).await.unwrap();
    assert_eq!(report.items, 60);
    assert_eq!(report.calls, 3);
    assert_eq!(report.write_units, 60);
    let stored = stack.partition(pk).await;
    assert_eq!(stored.count, 60);
}
