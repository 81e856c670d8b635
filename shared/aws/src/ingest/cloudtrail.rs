//! CloudTrail as a [`LogSource`]: log files as S3 delivers them (gzip JSON `{"Records": [...]}`)
//! or any shape [`cloudtrail::parse_object`] reads, streamed through the aggregator
//! ([`triage_logs::cloudtrail`]) and laid out part by part by [`ChunkNumbers`]; single
//! EventBridge events go through [`cloudtrail_object_items`].

use super::read::{ObjectError, ObjectItems, ObjectStats};
use super::source::{Configured, LogSource};
use crate::Item;
use crate::context_items::{ChunkNumbers, ObjectId};
use std::io::{self, Read};
use triage_domain::config::{ConfigError, number};
use triage_logs::cloudtrail;
use triage_logs::decompress::{Decompressed, GZIP_MAGIC, is_over_cap};

/// The CloudTrail source, within its caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudTrailSource {
    pub limits: CloudTrailLimits,
}

impl Default for CloudTrailSource {
    fn default() -> Self {
        Self {
            limits: CloudTrailLimits::FUNCTION,
        }
    }
}

impl Configured for CloudTrailSource {
    /// `TRIAGE_CLOUDTRAIL_MAX_LIVE_AGGREGATES` (default 100000, 1000-10000000): most CloudTrail
    /// aggregates held while an object streams in before a part is written; bounds the
    /// function's memory whatever the object's size.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let max_live_aggregates = number(
            &get,
            "TRIAGE_CLOUDTRAIL_MAX_LIVE_AGGREGATES",
            cloudtrail::DEFAULT_MAX_LIVE_AGGREGATES as i64,
            1000,
            10_000_000,
        )? as usize;
        Ok(Self {
            limits: CloudTrailLimits {
                max_live_aggregates,
                ..CloudTrailLimits::FUNCTION
            },
        })
    }
}

impl LogSource for CloudTrailSource {
    fn name(&self) -> &'static str {
        "cloudtrail"
    }

    /// `AWSLogs/<account>/CloudTrail-Digest/<region>/...` holds hashes for log file integrity
    /// validation, no events.
    fn ignores(&self, key: &str) -> Option<&'static str> {
        key.split('/')
            .any(|part| part == "CloudTrail-Digest")
            .then_some("a CloudTrail digest file (integrity hashes, no events)")
    }

    fn max_object_bytes(&self) -> u64 {
        self.limits.max_object_bytes
    }

    fn read(
        &self,
        input: &mut dyn Read,
        _key: &str,
        id: &ObjectId,
        expires_at: i64,
        on_items: &mut dyn FnMut(Vec<Item>),
    ) -> Result<ObjectStats, ObjectError> {
        stream_cloudtrail(input, &self.limits, id, expires_at, on_items)
    }
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
