//! One object in, its aggregates and summary out: what the ingest function does per S3 object
//! and the backfill command per file, so both run the same code.

use super::aggregate::{Aggregates, Aggregator, BucketWidth, Limits};
use super::error::FlowLogError;
use super::layout::AGGREGATION_FIELDS;
use super::reader::{FlowLogReader, HeaderPolicy};
use super::summary::Summary;
use crate::decompress::Decompressed;
use std::io::{BufRead, BufReader};

/// Buffer between the decompressor and the line reader: large enough that the decompressor
/// works in big steps, small next to a Lambda function's memory.
const DECOMPRESSED_BUFFER: usize = 64 * 1024;

/// How to read an object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestOptions {
    pub header: HeaderPolicy,
    pub bucket: BucketWidth,
    /// How many aggregates may be held in memory, and when a bucket is flushed.
    pub limits: Limits,
}

/// Parse and aggregate one plain-text object.
///
/// All or nothing: an error (unreadable header, header without the fields aggregation needs,
/// corrupt or truncated stream) returns no aggregates, so an object is never half-written and a
/// retry never counts twice. Bad lines are not errors: they are counted in the summary.
pub fn ingest<R: BufRead>(
    input: R,
    options: &IngestOptions,
) -> Result<(Aggregates, Summary), FlowLogError> {
    let mut reader = FlowLogReader::new(input, options.header)?;
    reader.layout().require(&AGGREGATION_FIELDS)?;
    let mut aggregator = Aggregator::with_limits(options.bucket, options.limits);
    while reader
        .next_with(|line, parsed| aggregator.push_parsed(line, parsed))?
        .is_some()
    {}
    Ok(aggregator.finish())
}

