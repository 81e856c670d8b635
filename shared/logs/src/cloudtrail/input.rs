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

use crate::decompress::{Decompressed, is_over_cap};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufReader, Read};
use triage_domain::activity::{CloudTrailRecord, Lenient, Record, SkipReason};
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

/// Why an object could not be read. Every variant but [`InputError::Read`] is permanent: the
/// same bytes will fail the same way, so the object belongs in the dead-letter queue, not in a
/// retry.
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
    /// The reader under the parser failed (an S3 body cut off): unlike the others, the same
    /// object may read fine later.
    #[error("cannot read the object: {0}")]
    Read(String),
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

/// Stream the records of an object held in memory to `sink` as they are parsed: `Ok` for a
/// usable record, `Err` with the reason for a skipped one. On an `InputError` the sink may
/// already have seen part of the object; callers that must be all-or-nothing per object (the
/// ingest functions) aggregate into a fresh aggregator per object.
pub fn for_each_record<F>(bytes: &[u8], options: &ReadOptions, sink: F) -> Result<Shape, InputError>
where
    F: FnMut(Result<Record, SkipReason>),
{
    read_records(bytes, options, sink).map(|read| read.shape)
}

/// What streaming an object found besides its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamRead {
    pub shape: Shape,
    /// Bytes after decompression (the object's own size when it is not gzip).
    pub decompressed_bytes: u64,
}

/// [`for_each_record`] from a reader: the object is decompressed and parsed as it arrives, so
/// memory holds a read buffer and one record, never the object. A reader error is
/// [`InputError::Read`] (or [`InputError::Gzip`] when it surfaces through the decompressor).
pub fn read_records<R, F>(
    input: R,
    options: &ReadOptions,
    mut sink: F,
) -> Result<StreamRead, InputError>
where
    R: Read,
    F: FnMut(Result<Record, SkipReason>),
{
    let mut on_raw = |raw: Option<CloudTrailRecord>| {
        sink(raw.ok_or(SkipReason::NotAnObject).and_then(Record::new));
    };
    let limit = options.max_decompressed_bytes;
    let mut text = Decompressed::new(BufReader::with_capacity(BUFFER, input), limit)
        .map_err(|e| InputError::Read(e.to_string()))?;
    let failed: fn(String) -> InputError = if text.is_gzip() {
        InputError::Gzip
    } else {
        InputError::Read
    };
    let shape = read_stream(&mut text, &mut on_raw).map_err(|e| e.classify(limit, failed))?;
    let decompressed_bytes = text.bytes_read();
    Ok(StreamRead {
        shape,
        decompressed_bytes,
    })
}

/// Read buffer between the source and the decompressor or the parser.
const BUFFER: usize = 64 * 1024;
/// How much of the text is looked at to tell the shape: enough for a byte-order mark, leading
/// whitespace and `{ "Records"`. More whitespace than this reads as "not the fast path", which
/// the general object path still reads correctly.
const PEEK: usize = 4096;

/// A failure while streaming: the parser's, or the reader's underneath it.
enum StreamError {
    Input(InputError),
    Io(io::Error),
}

impl From<InputError> for StreamError {
    fn from(e: InputError) -> Self {
        Self::Input(e)
    }
}

impl StreamError {
    /// A JSON error that is really a reader error (serde_json wraps those) becomes that error.
    fn json(context: &'static str, e: serde_json::Error) -> Self {
        if e.is_io() {
            Self::Io(e.into())
        } else {
            Self::Input(json_error(context, &e))
        }
    }

    /// The [`InputError`]: the cap when it was hit, else `reader` of the reader's message.
    fn classify(self, limit: u64, reader: fn(String) -> InputError) -> InputError {
        match self {
            Self::Input(e) => e,
            Self::Io(e) if is_over_cap(&e) => InputError::TooLarge { limit },
            Self::Io(e) => reader(e.to_string()),
        }
    }
}

type RawSink<'a> = dyn FnMut(Option<CloudTrailRecord>) + 'a;

