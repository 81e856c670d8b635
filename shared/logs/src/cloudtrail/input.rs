//! Reading one object (an S3 object, a file, an event) into records.
//!
//! CloudTrail reaches us in five shapes, told apart by content, not by name:
//! - S3 delivery: `{"Records":[...]}`, gzip-compressed as CloudTrail writes it, or plain;
//! - a JSON array of records (exports, the Stratus Red Team detonation logs);
//! - NDJSON: one record per line (Athena / Elastic / Panther exports, the OTRF dataset);
//! - an EventBridge event (`AWS API Call via CloudTrail`, `AWS Console Sign In via CloudTrail`,
//!   ...) whose `detail` is the record;
//! - a single bare record.
//!
//! Records are handed over one at a time, straight from the parser, so an object never exists
//! twice in memory as parsed records. One bad record is a counted skip ([`SkipReason`]); a bad
//! *object* (corrupt or truncated gzip, invalid JSON, not CloudTrail at all) is an
//! [`InputError`] for that object, so a batch can report it as a partial failure and send it to
//! the dead-letter queue without dropping the good objects. Nothing here panics on input.

use flate2::read::MultiGzDecoder;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use triage_domain::activity::Lenient;
use triage_domain::activity::{CloudTrailRecord, Record, SkipReason};
use triage_domain::text::json_kind;

/// The shape an object turned out to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    S3Delivery,
    JsonArray,
    Ndjson,
    EventBridge,
    SingleRecord,
}

impl Shape {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S3Delivery => "S3 delivery {\"Records\":[...]}",
            Self::JsonArray => "JSON array of records",
            Self::Ndjson => "NDJSON records",
            Self::EventBridge => "EventBridge CloudTrail event",
            Self::SingleRecord => "single record",
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an object could not be read. Every variant is permanent: the same bytes will fail the
/// same way, so the object belongs in the dead-letter queue, not in a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("object is empty")]
    Empty,
    #[error("gzip data is corrupt or truncated: {0}")]
    Gzip(String),
    #[error("object decompresses to more than {limit} bytes (the configured limit)")]
    TooLarge { limit: u64 },
    /// `context` says which shape was being read (or `JSON` before the shape was known);
    /// `message` is the parser's, with line and column.
    #[error("invalid JSON in {context}: {message}")]
    Json {
        context: &'static str,
        message: String,
    },
    #[error(
        "{0} is not CloudTrail: expected {{\"Records\":[...]}}, an array or lines of records, or an EventBridge CloudTrail event"
    )]
    NotCloudTrail(String),
    #[error("EventBridge event with detail-type {0:?} is not a CloudTrail event")]
    NotCloudTrailEvent(String),
    #[error("EventBridge CloudTrail event has no record in \"detail\" (found {0})")]
    DetailNotRecord(&'static str),
}

/// Limits applied while reading an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Largest decompressed size accepted: a gzip bomb must not take the function down.
    /// CloudTrail's own files stay in the tens of MB.
    pub max_decompressed_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: 1 << 30,
        }
    }
}

/// Records skipped, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skips(BTreeMap<SkipReason, u64>);

impl Skips {
    pub fn add(&mut self, reason: SkipReason) {
        *self.0.entry(reason).or_default() += 1;
    }

    pub fn get(&self, reason: SkipReason) -> u64 {
        self.0.get(&reason).copied().unwrap_or_default()
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (SkipReason, u64)> + '_ {
        self.0.iter().map(|(r, n)| (*r, *n))
    }

    pub fn merge(&mut self, other: &Skips) {
        for (reason, n) in other.iter() {
            *self.0.entry(reason).or_default() += n;
        }
    }
}