/// Like [`ingest`], for an object as S3 delivers it: gzip (one or several members), or plain
/// text, told apart by the gzip magic bytes.
pub fn ingest_gzip<R: BufRead>(
    input: R,
    options: &IngestOptions,
) -> Result<(Aggregates, Summary), FlowLogError> {
    let text = Decompressed::new(input, u64::MAX)
        .map_err(|source| FlowLogError::Read { line: 0, source })?;
    ingest(BufReader::with_capacity(DECOMPRESSED_BUFFER, text), options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flowlogs::error::SkipReason;
    use crate::flowlogs::field::Field;
    use crate::flowlogs::synthetic::{Synthetic, default_v2_templates};
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::{Read, Write};
    use triage_domain::traffic::ServiceSide;
    use triage_domain::traffic::{Action, Direction};

    const DEFAULT_V2: &str = include_str!("../../../../tests/fixtures/vpcflow/default-v2.txt");
    const TCP_FLAGS_V3: &str = include_str!("../../../../tests/fixtures/vpcflow/tcp-flags-v3.txt");
    const TRAFFIC_PATH_V5: &str =
        include_str!("../../../../tests/fixtures/vpcflow/traffic-path-v5.txt");
    const NAT_GATEWAY: &str = include_str!("../../../../tests/fixtures/vpcflow/nat-gateway.txt");
    const TRANSIT_GATEWAY: &str =
        include_str!("../../../../tests/fixtures/vpcflow/transit-gateway-v3.txt");

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn options() -> IngestOptions {
        IngestOptions::default()
    }

    #[test]
    fn gzip_and_plain_give_the_same_result() {
        for text in [DEFAULT_V2, TCP_FLAGS_V3, TRAFFIC_PATH_V5] {
            let (plain, plain_summary) = ingest_gzip(text.as_bytes(), &options()).unwrap();
            let packed = gzip(text.as_bytes());
            let (unpacked, unpacked_summary) = ingest_gzip(&packed[..], &options()).unwrap();
            assert_eq!(plain.sorted(), unpacked.sorted());
            assert_eq!(plain_summary, unpacked_summary);
            assert!(plain_summary.aggregated > 0);
        }
    }

    #[test]
    fn several_gzip_members_are_one_object() {
        let (head, tail) = DEFAULT_V2.split_at(
            DEFAULT_V2
                .find("2 123456789010 eni-1235b8ca123456789 203")
                .unwrap(),
        );
        let mut packed = gzip(head.as_bytes());
        packed.extend(gzip(tail.as_bytes()));
        let (_, summary) = ingest_gzip(&packed[..], &options()).unwrap();
        assert_eq!((summary.records, summary.aggregated), (7, 5));
    }

    #[test]
    fn the_v5_example_aggregates_by_flow_direction() {
        let (aggregates, summary) = ingest_gzip(TRAFFIC_PATH_V5.as_bytes(), &options()).unwrap();
        assert_eq!(
            (
                summary.records,
                summary.aggregated,
                summary.unknown_direction
            ),
            (2, 2, 0)
        );
        let all = aggregates.sorted();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].direction, Direction::Ingress);
        assert_eq!(all[1].direction, Direction::Egress);
        for a in &all {
            assert_eq!(a.interface_id, Some("eni-1235b8ca123456789"));
            // The instance's connection from 34210 to S3's port 80: keyed on 80.
            assert_eq!(
                (a.local_addr.to_string(), a.service_port, a.service),
                ("10.0.0.71".into(), 80, ServiceSide::Remote)
            );
            assert_eq!(a.remote_addr.to_string(), "52.95.128.179");
            assert_eq!(a.action, Action::Accept);
        }
        assert_eq!(
            (all[0].packets, all[0].bytes, all[0].tcp_flags),
            (14, 15044, 19)
        );
        assert_eq!(
            (all[1].packets, all[1].bytes, all[1].tcp_flags),
            (7, 471, 3)
        );
    }

    #[test]
    fn formats_that_cannot_aggregate_are_errors_naming_the_fields() {
        let err = ingest_gzip(NAT_GATEWAY.as_bytes(), &options()).unwrap_err();
        assert!(matches!(&err, FlowLogError::MissingFields(f) if f.contains(&Field::Bytes)));
        let err = ingest_gzip(TRANSIT_GATEWAY.as_bytes(), &options()).unwrap_err();
        let FlowLogError::MissingFields(missing) = err else {
            panic!("transit gateway format has no counts")
        };
        assert_eq!(
            missing,
            vec![Field::Packets, Field::Bytes, Field::Start, Field::End]
        );
        assert!(!FlowLogError::MissingFields(missing).is_retryable());
    }

    #[test]
    fn a_truncated_gzip_object_is_an_error_and_keeps_nothing() {
        let packed = gzip(TCP_FLAGS_V3.as_bytes());
        for cut in [packed.len() - 4, packed.len() / 2, 12] {
            let err = ingest_gzip(&packed[..cut], &options()).unwrap_err();
            let FlowLogError::Read { source, .. } = &err else {
                panic!("cut at {cut}: {err}");
            };
            assert_eq!(
                source.kind(),
                std::io::ErrorKind::UnexpectedEof,
                "cut at {cut}"
            );
            assert!(!err.is_retryable());
            assert!(
                err.to_string()
                    .starts_with("reading the flow log failed after line")
            );
        }
    }

    #[test]
    fn a_corrupt_gzip_object_is_an_error() {
        let mut packed = gzip(TCP_FLAGS_V3.as_bytes());
        let middle = packed.len() / 2;
        for byte in &mut packed[middle..middle + 8] {
            *byte ^= 0x5a;
        }
        let err = ingest_gzip(&packed[..], &options()).unwrap_err();
        assert!(matches!(err, FlowLogError::Read { .. }), "{err}");
        assert!(!err.is_retryable());
        // Garbage that merely starts like gzip.
        let err = ingest_gzip(&[0x1f, 0x8b, 0, 0][..], &options()).unwrap_err();
        assert!(matches!(err, FlowLogError::Read { line: 0, .. }), "{err}");
    }

    #[test]
    fn corrupt_lines_are_counted_and_the_rest_is_kept() {
        let mut text = String::from(DEFAULT_V2);
        let ssh = DEFAULT_V2.lines().nth(1).unwrap();
        text.push_str(&ssh.replace(" 4249 ", " 42x9 "));
        text.push('\n');
        text.push_str(&ssh[..ssh.len() / 2]);
        text.push('\n');
        text.push_str(&ssh.replace("172.31.16.21", "172.31.16.2100"));
        text.push('\n');
        let (aggregates, summary) = ingest_gzip(&gzip(text.as_bytes())[..], &options()).unwrap();
        assert_eq!(summary.records, 10);
        assert_eq!(summary.aggregated, 5);
        assert_eq!(summary.skipped_total(), 3);
        assert_eq!(summary.skipped[&SkipReason::BadNumber(Field::Bytes)], 1);
        assert_eq!(summary.skipped[&SkipReason::WrongFieldCount], 1);
        assert_eq!(summary.skipped[&SkipReason::BadAddress(Field::DstAddr)], 1);
        let lines: Vec<u64> = summary.first_skips.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![9, 10, 11]);
        assert_eq!(aggregates.len(), 5);
        assert_eq!(
            summary.records,
            summary.aggregated + summary.nodata + summary.skipdata + summary.skipped_total()
        );
    }

    #[test]
    fn headerless_input_only_when_asked() {
        let body = DEFAULT_V2.split_once('\n').unwrap().1;
        assert!(matches!(
            ingest_gzip(body.as_bytes(), &options()),
            Err(FlowLogError::MissingHeader { .. })
        ));
        let lenient = IngestOptions {
            header: HeaderPolicy::DefaultV2IfMissing,
            ..options()
        };
        let (_, summary) = ingest_gzip(&gzip(body.as_bytes())[..], &lenient).unwrap();
        assert_eq!((summary.records, summary.aggregated), (7, 5));
        assert!(matches!(
            ingest_gzip(&b""[..], &options()),
            Err(FlowLogError::Empty)
        ));
    }

    /// A million lines (about 100 MB) built from the documentation's default-format records,
    /// with varied client addresses and ports, over six ten-minute buckets, streamed from a
    /// generator and never held in memory: the aggregate count is set by the distinct activity,
    /// not by the number of lines, and the line buffer stays small. (Plain text, so the debug
    /// build does not spend its time in an unoptimised decompressor; gzip is the same reader.)
    #[test]
    fn a_million_lines_stay_within_a_few_hundred_aggregates() {
        const LINES: u64 = 1_000_000;
        const REMOTES: u32 = 20;
        const BUCKETS: u32 = 6;
        let templates = default_v2_templates();
        let input = BufReader::new(Synthetic::new(&templates, LINES, REMOTES, BUCKETS));
        let mut reader = FlowLogReader::new(input, HeaderPolicy::Required).unwrap();
        let mut aggregator = Aggregator::new(BucketWidth::TEN_MINUTES);
        while let Some(entry) = reader.next_entry().unwrap() {
            aggregator.push(&entry);
        }
        assert!(
            reader.buffer_capacity() <= 1024,
            "line buffer grew to {}",
            reader.buffer_capacity()
        );
        let (aggregates, summary) = aggregator.finish();

        assert_eq!(summary.records, LINES);
        assert_eq!(summary.skipped_total(), 0, "{summary}");
        assert!(summary.nodata > 0 && summary.skipdata > 0);
        let expected = templates.flows() as u32 * REMOTES * BUCKETS;
        assert_eq!(aggregates.len(), expected as usize);
        assert!(summary.records_per_aggregate() > 1000.0);
        let flows: u64 = aggregates.iter().map(|a| a.flows).sum();
        assert_eq!(flows, summary.aggregated);
        assert_eq!(
            summary.records,
            summary.aggregated + summary.nodata + summary.skipdata
        );
        // Plain text through `ingest_gzip` gives the same.
        let mut text = Vec::new();
        Synthetic::new(&templates, 10_000, REMOTES, BUCKETS)
            .read_to_end(&mut text)
            .unwrap();
        let (small, _) = ingest_gzip(&text[..], &options()).unwrap();
        assert_eq!(small.len(), expected as usize);
    }
}