/// Tell the shape from the first bytes of the text, then stream it.
fn read_stream(input: &mut dyn Read, sink: &mut RawSink<'_>) -> Result<Shape, StreamError> {
    let mut head = Vec::with_capacity(PEEK);
    (&mut *input)
        .take(PEEK as u64)
        .read_to_end(&mut head)
        .map_err(StreamError::Io)?;
    let mut skip = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    skip += head[skip..]
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    if skip == head.len() {
        // All whitespace so far: look further (rare) without holding it.
        let mut rest = io::Cursor::new(&head[skip..]).chain(&mut *input);
        let mut byte = [0u8; 1];
        loop {
            match rest.read(&mut byte).map_err(StreamError::Io)? {
                0 => return Err(InputError::Empty.into()),
                _ if byte[0].is_ascii_whitespace() => continue,
                _ => {
                    let text = io::Cursor::new(byte).chain(rest);
                    return read_text(byte[0], false, text, sink);
                }
            }
        }
    }
    let first = head[skip];
    let records_first = first == b'{' && first_key_is_records(&head[skip..]);
    let text = io::Cursor::new(&head[skip..]).chain(input);
    read_text(first, records_first, text, sink)
}

fn read_text(
    first: u8,
    records_first: bool,
    text: impl Read,
    sink: &mut RawSink<'_>,
) -> Result<Shape, StreamError> {
    // serde_json reads a reader a byte at a time: the buffer keeps that off the decompressor.
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(BUFFER, text));
    match first {
        b'[' => {
            let context = Shape::JsonArray.as_str();
            RecordsSeed { sink }
                .deserialize(&mut de)
                .map_err(|e| StreamError::json(context, e))?;
            de.end().map_err(|e| StreamError::json(context, e))?;
            Ok(Shape::JsonArray)
        }
        b'{' => read_objects(de, records_first, sink),
        _ => {
            let kind = KindSeed
                .deserialize(&mut de)
                .map_err(|e| StreamError::json("JSON", e))?;
            de.end().map_err(|e| StreamError::json("JSON", e))?;
            Err(InputError::NotCloudTrail(format!("JSON {kind}")).into())
        }
    }
}