impl fmt::Display for Skips {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// An object read in full: its records and what was skipped.
#[derive(Debug, Clone)]
pub struct ParsedObject {
    pub shape: Shape,
    pub records: Vec<Record>,
    pub skipped: Skips,
}

impl ParsedObject {
    /// Records seen, used or skipped.
    pub fn read(&self) -> u64 {
        self.records.len() as u64 + self.skipped.total()
    }
}

/// Read an object into records, with the default [`ReadOptions`].
pub fn parse_object(bytes: &[u8]) -> Result<ParsedObject, InputError> {
    parse_object_with(bytes, &ReadOptions::default())
}

pub fn parse_object_with(bytes: &[u8], options: &ReadOptions) -> Result<ParsedObject, InputError> {
    let mut records = Vec::new();
    let mut skipped = Skips::default();
    let shape = for_each_record(bytes, options, |record| match record {
        Ok(record) => records.push(record),
        Err(reason) => skipped.add(reason),
    })?;
    Ok(ParsedObject {
        shape,
        records,
        skipped,
    })
}

/// Stream the records of an object to `sink` as they are parsed: `Ok` for a usable record,
/// `Err` with the reason for a skipped one. On an `InputError` the sink may already have seen
/// part of the object; callers that must be all-or-nothing per object (the ingest functions)
/// aggregate into a fresh aggregator per object.
pub fn for_each_record<F>(
    bytes: &[u8],
    options: &ReadOptions,
    mut sink: F,
) -> Result<Shape, InputError>
where
    F: FnMut(Result<Record, SkipReason>),
{
    let mut on_raw = |raw: Option<CloudTrailRecord>| {
        sink(raw.ok_or(SkipReason::NotAnObject).and_then(Record::new));
    };
    if is_gzip(bytes) {
        let text = gunzip(bytes, options.max_decompressed_bytes)?;
        read_text(&text, &mut on_raw)
    } else {
        read_text(bytes, &mut on_raw)
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Decompress every gzip member (CloudTrail writes one; concatenated files have several).
fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, InputError> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(8).min(64 << 20));
    MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| InputError::Gzip(e.to_string()))?;
    if out.len() as u64 > limit {
        return Err(InputError::TooLarge { limit });
    }
    Ok(out)
}

type RawSink<'a> = dyn FnMut(Option<CloudTrailRecord>) + 'a;

fn read_text(bytes: &[u8], sink: &mut RawSink<'_>) -> Result<Shape, InputError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or(InputError::Empty)?;
    let text = &text[start..];
    match text.first() {
        Some(b'[') => {
            read_with_seed(text, Shape::JsonArray, RecordsSeed { sink })?;
            Ok(Shape::JsonArray)
        }
        Some(b'{') if first_key_is_records(text) => {
            read_with_seed(text, Shape::S3Delivery, DeliverySeed { sink })?;
            Ok(Shape::S3Delivery)
        }
        Some(b'{') => read_objects(text, sink),
        _ => match serde_json::from_slice::<Value>(text) {
            Ok(value) => Err(InputError::NotCloudTrail(format!(
                "JSON {}",
                json_kind(&value)
            ))),
            Err(e) => Err(json_error("JSON", &e)),
        },
    }
}

fn json_error(context: &'static str, e: &serde_json::Error) -> InputError {
    InputError::Json {
        context,
        message: e.to_string(),
    }
}

fn read_with_seed<'de, S>(text: &'de [u8], shape: Shape, seed: S) -> Result<(), InputError>
where
    S: DeserializeSeed<'de, Value = ()>,
{
    let mut de = serde_json::Deserializer::from_slice(text);
    seed.deserialize(&mut de)
        .map_err(|e| json_error(shape.as_str(), &e))?;
    de.end().map_err(|e| json_error(shape.as_str(), &e))
}

/// The fast path for S3 delivery: CloudTrail writes `Records` as the first (and only) key.
fn first_key_is_records(text: &[u8]) -> bool {
    let rest = &text[1..];
    let start = rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    rest[start..].starts_with(b"\"Records\"")
}

