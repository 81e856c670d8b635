//! How the context (CloudTrail, VPC Flow Logs, Resolver and EKS audit logs) is laid out in DynamoDB,
//! and what it costs to write.
//!
//! Write units are billed per started KB of item, so the layout packs many aggregates into one
//! item instead of one item per aggregate: the rows of one subject and time bucket, from one
//! source object, are compressed together into a binary attribute. Flow rows, by far the most
//! numerous, are stored column by column in binary ([`flowlogs::rows`]): an object's rows are
//! laid out and deflated at the speed the object is read. CloudTrail rows are tab-separated
//! text or JSON lines, deflated.
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | flows | `FLOW#<eni-id or local IP>` | `<bucket start, RFC 3339>#<object id>#<chunk>` | `rows` (binary columns, deflated: remote, local IP, service port and side, protocol, direction, action, packets, bytes, flows, first, last, tcp flags), `rows_n` |
//! | API activity | `CT#<arn / key / ip / service / account>#<id>` | `ACT#<bucket start>#<object id>#<chunk>` | `rows` (source, API, outcome, source IP, region, count, first, last, user agent), `rows_n` |
//! | baseline | same `pk` | `BASE#<object id>#<chunk>` | `rows` (kind, value, count, first, last) |
//! | notable events | principal's `pk` | `EVT#<hour>#<object id>#<chunk>` | `rows` (deflated JSON lines, one event each), `rows_n` |
//! | DNS queries | `DNS#<instance id or source address>` | `<bucket start, RFC 3339>#<object id>#<chunk>` | `rows` (deflated TSV: name, type, response code, count, first, last, addresses, firewall action), `rows_n` |
//! | Kubernetes calls | `K8S#<cluster>#user#<username>` and `K8S#<cluster>#ip#<address>` (each aggregate under both, `kube`) | `<bucket start, RFC 3339>#<object id>#<chunk>` | `rows` (deflated JSON lines: cluster, user, address, uid, groups, user agents, calls, denied, first, last, counts by verb and resource, notable calls), `rows_n` |
//!
//! Keys carry the source object's ID, so processing an object twice (at-least-once delivery,
//! a re-run backfill) overwrites the same items instead of double counting, and a reader sums
//! the items of a bucket. Every item carries `expires_at` (TTL).

use super::batch_write::Item;
use super::item_size::write_units;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use flate2::Compression;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::BTreeMap;
use triage_domain::enrich::{ActivityRow, BaselineRow, FlowRow};
use triage_domain::scope::ScopeWindow;
use triage_logs::{cloudtrail, flowlogs};

mod kube;
mod resolver;

pub(crate) use kube::lookups as kube_lookups;
pub use kube::{decode_kube_callers, decode_kube_rows, kube_items};
pub(crate) use resolver::lookups as resolver_lookups;
pub use resolver::{decode_resolver_rows, resolver_items};

/// Uncompressed rows per item chunk: keeps every item far below DynamoDB's 400 KB.
const CHUNK_BYTES: usize = 512 * 1024;
/// On-demand price of one million write request units, us-east-1 (after the November 2024 cut).
pub const USD_PER_MILLION_WRITES: f64 = 0.625;

/// A stable short ID for a source object (S3 bucket/key/ETag, or a file's path and size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectId(String);

/// Marks the items of a single CloudTrail event delivered by EventBridge: the same call comes
/// again in CloudTrail's S3 delivery minutes later, and readers must not count it twice.
const LIVE_MARK: &str = "live-";

