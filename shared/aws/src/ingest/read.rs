//! Reading one object, synchronously: bytes in, items and stats out.

use super::fetch::FetchError;
use crate::Item;
use crate::context_items::{ChunkNumbers, ObjectId, flow_items, resolver_items};
use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};
use triage_domain::dedupe::StoreError;
use triage_logs::decompress::{Decompressed, GZIP_MAGIC, is_over_cap};
use triage_logs::{cloudtrail, flowlogs, resolver};

/// Read buffer between the source (file, S3 body) and the decompressor or line reader.
const BUFFER: usize = 64 * 1024;

/// What reading one object found, for logs and the backfill's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectStats {
    /// Records (flow-log lines after the header, CloudTrail records) read.
    pub records: u64,
    /// Records not used.
    pub skipped: u64,
    /// Skipped records by reason.
    pub skip_reasons: Vec<(String, u64)>,
    /// Bytes after decompression: log volume is priced on it.
    pub uncompressed_bytes: u64,
}

impl ObjectStats {
    /// From a reader's counts: records read, skips by reason, bytes of text.
    fn counted<R: ToString>(
        records: u64,
        skipped: &BTreeMap<R, u64>,
        uncompressed_bytes: u64,
    ) -> Self {
        Self {
            records,
            skipped: skipped.values().sum(),
            skip_reasons: skipped
                .iter()
                .map(|(reason, n)| (reason.to_string(), *n))
                .collect(),
            uncompressed_bytes,
        }
    }
}

/// One object read: its items, not yet written.
#[derive(Debug, Clone)]
pub struct ObjectItems {
    pub items: Vec<Item>,
    pub stats: ObjectStats,
}

/// Caps on reading a CloudTrail object: its size as stored and decompressed (a gzip bomb must
/// not run the function to its timeout), and the live aggregates held while it streams (what
/// bounds memory, whatever the object's size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudTrailLimits {
    /// Largest object as stored (usually gzip).
    pub max_object_bytes: u64,
    /// Largest object once decompressed.
    pub max_decompressed_bytes: u64,
    /// Most live aggregates before a part is flushed into items
    /// ([`cloudtrail::Settings::max_live_aggregates`]).
    pub max_live_aggregates: usize,
}

impl CloudTrailLimits {
    /// The ingest function's caps. CloudTrail delivers a file per account and region about
    /// every 5 minutes, typically well under 1 MB compressed; the object is streamed, so the
    /// size caps only stop objects that are not CloudTrail's.
    pub const FUNCTION: Self = Self {
        max_object_bytes: 64 << 20,
        max_decompressed_bytes: 256 << 20,
        max_live_aggregates: cloudtrail::DEFAULT_MAX_LIVE_AGGREGATES,
    };
    /// The backfill's: no cap on the file, the parser's default cap on its decompressed size.
    pub const BACKFILL: Self = Self {
        max_object_bytes: u64::MAX,
        max_decompressed_bytes: 1 << 30,
        max_live_aggregates: cloudtrail::DEFAULT_MAX_LIVE_AGGREGATES,
    };
}

/// Why an object could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("cannot read: {0}")]
    Read(io::Error),
    #[error("corrupt gzip: {0}")]
    Gzip(io::Error),
    #[error("object {what} more than {limit} bytes (the configured limit)")]
    TooLarge { what: &'static str, limit: u64 },
    #[error(transparent)]
    CloudTrail(#[from] cloudtrail::InputError),
    #[error(transparent)]
    FlowLog(#[from] flowlogs::FlowLogError),
    #[error("Route 53 Resolver query log: {0}")]
    Resolver(String),
    #[error("writing the context items failed: {0}")]
    Write(StoreError),
    #[error("the parser task did not finish: {0}")]
    Task(String),
}

impl ObjectError {
    /// Whether the same object may succeed later (a network or throttling problem); otherwise
    /// it fails the same way every time and belongs in the dead-letter queue.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Fetch(e) => e.is_retryable(),
            Self::Read(_) => true,
            Self::FlowLog(e) => e.is_retryable(),
            Self::Write(e) => e.is_retryable(),
            Self::Gzip(_)
            | Self::TooLarge { .. }
            | Self::CloudTrail(_)
            | Self::Resolver(_)
            | Self::Task(_) => false,
        }
    }

    /// A short, stable name for logs and Lambda's `errorType` (`Retryable.*` when retryable).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Fetch(FetchError::NotFound(_)) => "ObjectNotFound",
            Self::Fetch(FetchError::Rejected(_)) => "ObjectFetch",
            Self::Fetch(FetchError::Transient(_)) => "Retryable.ObjectFetch",
            Self::Read(_) => "Retryable.ObjectRead",
            Self::FlowLog(e) if e.is_retryable() => "Retryable.ObjectRead",
            Self::Gzip(_)
            | Self::TooLarge { .. }
            | Self::CloudTrail(_)
            | Self::FlowLog(_)
            | Self::Resolver(_) => "InvalidObject",
            Self::Write(e) if e.is_retryable() => "Retryable.ContextStore",
            Self::Write(_) => "ContextStore",
            Self::Task(_) => "Internal",
        }
    }
}

