//! Route 53 Resolver query logs: what an instance resolved, for the DNS findings
//! (`Backdoor:EC2/C&CActivity.B!DNS`, `Trojan:EC2/DNSDataExfiltration`,
//! `CryptoCurrency:EC2/BitcoinTool.B!DNS`, ...), which GuardDuty raises from the same VPC DNS
//! traffic. Read from an object (gzip or plain) of JSON entries: one per line, a JSON array, or a
//! single entry; aggregated per asker, ten minutes, name, type and response code
//! ([`aggregate`]). Storing the aggregates and reading them back in triage come next.

mod aggregate;
mod record;

pub use aggregate::{ADDRESSES_MAX, Aggregator, BUCKET_SECS, QueryKey, QueryStats, Summary};
pub use record::{
    Answer, Answers, Query, QueryLogEntry, SkipReason, Source, SourceIds, normalize_name,
};

use crate::decompress::{Decompressed, is_over_cap};
use serde_json::Value;
use std::io::{BufReader, Read};

/// Why an object could not be read at all (its entries are then not counted either: the object
/// is retried or dead-lettered whole).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("the object's text is longer than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("read failed: {0}")]
    Read(String),
}

/// Read, parse and aggregate one object. Its text may not exceed `max_text_bytes` (a gzip bomb
/// stops there).
pub fn read_object(
    input: impl Read,
    max_text_bytes: u64,
) -> Result<(Vec<(QueryKey, QueryStats)>, Summary), InputError> {
    let text = Decompressed::new(BufReader::new(input), max_text_bytes)
        .map_err(|e| InputError::Read(e.to_string()))?;
    let mut aggregator = Aggregator::default();
    let mut push = |value: Value| {
        let query = match value {
            Value::Object(_) => serde_json::from_value::<QueryLogEntry>(value)
                .map_err(|_| SkipReason::NotAnObject)
                .and_then(Query::from_entry),
            _ => Err(SkipReason::NotAnObject),
        };
        aggregator.push(query);
    };
    // Whitespace-separated JSON values: one entry per line and a single entry alike. A JSON
    // array (an export) is one value, read whole.
    for value in serde_json::Deserializer::from_reader(BufReader::new(text)).into_iter::<Value>() {
        match value {
            Ok(Value::Array(entries)) => entries.into_iter().for_each(&mut push),
            Ok(value) => push(value),
            Err(e) if e.is_io() => {
                let e = std::io::Error::from(e);
                return Err(if is_over_cap(&e) {
                    InputError::TooLarge {
                        limit: max_text_bytes,
                    }
                } else {
                    InputError::Read(e.to_string())
                });
            }
            Err(e) => return Err(InputError::Json(e.to_string())),
        }
    }
    Ok(aggregator.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::collections::{BTreeMap, BTreeSet};
    use std::io::Write;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../tests/fixtures/resolver/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn the_documentation_example_is_a_blocked_reverse_lookup_by_an_instance() {
        let (aggregates, summary) =
            read_object(&fixture("awsdocs-example.json")[..], 1 << 20).unwrap();
        assert_eq!((summary.records, summary.skipped_total()), (1, 0));
        let [(key, stats)] = &aggregates[..] else {
            panic!("one aggregate: {aggregates:?}");
        };
        assert_eq!(key.source, Source::Instance("i-0d15cd0d3example".into()));
        assert_eq!(key.name, "15.3.4.32.in-addr.arpa");
        assert_eq!(
            (key.query_type.as_str(), key.rcode.as_str()),
            ("PTR", "NOERROR")
        );
        assert_eq!(key.bucket_start, 1_612_461_000, "2021-02-04T17:50:00Z");
        // A PTR answer is a name, not an address to look for in flow logs.
        assert!(stats.addresses.is_empty());
        assert_eq!(stats.firewall_action.as_deref(), Some("BLOCK"));
    }

    #[test]
    fn names_differing_only_by_the_final_dot_are_one_name_and_gzip_reads_the_same() {
        let plain = fixture("panther-vpcdns.ndjson");
        let (aggregates, summary) = read_object(&plain[..], 1 << 20).unwrap();
        assert_eq!((summary.records, summary.skipped_total()), (8, 0));
        let counts: Vec<(&str, u64)> = aggregates
            .iter()
            .map(|(k, s)| (k.name.as_str(), s.count))
            .collect();
        assert_eq!(
            counts,
            [
                ("abc.abc.moneropool.ru", 2),
                ("dynamodb.us-west-2.amazonaws.com", 2),
                ("moneropool.ru", 2),
                ("webservicepag.webhop.net", 2)
            ]
        );
        assert!(aggregates.iter().all(|(k, s)| {
            k.source == Source::Instance("i-0abc234".into())
                && s.addresses == BTreeSet::from(["1.2.3.4".to_string()])
        }));
        assert_eq!(
            read_object(&gzip(&plain)[..], 1 << 20).unwrap().0,
            aggregates
        );
    }

    #[test]
    fn an_array_export_reads_as_its_entries_and_bad_entries_are_counted_skips() {
        let array = br#"[
            {"query_timestamp": "2021-02-04T17:51:55Z", "query_name": "Example.COM.",
             "query_type": "A", "rcode": "NXDOMAIN", "srcaddr": "10.0.0.5"},
            {"query_name": "no-time.example"},
            {"query_timestamp": "yesterday", "query_name": "x.example", "srcaddr": "10.0.0.5"},
            {"query_timestamp": "2021-02-04T17:51:55Z", "query_name": "nobody.example"},
            42
        ]"#;
        let (aggregates, summary) = read_object(&array[..], 1 << 20).unwrap();
        assert_eq!(summary.records, 5);
        assert_eq!(
            summary.skipped,
            BTreeMap::from([
                (SkipReason::NotAnObject, 1),
                (SkipReason::MissingTime, 1),
                (SkipReason::InvalidTime, 1),
                (SkipReason::MissingSource, 1),
            ])
        );
        let [(key, _)] = &aggregates[..] else {
            panic!("{aggregates:?}");
        };
        assert_eq!(key.source, Source::Address("10.0.0.5".into()));
        assert_eq!(
            (key.name.as_str(), key.rcode.as_str()),
            ("example.com", "NXDOMAIN")
        );
    }

    #[test]
    fn a_broken_object_fails_whole_and_a_bomb_stops_at_the_cap() {
        assert!(matches!(
            read_object(&b"{\"query_name\": "[..], 1 << 20),
            Err(InputError::Json(_))
        ));
        let big = fixture("panther-vpcdns.ndjson").repeat(100);
        assert!(matches!(
            read_object(&gzip(&big)[..], 1000),
            Err(InputError::TooLarge { limit: 1000 })
        ));
    }
}
