//! Reading an object line by line from any [`BufRead`] (a file, a decompressed S3 body) into one
//! reused buffer, so memory does not grow with the object: a flow-log object can be hundreds of
//! megabytes once decompressed, and a Lambda function has a fixed memory size.

use super::error::{FlowLogError, SkipReason};
use super::layout::{Layout, tokens};
use super::record::FlowRecord;
use std::io::{self, BufRead, Read};

/// Longest line we accept. A record with every field of versions 2 to 8 is well under 1 KiB; a
/// longer line is not a record, and is discarded without being held in memory.
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// What to do when the first line is not a header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeaderPolicy {
    /// S3 delivery always writes a header: its absence means the object is not a flow log.
    #[default]
    Required,
    /// The caller knows the input may lack a header (CloudWatch Logs exports, hand-made files):
    /// without one, lines are read in the default version 2 format. A header, when present,
    /// still wins.
    DefaultV2IfMissing,
}

/// One line of the object after the header: its number (the header is line 1) and the record,
/// or why it cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub line: u64,
    pub parsed: Result<FlowRecord<'a>, SkipReason>,
}

/// A streaming reader of one flow-log object.
///
/// It is not an [`Iterator`] because each record borrows the reader's line buffer until the
/// next call; use `while let Some(entry) = reader.next_entry()? { ... }`.
pub struct FlowLogReader<R> {
    input: R,
    layout: Layout,
    line: Vec<u8>,
    line_no: u64,
    /// The first line, already read while looking for a header, when it turned out to be a
    /// record.
    pending: Option<Raw>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw {
    Eof,
    Line,
    TooLong,
}

impl<R: BufRead> FlowLogReader<R> {
    /// Start reading: read the first line and decide the layout from it.
    pub fn new(input: R, policy: HeaderPolicy) -> Result<Self, FlowLogError> {
        let mut reader = FlowLogReader {
            input,
            layout: Layout::default_v2(),
            line: Vec::with_capacity(512),
            line_no: 0,
            pending: None,
        };
        let first = reader.read_raw()?;
        let header = match first {
            Raw::Line => std::str::from_utf8(&reader.line)
                .ok()
                .filter(|text| Layout::looks_like_header(text)),
            Raw::Eof | Raw::TooLong => None,
        };
        match (header, policy) {
            (Some(text), _) => reader.layout = Layout::from_header(text)?,
            (None, HeaderPolicy::DefaultV2IfMissing) => reader.pending = Some(first),
            (None, HeaderPolicy::Required) => {
                return Err(match first {
                    Raw::Eof => FlowLogError::Empty,
                    Raw::TooLong => FlowLogError::MissingHeader {
                        found: format!("a line longer than {MAX_LINE_BYTES} bytes"),
                    },
                    Raw::Line => FlowLogError::MissingHeader {
                        found: crate::text::field(&String::from_utf8_lossy(&reader.line), 120),
                    },
                });
            }
        }
        Ok(reader)
    }

    /// The layout the header declared (or the default one).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The next line after the header, or `None` at the end of the object. An error means the
    /// object cannot be read further (corrupt or truncated compression, failing body).
    pub fn next_entry(&mut self) -> Result<Option<Entry<'_>>, FlowLogError> {
        let raw = match self.pending.take() {
            Some(raw) => raw,
            None => self.read_raw()?,
        };
        let parsed = match raw {
            Raw::Eof => return Ok(None),
            Raw::TooLong => Err(SkipReason::LineTooLong),
            Raw::Line => parse_line(&self.layout, &self.line),
        };
        Ok(Some(Entry {
            line: self.line_no,
            parsed,
        }))
    }

    /// Capacity of the line buffer: what reading costs in memory, whatever the object size.
    #[cfg(test)]
    pub(super) fn buffer_capacity(&self) -> usize {
        self.line.capacity()
    }

    /// Read one line into the buffer, without its line break. A line longer than
    /// [`MAX_LINE_BYTES`] is consumed but not kept.
    fn read_raw(&mut self) -> Result<Raw, FlowLogError> {
        self.line.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let read = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| self.read_error(e))?;
        if read == 0 {
            return Ok(Raw::Eof);
        }
        self.line_no += 1;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        } else if self.line.len() > MAX_LINE_BYTES {
            self.line.clear();
            self.line.shrink_to(512);
            self.discard_rest_of_line()?;
            return Ok(Raw::TooLong);
        }
        Ok(Raw::Line)
    }

    fn discard_rest_of_line(&mut self) -> Result<(), FlowLogError> {
        loop {
            let buffer = match self.input.fill_buf() {
                Ok(buffer) => buffer,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.read_error(e)),
            };
            if buffer.is_empty() {
                return Ok(());
            }
            match buffer.iter().position(|b| *b == b'\n') {
                Some(end) => {
                    self.input.consume(end + 1);
                    return Ok(());
                }
                None => {
                    let len = buffer.len();
                    self.input.consume(len);
                }
            }
        }
    }

    fn read_error(&self, source: io::Error) -> FlowLogError {
        FlowLogError::Read {
            line: self.line_no,
            source,
        }
    }
}