/// Read a flow-log object (gzip as S3 delivers it, or plain text), streaming, within the
/// default [`flowlogs::Limits`]: [`read_flow_log_within`].
pub fn read_flow_log(
    input: impl Read,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    read_flow_log_within(input, &flowlogs::Limits::DEFAULT, id, expires_at)
}

/// Read a flow-log object (gzip as S3 delivers it, or plain text), streaming: memory is bounded
/// by `limits` (the live aggregates) and the object's compressed items, never by its text.
pub fn read_flow_log_within(
    input: impl Read,
    limits: &flowlogs::Limits,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let mut text = Decompressed::new(BufReader::with_capacity(BUFFER, input), u64::MAX)
        .map_err(ObjectError::Read)?;
    let (aggregates, summary) = flowlogs::ingest(
        BufReader::with_capacity(BUFFER, &mut text),
        &flowlogs::IngestOptions {
            limits: *limits,
            ..flowlogs::IngestOptions::default()
        },
    )?;
    Ok(ObjectItems {
        items: flow_items(&aggregates, id, expires_at),
        stats: ObjectStats::counted(summary.records, &summary.skipped, text.bytes_read()),
    })
}

/// Read a Route 53 Resolver query log object (gzip or plain; entries one per line, an array or
/// one entry) into items; its text may not exceed `max_text_bytes`.
pub fn read_resolver_log(
    input: impl Read,
    max_text_bytes: u64,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let (aggregates, summary) =
        resolver::read_object(input, max_text_bytes).map_err(|e| match e {
            resolver::InputError::TooLarge { limit } => ObjectError::TooLarge {
                what: "decompresses to",
                limit,
            },
            resolver::InputError::Read(message) => ObjectError::Read(io::Error::other(message)),
            resolver::InputError::Json(_) => ObjectError::Resolver(e.to_string()),
        })?;
    Ok(ObjectItems {
        items: resolver_items(&aggregates, id, expires_at),
        stats: ObjectStats::counted(summary.records, &summary.skipped, summary.text_bytes),
    })
}

/// Read a CloudTrail object (an S3 delivery, gzip or plain, or any shape
/// [`cloudtrail::parse_object`] reads) into items held in memory: [`stream_cloudtrail`]
/// collecting them, for single events, tests and `explain`.
pub fn read_cloudtrail(
    input: impl Read,
    limits: &CloudTrailLimits,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let mut items = Vec::new();
    let stats = stream_cloudtrail(input, limits, id, expires_at, |part| items.extend(part))?;
    Ok(ObjectItems { items, stats })
}

/// Read a CloudTrail object as it streams in, within `limits`, handing its items to `on_items`
/// part by part: memory holds at most `max_live_aggregates` aggregates and one part's items,
/// never the object nor all its items. A part's items are final when handed over (written under
/// their own chunk numbers); on an error, parts already handed over stay valid and a retry
/// writes the same keys again.
pub fn stream_cloudtrail(
    input: impl Read,
    limits: &CloudTrailLimits,
    id: &ObjectId,
    expires_at: i64,
    mut on_items: impl FnMut(Vec<Item>),
) -> Result<ObjectStats, ObjectError> {
    let mut source = Guarded::new(input, limits.max_object_bytes);
    let mut chunks = ChunkNumbers::default();
    let settings = cloudtrail::Settings {
        max_live_aggregates: limits.max_live_aggregates,
        ..cloudtrail::Settings::default()
    };
    let options = cloudtrail::ReadOptions {
        max_decompressed_bytes: limits.max_decompressed_bytes,
    };
    let read = cloudtrail::aggregate_stream(&mut source, &options, &settings, |part| {
        on_items(chunks.items(&part, id, expires_at));
    });
    let report = match (read, source.fault) {
        (Ok(report), _) => report,
        // The source's own failure explains the parser's.
        (Err(_), Some(fault)) => return Err(fault.into_error(limits.max_object_bytes)),
        (Err(e), None) => return Err(object_error(e)),
    };
    let summary = &report.summary;
    let skipped = summary.skipped.total();
    Ok(ObjectStats {
        records: summary.records_read,
        skipped,
        skip_reasons: if skipped > 0 {
            vec![(summary.skipped.to_string(), skipped)]
        } else {
            Vec::new()
        },
        uncompressed_bytes: report.decompressed_bytes,
    })
}

