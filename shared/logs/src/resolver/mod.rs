//! Route 53 Resolver query logs: what an instance resolved, for the DNS findings
//! (`Backdoor:EC2/C&CActivity.B!DNS`, `Trojan:EC2/DNSDataExfiltration`,
//! `CryptoCurrency:EC2/BitcoinTool.B!DNS`, ...), which GuardDuty raises from the same VPC DNS
//! traffic. Read from an object (gzip or plain) of JSON entries: one per line, a JSON array, or a
//! single entry; aggregated per asker, ten minutes, name, type and response code
//! (`aggregate`), handed over a part at a time so that memory follows [`Limits`], not the
//! object.

mod aggregate;
mod record;

pub use aggregate::{
    ADDRESSES_MAX, Aggregator, BUCKET_SECS, DEFAULT_LIMITS, Limits, QueryKey, QueryStats, Summary,
};
pub use record::{Answer, Query, QueryLogEntry, SkipReason, Source, SourceIds, normalize_name};

pub use crate::json_object::InputError;

use crate::decompress::Decompressed;
use crate::json_object::{read_error, value_error};
use serde::Deserialize;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};

/// Read, parse and aggregate one object. Its text may not exceed `max_text_bytes` (a gzip bomb
/// stops there).
///
/// S3 deliveries hold one entry per line, each parsed straight into [`QueryLogEntry`] (a line
/// that does not parse is a counted skip, not a failed object: one damaged entry must not drop
/// the rest). When the first line is not a whole entry, the object is read as a stream of JSON
/// values instead: pretty-printed entries, or a JSON array export (read whole).
pub fn read_object(
    input: impl Read,
    max_text_bytes: u64,
) -> Result<(Vec<(QueryKey, QueryStats)>, Summary), InputError> {
    let mut aggregates = Vec::new();
    let summary = read_object_within(input, max_text_bytes, Limits::UNBOUNDED, |part| {
        aggregates.extend(part)
    })?;
    Ok((aggregates, summary))
}

/// [`read_object`] within `limits`: the aggregates are handed to `on_part` a part at a time (a
/// part's buckets are final unless late queries start them again, in a later part), so memory
/// holds at most [`Limits::max_live`] aggregates whatever the object's size.
pub fn read_object_within(
    input: impl Read,
    max_text_bytes: u64,
    limits: Limits,
    mut on_part: impl FnMut(Vec<(QueryKey, QueryStats)>),
) -> Result<Summary, InputError> {
    let mut text = BufReader::with_capacity(
        BUFFER,
        Decompressed::new(BufReader::with_capacity(BUFFER, input), max_text_bytes)
            .map_err(|e| read_error(e, max_text_bytes))?,
    );
    let mut aggregator = Aggregator::new(limits);
    // A function, not a closure: each query borrows its own line, for the call only.
    fn push<'a>(
        aggregator: &mut Aggregator,
        query: Result<Query<'a>, SkipReason>,
        on_part: &mut impl FnMut(Vec<(QueryKey, QueryStats)>),
    ) {
        aggregator.push(query);
        if aggregator.has_ready() {
            on_part(aggregator.take_ready());
        }
    }
    let mut line = String::new();
    let first_is_entry = loop {
        line.clear();
        if text
            .read_line(&mut line)
            .map_err(|e| read_error(e, max_text_bytes))?
            == 0
        {
            break true;
        }
        if !line.trim().is_empty() {
            break serde_json::from_str::<QueryLogEntry>(&line).is_ok();
        }
    };
    if first_is_entry {
        loop {
            if !line.trim().is_empty() {
                push(
                    &mut aggregator,
                    serde_json::from_str::<QueryLogEntry>(&line)
                        .map_err(|_| SkipReason::NotAnObject)
                        .and_then(Query::from_entry),
                    &mut on_part,
                );
            }
            line.clear();
            if text
                .read_line(&mut line)
                .map_err(|e| read_error(e, max_text_bytes))?
                == 0
            {
                break;
            }
        }
    } else {
        let rest = line.as_bytes().chain(&mut text);
        for value in serde_json::Deserializer::from_reader(rest).into_iter::<Value>() {
            let value = value.map_err(|e| value_error(e, max_text_bytes))?;
            let entries = match value {
                Value::Array(entries) => entries,
                other => vec![other],
            };
            for entry in entries {
                push(
                    &mut aggregator,
                    match entry {
                        Value::Object(_) => QueryLogEntry::deserialize(&entry)
                            .map_err(|_| SkipReason::NotAnObject)
                            .and_then(Query::from_entry),
                        _ => Err(SkipReason::NotAnObject),
                    },
                    &mut on_part,
                );
            }
        }
    }
    let (last, mut summary) = aggregator.finish();
    if !last.is_empty() {
        on_part(last);
    }
    summary.text_bytes = text.get_ref().bytes_read();
    Ok(summary)
}

