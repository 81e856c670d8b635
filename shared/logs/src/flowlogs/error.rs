//! What can go wrong with a flow-log object, at two levels: an object that cannot be ingested at
//! all ([`FlowLogError`]: the whole object fails, nothing of it is kept) and a single line that
//! cannot be used ([`SkipReason`]: the line is counted and the object goes on).
//!
//! The split matters for retries: an object either ingests fully or not at all, so a retried
//! object is never counted twice, and one bad line in a million never sends the other
//! 999,999 to the dead-letter queue.

use super::field::Field;
use std::fmt;
use std::io;

/// Why a flow-log object cannot be ingested.
#[derive(Debug, thiserror::Error)]
pub enum FlowLogError {
    /// Reading failed after `line` complete lines: a corrupt or truncated gzip stream, or the
    /// underlying body (S3, file) failed.
    #[error("reading the flow log failed after line {line}: {source}")]
    Read {
        line: u64,
        #[source]
        source: io::Error,
    },
    /// The object has no line at all, so not even a header.
    #[error("flow log object is empty (no header line)")]
    Empty,
    /// The first line is not a header naming the fields, and the caller did not allow the
    /// default format without a header.
    #[error("first line is not a flow-log header naming the fields: {found:?}")]
    MissingHeader { found: String },
    /// A header names the same field twice, so a value cannot be attributed.
    #[error("flow-log header names {0} twice")]
    DuplicateField(Field),
    /// The header lacks fields that aggregation needs (for example a NAT gateway format with
    /// only addresses): the object is readable but says nothing we can keep.
    #[error("flow-log header lacks fields needed for aggregation: {}", names(.0))]
    MissingFields(Vec<Field>),
}

impl FlowLogError {
    /// Whether retrying the same object may succeed: only a read failure that is not about the
    /// bytes themselves (a network error on the S3 body). A corrupt or truncated gzip stream, or
    /// a bad header, fails the same way every time and belongs in the dead-letter queue.
    pub fn is_retryable(&self) -> bool {
        match self {
            FlowLogError::Read { source, .. } => !matches!(
                source.kind(),
                io::ErrorKind::InvalidData
                    | io::ErrorKind::InvalidInput
                    | io::ErrorKind::UnexpectedEof
            ),
            _ => false,
        }
    }
}

fn names(fields: &[Field]) -> String {
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    names.join(", ")
}

/// Why one line of an object was skipped. Counted per reason in the
/// [`Summary`](super::Summary); the object itself is still ingested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The line has more or fewer values than the header has fields.
    WrongFieldCount,
    /// A numeric field (port, protocol, packets, bytes, time, ...) is not a number in range.
    BadNumber(Field),
    /// An address field is not an IPv4 or IPv6 address.
    BadAddress(Field),
    /// A field with a fixed set of values (action, log-status, flow-direction) has another one.
    BadValue(Field),
    /// An `OK` record has `-` in a field aggregation needs (addresses, counts, times, action).
    Missing(Field),
    /// The line is not UTF-8.
    NotUtf8,
    /// The line is longer than any flow-log record can be; it was discarded without being
    /// held in memory.
    LineTooLong,
    /// An empty line.
    EmptyLine,
    /// A header line in the middle of the data (for example two objects concatenated).
    HeaderLine,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::WrongFieldCount => f.write_str("wrong number of fields"),
            SkipReason::BadNumber(field) => write!(f, "{field} is not a number in range"),
            SkipReason::BadAddress(field) => write!(f, "{field} is not an IP address"),
            SkipReason::BadValue(field) => write!(f, "{field} has an unknown value"),
            SkipReason::Missing(field) => write!(f, "{field} is missing (-)"),
            SkipReason::NotUtf8 => f.write_str("line is not UTF-8"),
            SkipReason::LineTooLong => f.write_str("line too long"),
            SkipReason::EmptyLine => f.write_str("empty line"),
            SkipReason::HeaderLine => f.write_str("header line inside the data"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_is_wrong() {
        let missing = FlowLogError::MissingFields(vec![Field::Packets, Field::Bytes]);
        assert_eq!(
            missing.to_string(),
            "flow-log header lacks fields needed for aggregation: packets, bytes"
        );
        assert_eq!(
            SkipReason::BadNumber(Field::Bytes).to_string(),
            "bytes is not a number in range"
        );
    }

    #[test]
    fn only_transport_failures_are_retryable() {
        let read = |kind| FlowLogError::Read {
            line: 3,
            source: io::Error::new(kind, "x"),
        };
        assert!(read(io::ErrorKind::ConnectionReset).is_retryable());
        assert!(read(io::ErrorKind::TimedOut).is_retryable());
        assert!(!read(io::ErrorKind::UnexpectedEof).is_retryable());
        assert!(!read(io::ErrorKind::InvalidInput).is_retryable());
        assert!(!FlowLogError::Empty.is_retryable());
    }
}