/// The errors the whole-object reader gave keep their names: corrupt gzip and the decompressed
/// cap are the object's, whichever parser found them.
fn object_error(e: cloudtrail::InputError) -> ObjectError {
    match e {
        cloudtrail::InputError::Gzip(message) => {
            ObjectError::Gzip(io::Error::new(io::ErrorKind::InvalidData, message))
        }
        cloudtrail::InputError::TooLarge { limit } => ObjectError::TooLarge {
            what: "decompresses to",
            limit,
        },
        cloudtrail::InputError::Read(message) => ObjectError::Read(io::Error::other(message)),
        other => ObjectError::CloudTrail(other),
    }
}

/// Why the source under the parser stopped.
#[derive(Debug)]
enum SourceFault {
    Read(io::Error),
    TooLarge,
}

impl SourceFault {
    fn into_error(self, limit: u64) -> ObjectError {
        match self {
            Self::Read(e) => ObjectError::Read(e),
            Self::TooLarge => ObjectError::TooLarge { what: "is", limit },
        }
    }
}

/// The object as stored, capped at `limit` bytes; a failure is kept whole (the parser sees a
/// copy) so that a cut-off body stays a retryable read error, not a corrupt object.
struct Guarded<R> {
    inner: R,
    limit: u64,
    bytes: u64,
    fault: Option<SourceFault>,
}

impl<R> Guarded<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            limit,
            bytes: 0,
            fault: None,
        }
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.fault = Some(SourceFault::Read(e));
                return Err(copy);
            }
        };
        self.bytes += n as u64;
        if self.bytes > self.limit {
            self.fault = Some(SourceFault::TooLarge);
            return Err(io::Error::other("object over the size limit"));
        }
        Ok(n)
    }
}

/// A CloudTrail object's bytes, decompressed when gzip, within `limits`, whole: for callers
/// that want the bytes themselves (benchmarks); ingest streams with [`read_cloudtrail`].
pub fn load_cloudtrail(
    input: impl Read,
    limits: &CloudTrailLimits,
) -> Result<Vec<u8>, ObjectError> {
    let mut raw = Vec::new();
    input
        .take(limits.max_object_bytes.saturating_add(1))
        .read_to_end(&mut raw)
        .map_err(ObjectError::Read)?;
    if raw.len() as u64 > limits.max_object_bytes {
        return Err(ObjectError::TooLarge {
            what: "is",
            limit: limits.max_object_bytes,
        });
    }
    if raw.starts_with(&GZIP_MAGIC) {
        gunzip(raw, limits.max_decompressed_bytes)
    } else {
        Ok(raw)
    }
}

/// Decompress every member, consuming the compressed bytes (freed before parsing).
fn gunzip(raw: Vec<u8>, limit: u64) -> Result<Vec<u8>, ObjectError> {
    let mut plain = Vec::new();
    Decompressed::new(&raw[..], limit)
        .and_then(|mut text| text.read_to_end(&mut plain))
        .map_err(|e| {
            if is_over_cap(&e) {
                ObjectError::TooLarge {
                    what: "decompresses to",
                    limit,
                }
            } else {
                ObjectError::Gzip(e)
            }
        })?;
    Ok(plain)
}

/// Parse and aggregate CloudTrail bytes (decompressed or not, or a single event) into items:
/// [`read_cloudtrail`] over the bytes.
pub fn cloudtrail_object_items(
    bytes: &[u8],
    limits: &CloudTrailLimits,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    read_cloudtrail(bytes, limits, id, expires_at)
}