/// An object that is not a fast-path S3 delivery: one value (S3 delivery with other keys
/// first, EventBridge event, single record) or several (NDJSON).
fn read_objects(text: &[u8], sink: &mut RawSink<'_>) -> Result<Shape, InputError> {
    let mut first = serde_json::Deserializer::from_slice(text).into_iter::<IgnoredAny>();
    match first.next() {
        Some(Ok(_)) => {}
        Some(Err(e)) => return Err(json_error("JSON", &e)),
        None => return Err(InputError::Empty),
    }
    let rest = &text[first.byte_offset()..];
    if rest.iter().all(u8::is_ascii_whitespace) {
        let value: Value = serde_json::from_slice(text).map_err(|e| json_error("JSON", &e))?;
        return read_single(value, sink);
    }
    let stream =
        serde_json::Deserializer::from_slice(text).into_iter::<Lenient<CloudTrailRecord>>();
    for item in stream {
        let Lenient(raw) = item.map_err(|e| json_error(Shape::Ndjson.as_str(), &e))?;
        sink(raw);
    }
    Ok(Shape::Ndjson)
}

/// Keys whose presence makes a bare object a CloudTrail record.
const RECORD_KEYS: [&str; 7] = [
    "eventVersion",
    "eventTime",
    "eventName",
    "eventSource",
    "eventID",
    "userIdentity",
    "@timestamp",
];

fn read_single(value: Value, sink: &mut RawSink<'_>) -> Result<Shape, InputError> {
    let Value::Object(mut object) = value else {
        return Err(InputError::NotCloudTrail(format!(
            "JSON {}",
            json_kind(&value)
        )));
    };
    if let Some(records) = object.remove("Records") {
        let Value::Array(records) = records else {
            return Err(InputError::NotCloudTrail(format!(
                "an object whose Records is {}",
                json_kind(&records)
            )));
        };
        for record in records {
            sink(lenient_record(record));
        }
        return Ok(Shape::S3Delivery);
    }
    if object.contains_key("detail-type") {
        let detail_type = object
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !detail_type.ends_with("via CloudTrail") {
            return Err(InputError::NotCloudTrailEvent(detail_type.to_owned()));
        }
        return match object.remove("detail") {
            Some(detail @ Value::Object(_)) => {
                sink(lenient_record(detail));
                Ok(Shape::EventBridge)
            }
            Some(other) => Err(InputError::DetailNotRecord(json_kind(&other))),
            None => Err(InputError::DetailNotRecord("nothing")),
        };
    }
    if RECORD_KEYS.iter().any(|k| object.contains_key(*k)) {
        sink(lenient_record(Value::Object(object)));
        return Ok(Shape::SingleRecord);
    }
    let mut keys: Vec<&str> = object.keys().map(String::as_str).take(5).collect();
    if object.len() > keys.len() {
        keys.push("...");
    }
    Err(InputError::NotCloudTrail(format!(
        "an object with keys [{}]",
        keys.join(", ")
    )))
}

fn lenient_record(value: Value) -> Option<CloudTrailRecord> {
    // `Value` as a deserializer: a non-object is `None`, exactly as in the streaming paths.
    serde::Deserialize::deserialize(value)
        .ok()
        .and_then(|Lenient(r)| r)
}

/// A `Records` array (or a top-level array): each element to the sink as it is parsed.
struct RecordsSeed<'s, 'a> {
    sink: &'s mut RawSink<'a>,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(Lenient(raw)) = seq.next_element::<Lenient<CloudTrailRecord>>()? {
            (self.sink)(raw);
        }
        Ok(())
    }
}

/// `{"Records":[...]}`, other top-level keys ignored.
struct DeliverySeed<'s, 'a> {
    sink: &'s mut RawSink<'a>,
}

