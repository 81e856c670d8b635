//! Reading one object, synchronously: bytes in, items and stats out.

use super::fetch::FetchError;
use crate::Item;
use crate::context_items::{ObjectId, cloudtrail_items, flow_items};
use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, Read};
use triage_domain::dedupe::StoreError;
use triage_logs::{cloudtrail, flowlogs};

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
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

/// One object read: its items, not yet written.
#[derive(Debug, Clone)]
pub struct ObjectItems {
    pub items: Vec<Item>,
    pub stats: ObjectStats,
}

/// Size caps on a CloudTrail object, which is read whole (a gzip bomb must not take the function
/// down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudTrailLimits {
    /// Largest object as stored (usually gzip).
    pub max_object_bytes: u64,
    /// Largest object once decompressed.
    pub max_decompressed_bytes: u64,
}

impl CloudTrailLimits {
    /// The ingest function's caps, sized for its memory (1 GB): both buffers together stay
    /// under a third of it. CloudTrail delivers a file per account and region about every
    /// 5 minutes, typically well under 1 MB compressed.
    pub const FUNCTION: Self = Self {
        max_object_bytes: 64 << 20,
        max_decompressed_bytes: 256 << 20,
    };
    /// The backfill's: no cap on the file, the parser's default cap on its decompressed size.
    pub const BACKFILL: Self = Self {
        max_object_bytes: u64::MAX,
        max_decompressed_bytes: 1 << 30,
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
            Self::Gzip(_) | Self::TooLarge { .. } | Self::CloudTrail(_) | Self::Task(_) => false,
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
            Self::Gzip(_) | Self::TooLarge { .. } | Self::CloudTrail(_) | Self::FlowLog(_) => {
                "InvalidObject"
            }
            Self::Write(e) if e.is_retryable() => "Retryable.ContextStore",
            Self::Write(_) => "ContextStore",
            Self::Task(_) => "Internal",
        }
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Plain text, or gzip (one or several members) decompressed on the fly.
enum Decoded<R: BufRead> {
    Plain(R),
    Gzip(Box<MultiGzDecoder<R>>),
}

impl<R: BufRead> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Gzip(r) => r.read(buf),
        }
    }
}

/// Read a flow-log object (gzip as S3 delivers it, or plain text), streaming: memory is bounded
/// by the number of aggregates, never by the object.
pub fn read_flow_log(
    input: impl Read,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let mut input = BufReader::with_capacity(BUFFER, input);
    let gzip = input
        .fill_buf()
        .map_err(ObjectError::Read)?
        .starts_with(&GZIP_MAGIC);
    let mut counting = Counting {
        inner: if gzip {
            Decoded::Gzip(Box::new(MultiGzDecoder::new(input)))
        } else {
            Decoded::Plain(input)
        },
        bytes: 0,
    };
    let (aggregates, summary) = flowlogs::ingest(
        BufReader::with_capacity(BUFFER, &mut counting),
        &flowlogs::IngestOptions::default(),
    )?;
    Ok(ObjectItems {
        items: flow_items(&aggregates, id, expires_at),
        stats: ObjectStats {
            records: summary.records,
            skipped: summary.skipped_total(),
            skip_reasons: summary
                .skipped
                .iter()
                .map(|(reason, n)| (reason.to_string(), *n))
                .collect(),
            uncompressed_bytes: counting.bytes,
        },
    })
}

/// Read a CloudTrail object (an S3 delivery, gzip or plain, or any shape
/// [`cloudtrail::parse_object`] reads) whole, within `limits`: [`load_cloudtrail`] then
/// [`cloudtrail_object_items`].
pub fn read_cloudtrail(
    input: impl Read,
    limits: &CloudTrailLimits,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let bytes = load_cloudtrail(input, limits)?;
    cloudtrail_object_items(&bytes, limits, id, expires_at)
}

/// A CloudTrail object's bytes, decompressed when gzip, within `limits`.
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
    MultiGzDecoder::new(&raw[..])
        .take(limit.saturating_add(1))
        .read_to_end(&mut plain)
        .map_err(ObjectError::Gzip)?;
    if plain.len() as u64 > limit {
        return Err(ObjectError::TooLarge {
            what: "decompresses to",
            limit,
        });
    }
    Ok(plain)
}

/// Parse and aggregate CloudTrail bytes (decompressed, or a single event) into items.
pub fn cloudtrail_object_items(
    bytes: &[u8],
    limits: &CloudTrailLimits,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let report = cloudtrail::aggregate_object(
        bytes,
        &cloudtrail::ReadOptions {
            max_decompressed_bytes: limits.max_decompressed_bytes,
        },
        &cloudtrail::Settings::default(),
    )?;
    let summary = report.summary();
    let skipped = summary.skipped.total();
    Ok(ObjectItems {
        items: cloudtrail_items(&report.aggregates, id, expires_at),
        stats: ObjectStats {
            records: summary.records_read,
            skipped,
            skip_reasons: if skipped > 0 {
                vec![(summary.skipped.to_string(), skipped)]
            } else {
                Vec::new()
            },
            uncompressed_bytes: bytes.len() as u64,
        },
    })
}