fn json_error(context: &'static str, e: &serde_json::Error) -> InputError {
    InputError::Json {
        context,
        message: e.to_string(),
    }
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

/// Text starting with `{`: one value (S3 delivery, EventBridge event, single record) or several
/// (NDJSON). The first value's `Records`, wherever the key is, go to the sink as they are
/// parsed; its other keys are kept (a record, an event: small) to tell what it is.
fn read_objects<R: Read>(
    mut de: serde_json::Deserializer<serde_json::de::IoRead<R>>,
    records_first: bool,
    sink: &mut RawSink<'_>,
) -> Result<Shape, StreamError> {
    let mut seen_records = false;
    let context = if records_first {
        Shape::S3Delivery.as_str()
    } else {
        "JSON"
    };
    let first = FirstObjectSeed {
        sink: &mut *sink,
        seen_records: &mut seen_records,
    }
    .deserialize(&mut de)
    .map_err(|e| StreamError::json(context, e));
    let rest = match first {
        Ok(rest) => rest,
        // An error inside `Records` is an error in the S3 delivery, wherever the key was.
        Err(StreamError::Input(InputError::Json { message, .. })) if seen_records => {
            return Err(InputError::Json {
                context: Shape::S3Delivery.as_str(),
                message,
            }
            .into());
        }
        Err(e) => return Err(e),
    };
    match rest {
        FirstObject::Records => {
            de.end()
                .map_err(|e| StreamError::json(Shape::S3Delivery.as_str(), e))?;
            Ok(Shape::S3Delivery)
        }
        FirstObject::RecordsNot(kind) => {
            Err(InputError::NotCloudTrail(format!("an object whose Records is {kind}")).into())
        }
        FirstObject::Other(object) => {
            let mut more = de.into_iter::<Lenient<CloudTrailRecord>>().peekable();
            if more.peek().is_none() {
                return Ok(read_single(object, sink)?);
            }
            sink(lenient_record(Value::Object(object)));
            for item in more {
                let Lenient(raw) =
                    item.map_err(|e| StreamError::json(Shape::Ndjson.as_str(), e))?;
                sink(raw);
            }
            Ok(Shape::Ndjson)
        }
    }
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

fn read_single(
    mut object: Map<String, Value>,
    sink: &mut RawSink<'_>,
) -> Result<Shape, InputError> {
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

/// What the first object of a `{` text turned out to hold.
enum FirstObject {
    /// A `Records` array, streamed to the sink.
    Records,
    /// A `Records` key whose value is not an array (its JSON kind).
    RecordsNot(&'static str),
    /// No `Records`: the object's keys, to tell an event, a record or something else.
    Other(Map<String, Value>),
}

/// The first object of a `{` text: `Records` streamed, other keys kept while there is no
/// `Records` (once there is, they are skipped, never held).
struct FirstObjectSeed<'s, 'a> {
    sink: &'s mut RawSink<'a>,
    seen_records: &'s mut bool,
}

impl<'de> DeserializeSeed<'de> for FirstObjectSeed<'_, '_> {
    type Value = FirstObject;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FirstObject, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FirstObjectSeed<'_, '_> {
    type Value = FirstObject;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstObject, A::Error> {
        let mut other = Map::new();
        let mut records: Option<Result<(), &'static str>> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                *self.seen_records = true;
                let found = map.next_value_seed(RecordsOrKind {
                    sink: &mut *self.sink,
                })?;
                // A second `Records` key adds its records; a non-array one is remembered.
                records = Some(match records {
                    Some(Err(kind)) => Err(kind),
                    _ => found,
                });
                other.clear();
            } else if records.is_some() {
                map.next_value::<IgnoredAny>()?;
            } else {
                other.insert(key, map.next_value::<Value>()?);
            }
        }
        Ok(match records {
            Some(Ok(())) => FirstObject::Records,
            Some(Err(kind)) => FirstObject::RecordsNot(kind),
            None => FirstObject::Other(other),
        })
    }
}

/// A `Records` value: an array streamed to the sink, or the kind of what it is instead.
struct RecordsOrKind<'s, 'a> {
    sink: &'s mut RawSink<'a>,
}

impl<'de> DeserializeSeed<'de> for RecordsOrKind<'_, '_> {
    type Value = Result<(), &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsOrKind<'_, '_> {
    type Value = Result<(), &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        RecordsSeed { sink: self.sink }.visit_seq(seq).map(Ok)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        KindSeed.visit_map(map).map(Err)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("string"))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
}

/// The JSON kind of a value (the names of [`json_kind`]), its contents skipped, not held.
struct KindSeed;

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KindSeed {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<&'static str, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok("array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<&'static str, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok("object")
    }

    fn visit_bool<E>(self, _: bool) -> Result<&'static str, E> {
        Ok("boolean")
    }

    fn visit_i64<E>(self, _: i64) -> Result<&'static str, E> {
        Ok("number")
    }

    fn visit_u64<E>(self, _: u64) -> Result<&'static str, E> {
        Ok("number")
    }

    fn visit_f64<E>(self, _: f64) -> Result<&'static str, E> {
        Ok("number")
    }

    fn visit_str<E>(self, _: &str) -> Result<&'static str, E> {
        Ok("string")
    }

    fn visit_unit<E>(self) -> Result<&'static str, E> {
        Ok("null")
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

    #[test]
    fn streamed_objects_read_like_whole_ones() {
        // More leading whitespace than the shape is told from, then a delivery.
        let padded = format!("{}{{\"Records\":[{RECORD}]}}", " ".repeat(10_000));
        let read = read_records(padded.as_bytes(), &ReadOptions::default(), |_| {}).unwrap();
        assert_eq!(read.shape, Shape::S3Delivery);
        assert_eq!(read.decompressed_bytes, padded.len() as u64);
        let blank = " ".repeat(10_000);
        assert_eq!(
            parse_object(blank.as_bytes()).unwrap_err(),
            InputError::Empty
        );
        // `Records` after other keys, and not an array.
        let err = parse_object(br#"{"x":1,"Records":{"a":[1]}}"#).unwrap_err();
        assert!(err.to_string().contains("Records is object"), "{err}");
        // A reader that fails part-way is a read error, not a corrupt object.
        let cut = io::Cursor::new(format!("[{RECORD},").into_bytes()).chain(Failing);
        let err = read_records(cut, &ReadOptions::default(), |_| {}).unwrap_err();
        assert!(matches!(err, InputError::Read(_)), "{err}");
        let plain = format!("[{RECORD}]");
        let capped = ReadOptions {
            max_decompressed_bytes: 20,
        };
        assert_eq!(
            parse_object_with(plain.as_bytes(), &capped).unwrap_err(),
            InputError::TooLarge { limit: 20 }
        );
    }

    struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
        }
    }
}