impl<'de> DeserializeSeed<'de> for DeliverySeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DeliverySeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object {\"Records\":[...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                map.next_value_seed(RecordsSeed {
                    sink: &mut *self.sink,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    const RECORD: &str = r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"GetCallerIdentity","eventSource":"sts.amazonaws.com"}"#;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn every_shape_is_recognised() {
        let delivery = format!(r#"{{"Records":[{RECORD},{RECORD}]}}"#);
        let cases = [
            (delivery.clone(), Shape::S3Delivery, 2),
            (
                format!(r#"{{"x":1,"Records":[{RECORD}]}}"#),
                Shape::S3Delivery,
                1,
            ),
            (
                format!("[{RECORD}, {RECORD}, {RECORD}]"),
                Shape::JsonArray,
                3,
            ),
            (format!("{RECORD}\n{RECORD}\n"), Shape::Ndjson, 2),
            (
                format!(
                    r#"{{"detail-type":"AWS API Call via CloudTrail","source":"aws.sts","detail":{RECORD}}}"#
                ),
                Shape::EventBridge,
                1,
            ),
            (RECORD.to_owned(), Shape::SingleRecord, 1),
        ];
        for (text, shape, n) in cases {
            let parsed = parse_object(text.as_bytes()).unwrap();
            assert_eq!((parsed.shape, parsed.records.len()), (shape, n), "{text}");
        }
        let zipped = parse_object(&gzip(delivery.as_bytes())).unwrap();
        assert_eq!((zipped.shape, zipped.records.len()), (Shape::S3Delivery, 2));
        // Two gzip members, as when files are concatenated.
        let mut two = gzip(b"[");
        two.extend(gzip(format!("{RECORD}]").as_bytes()));
        assert_eq!(parse_object(&two).unwrap().records.len(), 1);
    }

    #[test]
    fn bad_elements_are_counted_skips_not_failures() {
        let text = format!(r#"{{"Records":[{RECORD}, 42, "x", {{"eventName":"X"}}, null]}}"#);
        let parsed = parse_object(text.as_bytes()).unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.skipped.get(SkipReason::NotAnObject), 3);
        assert_eq!(parsed.skipped.get(SkipReason::MissingEventTime), 1);
        assert_eq!(parsed.read(), 5);
    }

    #[test]
    fn bad_objects_are_errors_that_say_why() {
        let delivery = format!(r#"{{"Records":[{RECORD},{RECORD}]}}"#);
        let zipped = gzip(delivery.as_bytes());

        let truncated = parse_object(&zipped[..zipped.len() / 2]).unwrap_err();
        assert!(matches!(truncated, InputError::Gzip(_)), "{truncated}");
        let mut corrupt = zipped.clone();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0xff;
        assert!(matches!(
            parse_object(&corrupt).unwrap_err(),
            InputError::Gzip(_)
        ));
        let tiny = ReadOptions {
            max_decompressed_bytes: 10,
        };
        assert_eq!(
            parse_object_with(&zipped, &tiny).unwrap_err(),
            InputError::TooLarge { limit: 10 }
        );

        let cut = parse_object(&delivery.as_bytes()[..delivery.len() - 5]).unwrap_err();
        assert!(
            matches!(cut, InputError::Json { context, .. } if context == Shape::S3Delivery.as_str())
        );
        assert!(cut.to_string().contains("EOF"), "{cut}");
        assert_eq!(parse_object(b"  \n").unwrap_err(), InputError::Empty);
        assert!(matches!(
            parse_object(b"42").unwrap_err(),
            InputError::NotCloudTrail(_)
        ));
        assert!(matches!(
            parse_object(b"{\"a\":").unwrap_err(),
            InputError::Json { .. }
        ));
        let digest = br#"{"awsAccountId":"1","digestStartTime":"x"}"#;
        let not_ct = parse_object(digest).unwrap_err();
        assert!(not_ct.to_string().contains("awsAccountId"), "{not_ct}");
        let scheduled = br#"{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#;
        assert_eq!(
            parse_object(scheduled).unwrap_err(),
            InputError::NotCloudTrailEvent("Scheduled Event".into())
        );
        let ndjson_bad = format!("{RECORD}\n{{\"eventName\": }}\n");
        let err = parse_object(ndjson_bad.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
