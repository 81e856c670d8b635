//! Reading an object line by line from any [`BufRead`] (a file, a decompressed S3 body), so
//! memory does not grow with the object: a flow-log object can be hundreds of megabytes once
//! decompressed, and a Lambda function has a fixed memory size.
//!
//! A line that lies whole in the input's buffer (nearly all of them) is parsed where it is; only
//! a line cut by the end of the buffer is copied, into one reused buffer. Copying every line cost
//! as much as a tenth of ingesting an object.

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
    /// Bytes of the input's buffer still to consume: the line last handed out in place.
    consume: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw {
    Eof,
    /// A line copied into `line`.
    Line,
    /// A line of this many bytes at the start of the input's buffer (line break excluded).
    InPlace(usize),
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
            consume: 0,
        };
        let first = reader.read_copied()?;
        let header = match first {
            Raw::Line => std::str::from_utf8(&reader.line)
                .ok()
                .filter(|text| Layout::looks_like_header(text)),
            // `read_copied` never leaves a line in place.
            Raw::Eof | Raw::TooLong | Raw::InPlace(_) => None,
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
                    Raw::Line | Raw::InPlace(_) => FlowLogError::MissingHeader {
                        found: triage_domain::text::field(
                            &String::from_utf8_lossy(&reader.line),
                            120,
                        ),
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
    #[inline]
    pub fn next_entry(&mut self) -> Result<Option<Entry<'_>>, FlowLogError> {
        let raw = match self.pending.take() {
            Some(raw) => raw,
            None => self.read_raw()?,
        };
        let mut record = FlowRecord::default();
        let parsed = match raw {
            Raw::Eof => return Ok(None),
            Raw::TooLong => Err(SkipReason::LineTooLong),
            Raw::Line => parse_line_into(&self.layout, &self.line, &mut record),
            Raw::InPlace(len) => {
                // The buffer is as `read_raw` left it: nothing consumed, so no read happens.
                let buffer = match self.input.fill_buf() {
                    Ok(buffer) => buffer,
                    Err(source) => {
                        return Err(FlowLogError::Read {
                            line: self.line_no,
                            source,
                        });
                    }
                };
                match buffer.get(..len) {
                    Some(line) => parse_line_into(&self.layout, line, &mut record),
                    None => Err(SkipReason::WrongFieldCount),
                }
            }
        };
        Ok(Some(Entry {
            line: self.line_no,
            parsed: parsed.map(|()| record),
        }))
    }

    /// Read the next line and hand it to `visit` (its number and its record, or why it cannot be
    /// used), or `None` at the end of the object: what [`FlowLogReader::next_entry`] does,
    /// without moving the record out of the frame that parsed it.
    #[inline]
    pub fn next_with<T>(
        &mut self,
        visit: impl FnOnce(u64, Result<&FlowRecord<'_>, SkipReason>) -> T,
    ) -> Result<Option<T>, FlowLogError> {
        let raw = match self.pending.take() {
            Some(raw) => raw,
            None => self.read_raw()?,
        };
        let mut record = FlowRecord::default();
        let parsed = match raw {
            Raw::Eof => return Ok(None),
            Raw::TooLong => Err(SkipReason::LineTooLong),
            Raw::Line => parse_line_into(&self.layout, &self.line, &mut record),
            Raw::InPlace(len) => {
                let buffer = match self.input.fill_buf() {
                    Ok(buffer) => buffer,
                    Err(source) => {
                        return Err(FlowLogError::Read {
                            line: self.line_no,
                            source,
                        });
                    }
                };
                match buffer.get(..len) {
                    Some(line) => parse_line_into(&self.layout, line, &mut record),
                    None => Err(SkipReason::WrongFieldCount),
                }
            }
        };
        Ok(Some(visit(self.line_no, parsed.map(|()| &record))))
    }

    /// Capacity of the line buffer: what reading costs in memory, whatever the object size.
    #[cfg(test)]
    pub(super) fn buffer_capacity(&self) -> usize {
        self.line.capacity()
    }

    /// Find the next line: in place when the input's buffer holds all of it, else copied.
    fn read_raw(&mut self) -> Result<Raw, FlowLogError> {
        if self.consume > 0 {
            self.input.consume(self.consume);
            self.consume = 0;
        }
        let buffer = loop {
            match self.input.fill_buf() {
                Ok(buffer) => break buffer,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(FlowLogError::Read {
                        line: self.line_no,
                        source,
                    });
                }
            }
        };
        if buffer.is_empty() {
            return Ok(Raw::Eof);
        }
        let window = &buffer[..buffer.len().min(MAX_LINE_BYTES + 1)];
        match find_newline(window) {
            Some(end) => {
                self.line_no += 1;
                self.consume = end + 1;
                let len = if end > 0 && window[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                Ok(Raw::InPlace(len))
            }
            None => self.read_copied(),
        }
    }

    /// Read one line into the line buffer, without its line break. A line longer than
    /// [`MAX_LINE_BYTES`] is consumed but not kept.
    fn read_copied(&mut self) -> Result<Raw, FlowLogError> {
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

/// The position of the first line feed, eight bytes at a time (a record is about 120 bytes, and
/// a byte-at-a-time scan was a visible part of reading).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ (ONES * u64::from(b'\n'));
        // High bit set in each byte of `x` that is zero (exact for the lowest such byte).
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(offset + (zero.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|b| *b == b'\n')
        .map(|i| offset + i)
}

/// Parse a record line into a record the caller holds; on failure, say the more useful thing
/// when the line is blank or is a header (checked only then, so the common path pays nothing
/// for it).
#[inline]
fn parse_line_into<'a>(
    layout: &Layout,
    bytes: &'a [u8],
    record: &mut FlowRecord<'a>,
) -> Result<(), SkipReason> {
    let text = std::str::from_utf8(bytes).map_err(|_| SkipReason::NotUtf8)?;
    record.parse_into(layout, text).map_err(|reason| {
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
    use crate::flowlogs::field::Field;
    use crate::flowlogs::record::LogStatus;

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

    #[test]
    fn newlines_are_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'x'; len];
                // Bytes next to a line feed's value must not be taken for one.
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = [b'x', 0x0b, 0x09, 0x8a, 0x00][i % 5];
                }
                let expected = (at < len).then(|| {
                    bytes[at] = b'\n';
                    at
                });
                if at + 1 < len {
                    bytes[at + 1] = b'\n';
                }
                assert_eq!(find_newline(&bytes), expected, "len {len}, at {at}");
            }
        }
    }

    #[test]
    fn lines_cut_by_the_buffer_read_the_same_as_whole_ones() {
        let text = DEFAULT_V2.repeat(3);
        let whole = entries(text.as_bytes(), HeaderPolicy::Required);
        for capacity in [1, 7, 64, 100, 129, 4096] {
            let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let mut flow = FlowLogReader::new(reader, HeaderPolicy::Required).unwrap();
            let mut got = Vec::new();
            while let Some(entry) = flow.next_entry().unwrap() {
                let status = entry.parsed.map(|r| r.log_status.unwrap_or(LogStatus::Ok));
                got.push((entry.line, status));
            }
            assert_eq!(got, whole, "buffer of {capacity}");
        }
    }

    #[test]
    fn a_line_not_utf8_anywhere_is_reported_as_such() {
        let record = DEFAULT_V2.lines().nth(1).unwrap();
        let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol \
            packets bytes start end action log-status ecs-cluster-name";
        let mut text = format!("{header}\n{record} cluster\n").into_bytes();
        // In a text value, in a number, in an address, in a column nobody reads.
        for (from, to) in [
            ("123456789010", "1234567\u{e9}9010"),
            ("20641", "206\u{e9}1"),
            ("172.31.16.21", "172.31.\u{e9}.21"),
            ("OK", "OK"),
        ] {
            let line = format!("{record} cluster").replacen(from, to, 1);
            let mut bytes = line.into_bytes();
            // Latin-1, not UTF-8: the é as one byte.
            if let Some(at) = bytes.windows(2).position(|w| w == "\u{e9}".as_bytes()) {
                bytes.splice(at..at + 2, [0xe9]);
            } else {
                let end = bytes.len();
                bytes.splice(end - 3..end - 2, [0xe9]);
            }
            text.extend_from_slice(&bytes);
            text.push(b'\n');
        }
        let got = entries(&text, HeaderPolicy::Required);
        assert_eq!(got[0], (2, Ok(LogStatus::Ok)));
        for entry in &got[1..] {
            assert_eq!(entry.1, Err(SkipReason::NotUtf8), "line {}", entry.0);
        }
        assert_eq!(got.len(), 5);
    }
}