/// Read buffer between the source, the decompressor and the line reader.
const BUFFER: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::gzip;
    use std::collections::BTreeMap;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../tests/fixtures/resolver/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
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
        assert_eq!(
            stats.firewall_action,
            Some(triage_domain::dns::FirewallAction::Block)
        );
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
                && s.addresses == ["1.2.3.4".parse::<std::net::IpAddr>().unwrap()]
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
    fn a_broken_array_fails_whole_a_broken_line_is_skipped_and_a_bomb_stops_at_the_cap() {
        assert!(matches!(
            read_object(&b"[{\"query_name\": "[..], 1 << 20),
            Err(InputError::Json(_))
        ));
        // One damaged line of a delivery is a counted skip; the others are kept.
        let mut lines = fixture("panther-vpcdns.ndjson");
        lines.extend(b"{\"query_name\": \n");
        let (_, summary) = read_object(&lines[..], 1 << 20).unwrap();
        assert_eq!((summary.records, summary.skipped_total()), (9, 1));
        let big = fixture("panther-vpcdns.ndjson").repeat(100);
        assert!(matches!(
            read_object(&gzip(&big)[..], 1000),
            Err(InputError::TooLarge { limit: 1000 })
        ));
    }

    #[test]
    fn a_late_query_for_a_bucket_handed_over_lands_in_a_later_part_and_counts_once() {
        let line = |time: &str| {
            format!(
                "{{\"query_timestamp\": \"{time}\", \"query_name\": \"example.com.\", \
                 \"query_type\": \"A\", \"rcode\": \"NOERROR\", \"srcids\": {{\"instance\": \"i-1\"}}}}\n"
            )
        };
        let text = [
            line("2021-02-04T17:51:55Z"),
            // Twenty minutes on: the 17:50 bucket is past its end and the grace.
            line("2021-02-04T18:11:00Z"),
            // A straggler for 17:50, after its bucket was handed over: a part of its own, at
            // once, since the stream is already past that bucket.
            line("2021-02-04T17:52:10Z"),
        ]
        .concat();
        let mut parts = Vec::new();
        let limits = Limits {
            max_live: 100,
            grace_secs: 600,
        };
        let summary =
            read_object_within(text.as_bytes(), 1 << 20, limits, |part| parts.push(part)).unwrap();
        let buckets: Vec<Vec<(i64, u64)>> = parts
            .iter()
            .map(|part| {
                part.iter()
                    .map(|(k, s)| (k.bucket_start, s.count))
                    .collect()
            })
            .collect();
        assert_eq!(
            buckets,
            [
                vec![(1_612_461_000, 1)],
                vec![(1_612_461_000, 1)],
                vec![(1_612_462_200, 1)]
            ]
        );
        assert_eq!(
            (summary.records, summary.aggregates, summary.peak_live),
            (3, 3, 2)
        );
        // Over the bound, the oldest bucket goes early, whatever the grace.
        let mut parts = 0;
        let tight = Limits {
            max_live: 1,
            grace_secs: i64::MAX,
        };
        read_object_within(text.as_bytes(), 1 << 20, tight, |_| parts += 1).unwrap();
        assert_eq!(parts, 3);
    }
}
