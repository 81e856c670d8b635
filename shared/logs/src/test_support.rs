//! Objects as the logs' deliveries write them, for the tests of this crate and of the crates over
//! it (`triage-aws`, the integration tests), so that they all read the same bytes. Built with the
//! `test-support` feature, which only dev-dependencies enable.

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use std::io::Write;

/// `bytes` as one gzip member, as S3 deliveries compress them.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(bytes)
        .expect("writing to a vector cannot fail");
    encoder.finish().expect("writing to a vector cannot fail")
}

/// Falco's audit records (`tests/fixtures/eks/falco-k8s-audit.ndjson`, 15 KB), compiled in so
/// that a crate using them need not know where the fixtures are.
pub const FALCO_AUDIT_RECORDS: &str =
    include_str!("../../../tests/fixtures/eks/falco-k8s-audit.ndjson");

/// [`FALCO_AUDIT_RECORDS`] as Firehose writes a CloudWatch Logs subscription of `cluster`'s log
/// group to S3: `per_payload` events per payload, each payload gzip on its own, the members back
/// to back. With the number of records, which every reader of the object must count.
pub fn eks_firehose_object(cluster: &str, per_payload: usize) -> (Vec<u8>, usize) {
    let records: Vec<&str> = FALCO_AUDIT_RECORDS.lines().collect();
    let mut object = Vec::new();
    for (n, some) in records.chunks(per_payload).enumerate() {
        let events: Vec<Value> = some
            .iter()
            .enumerate()
            .map(|(i, message)| {
                json!({"id": format!("{n}{i}"), "timestamp": 1_540_475_929_000_i64, "message": message})
            })
            .collect();
        let payload = json!({
            "messageType": "DATA_MESSAGE", "owner": "111122223333",
            "logGroup": format!("/aws/eks/{cluster}/cluster"),
            "logStream": "kube-apiserver-audit-0123456789abcdef0123456789abcdef",
            "subscriptionFilters": ["triage"], "logEvents": events
        });
        object.extend(gzip(payload.to_string().as_bytes()));
    }
    (object, records.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eks;

    #[test]
    fn a_firehose_object_reads_as_every_record_under_its_cluster() {
        let (object, records) = eks_firehose_object("prod", 4);
        let (aggregates, summary) = eks::read_object(&object[..], 1 << 20).unwrap();
        assert_eq!(summary.records, records as u64);
        assert!(!aggregates.is_empty());
        assert!(aggregates.iter().all(|(key, _)| key.cluster == "prod"));
        assert_eq!(eks_firehose_object("prod", 3).1, records);
    }
}