/// Parse a record line; on failure, say the more useful thing when the line is blank or is a
/// header (checked only then, so the common path pays nothing for it).
fn parse_line<'a>(layout: &Layout, bytes: &'a [u8]) -> Result<FlowRecord<'a>, SkipReason> {
    let text = std::str::from_utf8(bytes).map_err(|_| SkipReason::NotUtf8)?;
    FlowRecord::parse(layout, text).map_err(|reason| {
        if tokens(text).next().is_none() {
            SkipReason::EmptyLine
        } else if Layout::looks_like_header(text) {
            SkipReason::HeaderLine
        } else {
            reason
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::flowlogs::field::Field;
    use crate::context::flowlogs::record::LogStatus;

    const DEFAULT_V2: &str = include_str!("../../../../tests/fixtures/vpcflow/default-v2.txt");

    fn entries(text: &[u8], policy: HeaderPolicy) -> Vec<(u64, Result<LogStatus, SkipReason>)> {
        let mut reader = FlowLogReader::new(text, policy).unwrap();
        let mut out = Vec::new();
        while let Some(entry) = reader.next_entry().unwrap() {
            let status = entry.parsed.map(|r| r.log_status.unwrap_or(LogStatus::Ok));
            out.push((entry.line, status));
        }
        out
    }

    #[test]
    fn header_then_records_numbered_from_line_two() {
        let got = entries(DEFAULT_V2.as_bytes(), HeaderPolicy::Required);
        assert_eq!(got.len(), 7);
        assert_eq!(got[0], (2, Ok(LogStatus::Ok)));
        assert_eq!(got[2], (4, Ok(LogStatus::NoData)));
        assert_eq!(got[3], (5, Ok(LogStatus::SkipData)));
    }

    #[test]
    fn headerless_default_format_when_the_caller_allows_it() {
        let body = DEFAULT_V2.split_once('\n').unwrap().1;
        let got = entries(body.as_bytes(), HeaderPolicy::DefaultV2IfMissing);
        assert_eq!(got.len(), 7);
        assert_eq!(got[0], (1, Ok(LogStatus::Ok)));
        // A header still wins when there is one.
        assert_eq!(
            entries(DEFAULT_V2.as_bytes(), HeaderPolicy::DefaultV2IfMissing).len(),
            7
        );
        // And without permission, a missing header is an error for the object.
        let err = FlowLogReader::new(body.as_bytes(), HeaderPolicy::Required)
            .err()
            .unwrap();
        assert!(
            matches!(err, FlowLogError::MissingHeader { found } if found.starts_with("2 1234"))
        );
        let err = FlowLogReader::new(&b""[..], HeaderPolicy::Required)
            .err()
            .unwrap();
        assert!(matches!(err, FlowLogError::Empty));
        assert!(entries(b"", HeaderPolicy::DefaultV2IfMissing).is_empty());
    }

    #[test]
    fn odd_lines_are_counted_skips_not_failures() {
        let mut text = DEFAULT_V2.replace('\n', "\r\n").into_bytes();
        text.extend_from_slice(b"\n");
        text.extend_from_slice(b"version account-id interface-id srcaddr\n");
        text.extend_from_slice(b"2 \xff\xfe not utf-8\n");
        text.extend_from_slice(&vec![b'7'; MAX_LINE_BYTES * 3]);
        text.extend_from_slice(b"\n");
        // Last line without a line break, as when an object does not end with one.
        text.extend_from_slice(DEFAULT_V2.lines().nth(1).unwrap().as_bytes());
        let got = entries(&text, HeaderPolicy::Required);
        let skips: Vec<_> = got[7..].to_vec();
        assert_eq!(
            skips,
            vec![
                (9, Err(SkipReason::EmptyLine)),
                (10, Err(SkipReason::HeaderLine)),
                (11, Err(SkipReason::NotUtf8)),
                (12, Err(SkipReason::LineTooLong)),
                (13, Ok(LogStatus::Ok)),
            ]
        );
        assert!(
            got[..7].iter().all(|(_, r)| r.is_ok()),
            "CRLF line ends are accepted"
        );
    }

    #[test]
    fn a_huge_line_is_not_buffered() {
        let mut text = DEFAULT_V2.as_bytes().to_vec();
        text.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
        let mut reader = FlowLogReader::new(&text[..], HeaderPolicy::Required).unwrap();
        let mut last = None;
        while let Some(entry) = reader.next_entry().unwrap() {
            last = Some(entry.parsed.err());
        }
        assert_eq!(last, Some(Some(SkipReason::LineTooLong)));
        assert!(reader.buffer_capacity() <= 2 * MAX_LINE_BYTES + 2);
    }

    #[test]
    fn bad_header_fails_the_object() {
        let err = FlowLogReader::new(&b"version srcaddr srcaddr\n"[..], HeaderPolicy::Required)
            .err()
            .unwrap();
        assert!(matches!(err, FlowLogError::DuplicateField(Field::SrcAddr)));
    }
}