impl ObjectId {
    pub fn of(identity: &str) -> Self {
        let digest = Sha256::digest(identity.as_bytes());
        Self(digest[..6].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The ID of a single event delivered live (EventBridge), told apart by [`is_live`].
    pub fn live(identity: &str) -> Self {
        Self(format!("{LIVE_MARK}{}", Self::of(identity).0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether an item's sort key (`...#<object>#<chunk>`) names an [`ObjectId::live`] object.
pub fn is_live(sort_key: &str) -> bool {
    sort_key.split('#').any(|part| part.starts_with(LIVE_MARK))
}

/// Items and their cost, for `--dry-run` and the ingest summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WritePlan {
    pub items: usize,
    pub write_units: usize,
}

impl WritePlan {
    pub fn of(items: &[Item]) -> Self {
        Self {
            items: items.len(),
            write_units: items.iter().map(write_units).sum(),
        }
    }

    pub fn usd(&self) -> f64 {
        self.write_units as f64 * USD_PER_MILLION_WRITES / 1e6
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Field separators and line breaks cannot appear inside a value.
fn cell(value: &str) -> String {
    value.replace(['\t', '\n', '\r'], " ")
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Raw deflate (as `DeflateEncoder` writes it) through one compressor per thread, reset for each
/// item: a compressor's state is about 300 KB, and one allocated and freed per item (an object
/// in parts makes hundreds of thousands of small items) left glibc's heap many times larger than
/// what was live.
fn deflate(text: &str) -> Vec<u8> {
    use flate2::{Compress, FlushCompress, Status};
    thread_local! {
        static COMPRESSOR: RefCell<Compress> =
            RefCell::new(Compress::new(Compression::default(), false));
    }
    COMPRESSOR.with_borrow_mut(|compressor| {
        compressor.reset();
        let input = text.as_bytes();
        let mut out = Vec::with_capacity(input.len() / 4 + 64);
        loop {
            let read = usize::try_from(compressor.total_in()).unwrap_or(usize::MAX);
            let rest = input.get(read..).unwrap_or_default();
            match compressor.compress_vec(rest, &mut out, FlushCompress::Finish) {
                Ok(Status::StreamEnd) => return out,
                Ok(_) => out.reserve(out.capacity().max(64)),
                // Compressing into memory does not fail; an empty blob reads back as no rows.
                Err(_) => return Vec::new(),
            }
        }
    })
}

/// Rows of one (pk, sk prefix), split into chunks, each one item, numbered from `first_chunk`.
fn packed_items(
    pk: &str,
    sk_prefix: &str,
    rows: &[String],
    expires_at: i64,
    first_chunk: u64,
) -> Vec<Item> {
    let mut items = Vec::new();
    let mut chunk = String::new();
    let mut count = 0;
    let mut flush = |chunk: &mut String, count: &mut usize| {
        items.push(Item::from([
            ("pk".to_string(), s(pk)),
            (
                "sk".to_string(),
                s(format!("{sk_prefix}#{}", first_chunk + items.len() as u64)),
            ),
            (
                "rows".to_string(),
                AttributeValue::B(Blob::new(deflate(chunk))),
            ),
            ("rows_n".to_string(), AttributeValue::N(count.to_string())),
            (
                "expires_at".to_string(),
                AttributeValue::N(expires_at.to_string()),
            ),
        ]));
        chunk.clear();
        *count = 0;
    };
    for row in rows {
        if chunk.len() + row.len() > CHUNK_BYTES && count > 0 {
            flush(&mut chunk, &mut count);
        }
        chunk.push_str(row);
        chunk.push('\n');
        count += 1;
    }
    if count > 0 {
        flush(&mut chunk, &mut count);
    }
    items
}

/// The flow aggregates of one object as items: one per chunk of rows of a subject (interface,
/// or local address) and time bucket, `rows` in the binary stored form of
/// [`flowlogs::rows`] (remote, local IP, service port and side, protocol, direction, action,
/// packets, bytes, flows, first, last, TCP flags), already compressed by the aggregator.
///
/// The sort key's last part is the chunk's number among the chunks of its subject and bucket in
/// the object: chunks written for a bucket after it was flushed (late records) take the next
/// numbers, so they add to the bucket's items instead of overwriting them, and an object read
/// again writes the same keys.
pub fn flow_items(
    aggregates: &flowlogs::Aggregates,
    object: &ObjectId,
    expires_at: i64,
) -> Vec<Item> {
    aggregates
        .chunks()
        .iter()
        .map(|chunk| {
            let bucket = Utc
                .timestamp_opt(chunk.bucket_start, 0)
                .single()
                .map(time)
                .unwrap_or_default();
            Item::from([
                ("pk".to_string(), s(format!("FLOW#{}", chunk.subject))),
                (
                    "sk".to_string(),
                    s(format!("{bucket}#{}#{}", object.as_str(), chunk.index)),
                ),
                (
                    "rows".to_string(),
                    AttributeValue::B(Blob::new(chunk.blob.clone())),
                ),
                (
                    "rows_n".to_string(),
                    AttributeValue::N(chunk.rows.to_string()),
                ),
                (
                    "expires_at".to_string(),
                    AttributeValue::N(expires_at.to_string()),
                ),
            ])
        })
        .collect()
}

/// Rows grouped by subject and bucket start (Unix seconds) as items, sorted under
/// `<bucket start>#<object>`: the layout of the sources keyed like flows (Resolver, EKS audit),
/// whose lookups read a window's buckets with no prefix.
fn bucket_items(
    groups: BTreeMap<(String, i64), Vec<String>>,
    object: &ObjectId,
    packed: &mut Packer<'_>,
) -> Vec<Item> {
    groups
        .into_iter()
        .flat_map(|((pk, bucket), rows)| {
            let bucket = Utc
                .timestamp_opt(bucket, 0)
                .single()
                .map(time)
                .unwrap_or_default();
            packed(&pk, &format!("{bucket}#{}", object.as_str()), &rows)
        })
        .collect()
}

fn subject_pk(key: &triage_domain::activity::EntityKey) -> String {
    format!("CT#{}#{}", key.kind.as_str(), key.id)
}

/// The CloudTrail aggregates of one object as items.
pub fn cloudtrail_items(
    aggregates: &cloudtrail::Aggregates,
    object: &ObjectId,
    expires_at: i64,
) -> Vec<Item> {
    let mut chunks = ChunkNumbers::default();
    chunks.items(aggregates, object, expires_at)
}

/// Chunk numbers for the parts of one object read in bounded memory
/// ([`cloudtrail::aggregate_stream`], [`triage_logs::resolver::read_object_within`]), so that no part overwrites another's items and a second
/// read of the object writes the same keys again (the parts fall at the same records).
///
/// A part's chunks of any one (`pk`, sort-key prefix) are numbered from the part's first number;
/// the next part starts past the most chunks any key took. One number of state, not a map of
/// every key written: the memory stays bounded. An object read in one part keeps the numbers it
/// always had (0, 1, ...).
#[derive(Debug, Clone, Default)]
pub struct ChunkNumbers {
    next: u64,
}

impl ChunkNumbers {
    /// The items of the next part of the object.
    pub fn items(
        &mut self,
        aggregates: &cloudtrail::Aggregates,
        object: &ObjectId,
        expires_at: i64,
    ) -> Vec<Item> {
        self.part(expires_at, |packed| {
            cloudtrail_part_items(aggregates, object, packed)
        })
    }

    /// One part laid out by `lay_out`, its chunks numbered after every earlier part's.
    fn part(
        &mut self,
        expires_at: i64,
        lay_out: impl FnOnce(&mut Packer<'_>) -> Vec<Item>,
    ) -> Vec<Item> {
        let first = self.next;
        let mut most = 1;
        let mut packed = |pk: &str, prefix: &str, rows: &[String]| {
            let items = packed_items(pk, prefix, rows, expires_at, first);
            most = most.max(items.len() as u64);
            items
        };
        let items = lay_out(&mut packed);
        self.next = first + most;
        items
    }
}

/// Packs the rows of one (pk, sort-key prefix) into items.
type Packer<'a> = dyn FnMut(&str, &str, &[String]) -> Vec<Item> + 'a;

/// The items of one part, each (pk, prefix) packed by `packed`.
fn cloudtrail_part_items(
    aggregates: &cloudtrail::Aggregates,
    object: &ObjectId,
    packed: &mut Packer<'_>,
) -> Vec<Item> {
    let mut activity: BTreeMap<(String, DateTime<Utc>), Vec<String>> = BTreeMap::new();
    for a in &aggregates.activity {
        let c = &a.call;
        activity
            .entry((subject_pk(&a.subject), a.bucket_start))
            .or_default()
            .push(format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                cell(c.event_source.as_deref().unwrap_or("")),
                cell(&c.event_name),
                cell(c.outcome.as_str()),
                cell(c.source_ip.as_deref().unwrap_or("")),
                cell(c.region.as_deref().unwrap_or("")),
                a.stats.count,
                time(a.stats.first),
                time(a.stats.last),
                cell(c.user_agent.as_deref().unwrap_or(""))
            ));
    }
    let mut items: Vec<Item> = activity
        .into_iter()
        .flat_map(|((pk, bucket), rows)| {
            packed(
                &pk,
                &format!("ACT#{}#{}", time(bucket), object.as_str()),
                &rows,
            )
        })
        .collect();

    let mut baseline: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in aggregates.baseline.iter() {
        baseline
            .entry(subject_pk(entry.principal))
            .or_default()
            .push(format!(
                "{}\t{}\t{}\t{}\t{}",
                entry.kind.as_str(),
                cell(entry.value),
                entry.stats.count,
                time(entry.stats.first),
                time(entry.stats.last)
            ));
    }
    for (pk, rows) in baseline {
        items.extend(packed(&pk, &format!("BASE#{}", object.as_str()), &rows));
    }

    // Notable events in full, packed like activity rows (one JSON object per row) per owner and
    // hour: attack traffic makes a quarter of all records notable, and one item each would cost
    // a write unit per record.
    let mut notable: BTreeMap<(String, DateTime<Utc>), Vec<String>> = BTreeMap::new();
    for event in &aggregates.notable {
        let owner = match event.issuer_arn.as_ref().or(event.principal_arn.as_ref()) {
            Some(arn) => format!("CT#arn#{arn}"),
            // An Identity Center user has no IAM identity until they open a role, and the role
            // session's finding names the address: the sign-in is filed under it.
            None if event.is_identity_center_sign_in() => match &event.source_ip {
                Some(ip) => format!("CT#ip#{ip}"),
                None => continue,
            },
            None => continue,
        };
        let hour = cloudtrail::bucket_start(event.time, &cloudtrail::Settings::default());
        notable
            .entry((owner, hour))
            .or_default()
            .push(serde_json::to_string(event).unwrap_or_default());
    }
    for ((pk, hour), rows) in notable {
        items.extend(packed(
            &pk,
            &format!("EVT#{}#{}", time(hour), object.as_str()),
            &rows,
        ));
    }
    items
}

/// Inflate a `rows` attribute into its lines (a corrupt blob reads as no rows, never a panic).
///
/// Straight into one buffer sized from the blob: a finding's query returns dozens of small items,
/// and a reader per item (its own 32 KiB buffer, a string grown by doubling) cost more than the
/// inflating itself.
fn inflate(blob: &[u8]) -> String {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut inflater = Decompress::new(false);
    let mut out: Vec<u8> = Vec::with_capacity(blob.len().saturating_mul(8).max(256));
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity());
        }
        let read = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let Some(rest) = blob.get(read..) else {
            return String::new();
        };
        let written = out.len();
        match inflater.decompress_vec(rest, &mut out, FlushDecompress::Finish) {
            Ok(Status::StreamEnd) => break,
            // No progress with room to spare: the blob ends before the stream does.
            Ok(_) if out.len() == written && out.len() < out.capacity() => return String::new(),
            Ok(_) => {}
            Err(_) => return String::new(),
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The first `N` tab-separated fields of a row, when it has exactly `N`.
fn fields<const N: usize>(line: &str) -> Option<[&str; N]> {
    let mut parts = line.split('\t');
    let mut out = [""; N];
    for slot in &mut out {
        *slot = parts.next()?;
    }
    parts.next().is_none().then_some(out)
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The flow rows of one item, as written by [`flow_items`]: the binary stored form, or the
/// deflated tab-separated text that items written before it hold. Text rows kept the local
/// port, not the service port: they read as served locally, which is what they said. A blob
/// that reads as neither gives no rows.
pub fn decode_flow_rows(blob: &[u8]) -> Vec<FlowRow> {
    if flowlogs::rows::is_binary(blob) {
        return flowlogs::rows::decode(blob)
            .unwrap_or_default()
            .into_iter()
            .map(|row| FlowRow {
                remote: row.remote.to_string(),
                local: row.local.to_string(),
                service_port: row.service_port,
                service: row.service,
                protocol: row.protocol,
                direction: row.direction,
                action: row.action,
                packets: row.packets,
                bytes: row.bytes,
                flows: row.flows,
                first: row.first_start,
                last: row.last_end,
            })
            .collect();
    }
    inflate(blob)
        .lines()
        .filter_map(|line| {
            let [
                remote,
                local,
                port,
                proto,
                direction,
                action,
                packets,
                bytes,
                flows,
                first,
                last,
                _flags,
            ] = fields(line)?;
            Some(FlowRow {
                remote: remote.to_string(),
                local: local.to_string(),
                service_port: port.parse().ok()?,
                service: triage_domain::traffic::ServiceSide::Local,
                protocol: proto.parse().ok()?,
                direction: triage_domain::traffic::Direction::parse(direction)?,
                action: triage_domain::traffic::Action::parse(action)?,
                packets: packets.parse().ok()?,
                bytes: bytes.parse().ok()?,
                flows: flows.parse().ok()?,
                first: first.parse().ok()?,
                last: last.parse().ok()?,
            })
        })
        .collect()
}

/// The activity rows of one item, as written by [`cloudtrail_items`] (`subject` left empty: the
/// caller knows the partition key).
pub fn decode_activity_rows(blob: &[u8]) -> Vec<ActivityRow> {
    inflate(blob)
        .lines()
        .filter_map(|line| {
            let [source, name, outcome, ip, region, count, first, last, ua] = fields(line)?;
            Some(ActivityRow {
                subject: String::new(),
                event_source: source.to_string(),
                event_name: name.to_string(),
                outcome: outcome.to_string(),
                source_ip: ip.to_string(),
                region: region.to_string(),
                count: count.parse().ok()?,
                first: parse_time(first)?,
                last: parse_time(last)?,
                user_agent: ua.to_string(),
                live: false,
            })
        })
        .collect()
}

/// The baseline rows of one item, as written by [`cloudtrail_items`].
pub fn decode_baseline_rows(blob: &[u8]) -> Vec<BaselineRow> {
    inflate(blob)
        .lines()
        .filter_map(|line| {
            let [kind, value, count, first, last] = fields(line)?;
            Some(BaselineRow {
                // A kind this version does not know (written by a newer one) is skipped.
                kind: triage_domain::activity::ObservationKind::parse(kind)?,
                value: value.to_string(),
                count: count.parse().ok()?,
                first: parse_time(first)?,
                last: parse_time(last)?,
            })
        })
        .collect()
}

/// The notable events of one item, as written by [`cloudtrail_items`] (a line that does not
/// read back is dropped, never a panic).
pub fn decode_notable_rows(blob: &[u8]) -> Vec<triage_domain::activity::NotableEvent> {
    inflate(blob)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Sort-key bounds of the items of a window: `(prefix + start bucket, prefix + end + "~")`.
pub fn sort_key_range(prefix: &str, window: &ScopeWindow, bucket_secs: i64) -> (String, String) {
    let start = window.start.timestamp().div_euclid(bucket_secs) * bucket_secs;
    let start = Utc.timestamp_opt(start, 0).single().unwrap_or(window.start);
    (
        format!("{prefix}{}", time(start)),
        format!("{prefix}{}~", time(window.end)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_inflate_whatever_their_ratio_and_a_damaged_blob_reads_as_none() {
        // Highly compressible (the output outgrows the first guess many times) and plain.
        let repetitive = "ec2.amazonaws.com\tDescribeInstances\n".repeat(5_000);
        assert_eq!(inflate(&deflate(&repetitive)), repetitive);
        assert_eq!(inflate(&deflate("a")), "a");
        assert_eq!(inflate(&deflate("")), "");
        let blob = deflate(&repetitive);
        assert_eq!(inflate(&blob[..blob.len() / 2]), "", "truncated");
        assert_eq!(inflate(b"not deflate at all"), "", "corrupt");
    }

    #[test]
    fn object_ids_are_stable_and_short() {
        assert_eq!(
            ObjectId::of("bucket/key#etag"),
            ObjectId::of("bucket/key#etag")
        );
        assert_ne!(ObjectId::of("a"), ObjectId::of("b"));
        assert_eq!(ObjectId::of("a").as_str().len(), 12);
        let live = ObjectId::live("eventbridge:1");
        assert!(is_live(&format!(
            "ACT#2026-01-01T00:00:00Z#{}#0",
            live.as_str()
        )));
        assert!(!is_live(&format!(
            "ACT#2026-01-01T00:00:00Z#{}#0",
            ObjectId::of("x").as_str()
        )));
    }

    #[test]
    fn rows_are_chunked_and_compressed() {
        let rows: Vec<String> = (0..40_000)
            .map(|i| format!("198.51.100.{}\t443\t{i}", i % 250))
            .collect();
        let items = packed_items("FLOW#eni-1", "2026-01-01T00:00:00Z#abc", &rows, 1, 0);
        assert!(
            items.len() >= 2,
            "over {CHUNK_BYTES} bytes of rows is split"
        );
        let total: usize = items
            .iter()
            .map(|i| i["rows_n"].as_n().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(total, rows.len());
        for item in &items {
            assert!(super::super::item_size::item_size(item) < 400 * 1024);
        }
        let plan = WritePlan::of(&items);
        assert!(plan.usd() > 0.0);
    }

    #[test]
    fn rows_decode_back_to_what_was_encoded() {
        let text = "198.51.100.7\t10.0.0.5\t22\t6\tingress\tACCEPT\t10\t4249\t2\t100\t160\t2\n";
        let rows = decode_flow_rows(&deflate(text));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].remote, "198.51.100.7");
        assert!(rows[0].accepted());
        assert_eq!(rows[0].bytes, 4249);
        assert!(decode_flow_rows(b"not deflate").is_empty());
        let activity = "s3.amazonaws.com\tGetObject\tAccessDenied\t1.2.3.4\tus-east-1\t3\t2026-01-01T00:00:00Z\t2026-01-01T00:05:00Z\taws-cli\n";
        let rows = decode_activity_rows(&deflate(activity));
        assert_eq!(rows.len(), 1);
        assert!(rows[0].failed());
    }

    #[test]
    fn flow_items_decode_back_and_late_chunks_get_their_own_keys() {
        use triage_logs::flowlogs::{IngestOptions, ingest};
        let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol \
            packets bytes start end action log-status";
        // The documentation's SSH record from three client ports, then a record half an hour
        // later (the first bucket is flushed), then a late one of the first bucket.
        let ssh = |port: u16, start: i64| {
            format!(
                "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 {port} 22 6 20 \
                 4249 {start} {} ACCEPT OK",
                start + 60
            )
        };
        let lines = [
            ssh(20641, 1418530010),
            ssh(20642, 1418530020),
            ssh(20643, 1418530030),
            ssh(20644, 1418531800),
            ssh(20645, 1418530040),
        ];
        let text = format!("{header}\n{}\n", lines.join("\n"));
        let (aggregates, summary) = ingest(text.as_bytes(), &IngestOptions::default()).unwrap();
        assert_eq!(summary.late_records, 1);
        let items = flow_items(&aggregates, &ObjectId::of("x"), 7);
        let mut keys: Vec<(String, String)> = items
            .iter()
            .map(|i| {
                let key = |k: &str| i[k].as_s().unwrap().clone();
                (key("pk"), key("sk"))
            })
            .collect();
        keys.sort();
        let id = ObjectId::of("x");
        let id = id.as_str();
        assert_eq!(
            keys,
            [
                (
                    "FLOW#eni-1235b8ca123456789".into(),
                    format!("2014-12-14T04:00:00Z#{id}#0")
                ),
                (
                    "FLOW#eni-1235b8ca123456789".into(),
                    format!("2014-12-14T04:00:00Z#{id}#1")
                ),
                (
                    "FLOW#eni-1235b8ca123456789".into(),
                    format!("2014-12-14T04:30:00Z#{id}#0")
                ),
            ]
        );
        let mut rows = Vec::new();
        for item in &items {
            let decoded = decode_flow_rows(item["rows"].as_b().unwrap().as_ref());
            assert_eq!(decoded.len().to_string(), *item["rows_n"].as_n().unwrap());
            rows.extend(decoded);
        }
        // Internal to internal, nothing learned: the SSH server side is local, keyed on 22.
        assert!(rows.iter().all(|r| r.local == "172.31.16.21"
            && r.remote == "172.31.16.139"
            && (r.service_port, r.service) == (22, triage_domain::traffic::ServiceSide::Local)
            && r.direction == triage_domain::traffic::Direction::Unknown
            && r.accepted()
            && r.bytes == 4249 * r.flows));
        assert_eq!(rows.iter().map(|r| r.flows).sum::<u64>(), 5);
        assert_eq!(rows.iter().map(|r| r.first).min(), Some(1418530010));
        for item in &items {
            assert!(super::super::item_size::item_size(item) < 1024);
        }
    }

    #[test]
    fn old_text_flow_items_still_read_and_damaged_binary_reads_as_none() {
        // As written before the binary form: deflated tab-separated text with the local port.
        let text = "203.0.113.12\t172.31.16.139\t0\t1\tingress\tACCEPT\t4\t336\t1\t\
            1432917027\t1432917142\t0\n\
            10.0.0.5\t10.0.0.62\t43416\t6\tegress\tREJECT\t8\t568\t1\t1566848875\t1566848933\t2\n";
        let rows = decode_flow_rows(&deflate(text));
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[1].service_port, rows[1].direction, rows[1].accepted()),
            (43416, triage_domain::traffic::Direction::Egress, false)
        );
        assert!(decode_flow_rows(b"F").is_empty());
        assert!(decode_flow_rows(b"F\x01\x01garbage").is_empty());
        assert!(decode_flow_rows(b"F\x07").is_empty());
    }
}
