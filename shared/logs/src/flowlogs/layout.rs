//! Which field sits in which column: read from the header line of an S3 object, or the default
//! version 2 format when the caller knows the input has no header.

use super::error::FlowLogError;
use super::field::Field;

/// The columns of an object, in order. Columns whose header name we do not know are kept as
/// `None`: they count for the number of values a line must have, and are otherwise ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    columns: Vec<Option<Field>>,
}

/// The fields a record needs to become part of an aggregate. `interface-id`, `flow-direction`,
/// `pkt-srcaddr`/`pkt-dstaddr` and `tcp-flags` are used when present but not required, so a
/// custom format without them still aggregates (keyed by local IP, direction from addresses).
pub const AGGREGATION_FIELDS: [Field; 10] = [
    Field::SrcAddr,
    Field::DstAddr,
    Field::SrcPort,
    Field::DstPort,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
];

/// Longest header we echo back in an error: enough to recognise what the first line was.
const ECHO_MAX: usize = 120;

impl Layout {
    /// The default format (version 2 fields in documentation order), used for input without a
    /// header.
    pub fn default_v2() -> Self {
        Layout {
            columns: Field::DEFAULT_V2.into_iter().map(Some).collect(),
        }
    }

    /// The layout a header line declares.
    pub fn from_header(line: &str) -> Result<Self, FlowLogError> {
        if !Self::looks_like_header(line) {
            return Err(FlowLogError::MissingHeader {
                found: triage_domain::text::field(line, ECHO_MAX),
            });
        }
        let mut columns: Vec<Option<Field>> = Vec::new();
        for name in tokens(line) {
            let field = Field::from_name(name);
            if let Some(field) = field
                && columns.contains(&Some(field))
            {
                return Err(FlowLogError::DuplicateField(field));
            }
            columns.push(field);
        }
        Ok(Layout { columns })
    }

    /// Whether a line is a header rather than a record: every value is a lowercase name
    /// (`[a-z][a-z0-9-]*`) and at least one is a field we know.
    ///
    /// Records never pass: a default or versioned record starts with a number, and every
    /// format carries an address, a number or a `-` somewhere, none of which is a name. The one
    /// blind spot is a custom format made only of ID fields (`vpc-id subnet-id`), whose values
    /// (`vpc-0abc...`) look like names; such a format cannot aggregate anyway.
    pub fn looks_like_header(line: &str) -> bool {
        let mut any_known = false;
        let mut any = false;
        for name in tokens(line) {
            any = true;
            let bytes = name.as_bytes();
            let well_formed = bytes[0].is_ascii_lowercase()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
            if !well_formed {
                return false;
            }
            any_known |= Field::from_name(name).is_some();
        }
        any && any_known
    }

    /// Number of values each record line must have.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Each column's field, `None` for a column we ignore.
    pub fn columns(&self) -> &[Option<Field>] {
        &self.columns
    }

    /// Whether the layout has a column for `field`.
    pub fn contains(&self, field: Field) -> bool {
        self.columns.contains(&Some(field))
    }

    /// The flow-log version of this format: the highest version among its fields, which is
    /// what AWS writes in the `version` column of a custom format.
    pub fn version(&self) -> u8 {
        self.columns
            .iter()
            .flatten()
            .map(|f| f.version())
            .max()
            .unwrap_or(2)
    }

    /// Check that every field of `needed` has a column, naming all that do not.
    pub fn require(&self, needed: &[Field]) -> Result<(), FlowLogError> {
        let missing: Vec<Field> = needed
            .iter()
            .copied()
            .filter(|f| !self.contains(*f))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(FlowLogError::MissingFields(missing))
        }
    }
}

/// The values of a line. AWS separates them by one space; runs of spaces are accepted too (one
/// of the documentation's own examples has two).
pub(super) fn tokens(line: &str) -> Tokens<'_> {
    Tokens {
        line,
        start: 0,
        base: 0,
        next_word: 0,
        spaces: 0,
        finished: false,
    }
}

/// Iterator over the values of a line, finding spaces eight bytes at a time.
///
/// Splitting is the largest single cost of parsing a record (a dozen or more short values per
/// line, each ending in a branch a byte-at-a-time scan mispredicts); testing a whole word for
/// spaces makes it about three times cheaper than `split(' ')`.
pub(super) struct Tokens<'a> {
    line: &'a str,
    /// Start of the next value.
    start: usize,
    /// Offset of the word whose spaces are in `spaces`.
    base: usize,
    /// Offset of the next word to test.
    next_word: usize,
    /// Spaces of the current word not yet consumed: the high bit of each byte that is a space.
    spaces: u64,
    finished: bool,
}

impl<'a> Tokens<'a> {
    fn next_space(&mut self) -> Option<usize> {
        let bytes = self.line.as_bytes();
        while self.spaces == 0 {
            let at = self.next_word;
            let tail = bytes.get(at..)?;
            if tail.is_empty() {
                return None;
            }
            let word = match tail.first_chunk::<8>() {
                Some(word) => *word,
                None => {
                    // The last few bytes, padded with zeros (not spaces).
                    let mut word = [0u8; 8];
                    word[..tail.len()].copy_from_slice(tail);
                    word
                }
            };
            self.base = at;
            self.next_word = at + 8;
            self.spaces = space_mask(u64::from_le_bytes(word));
        }
        let position = self.base + (self.spaces.trailing_zeros() / 8) as usize;
        self.spaces &= self.spaces - 1;
        Some(position)
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let end = match self.next_space() {
                Some(space) => space,
                None if self.finished => return None,
                None => {
                    self.finished = true;
                    self.line.len()
                }
            };
            let start = self.start;
            self.start = end + 1;
            if end > start {
                // Both ends are at an ASCII space or an end of the line: a char boundary.
                return self.line.get(start..end);
            }
        }
    }
}

/// The high bit of each byte of `word` that is an ASCII space, and no other bit: spaces become
/// zero bytes, and a byte is non-zero when its low seven bits carry into the high bit or the
/// high bit is already set (no carry crosses bytes, so there are no false positives).
pub(super) fn space_mask(word: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = word ^ 0x2020_2020_2020_2020;
    let nonzero = ((x & !HIGH).wrapping_add(!HIGH)) | x;
    !nonzero & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    const V5_HEADER: &str = "version srcaddr dstaddr srcport dstport protocol start end type \
        packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id \
        sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr \
        pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status";

    #[test]
    fn default_header_gives_the_default_layout() {
        let header = Field::DEFAULT_V2.map(Field::name).join(" ");
        assert_eq!(Layout::from_header(&header).unwrap(), Layout::default_v2());
        assert_eq!(Layout::default_v2().version(), 2);
        assert!(Layout::default_v2().require(&AGGREGATION_FIELDS).is_ok());
    }

    #[test]
    fn custom_header_keeps_order_and_ignores_unknown_names() {
        let layout = Layout::from_header(V5_HEADER).unwrap();
        assert_eq!(layout.width(), 29);
        assert_eq!(layout.version(), 5);
        assert_eq!(layout.columns()[1], Some(Field::SrcAddr));
        assert_eq!(layout.columns()[28], Some(Field::LogStatus));

        let later = Layout::from_header("version srcaddr ecs-cluster-name reject-reason").unwrap();
        assert_eq!(
            later.columns(),
            &[Some(Field::Version), Some(Field::SrcAddr), None, None]
        );
    }

    #[test]
    fn bad_headers_are_errors_that_say_why() {
        let record = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 \
            20 4249 1418530010 1418530070 ACCEPT OK";
        assert!(matches!(
            Layout::from_header(record),
            Err(FlowLogError::MissingHeader { found }) if found.starts_with("2 123456789010")
        ));
        assert!(matches!(
            Layout::from_header("version srcaddr srcaddr"),
            Err(FlowLogError::DuplicateField(Field::SrcAddr))
        ));
        assert!(!Layout::looks_like_header(""));
        assert!(!Layout::looks_like_header("foo bar"));
        // The NAT gateway format of the documentation: readable, but nothing to aggregate.
        let nat =
            Layout::from_header("instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr")
                .unwrap();
        let Err(FlowLogError::MissingFields(missing)) = nat.require(&AGGREGATION_FIELDS) else {
            panic!("NAT format cannot aggregate");
        };
        assert_eq!(missing.len(), 8);
        assert!(missing.contains(&Field::Bytes) && missing.contains(&Field::Action));
    }

    #[test]
    fn values_are_separated_by_runs_of_spaces() {
        let got: Vec<&str> = tokens("  a bb  ccc é ").collect();
        assert_eq!(got, ["a", "bb", "ccc", "é"]);
        assert_eq!(tokens("").count(), 0);
        assert_eq!(tokens("   ").count(), 0);
        assert_eq!(tokens("x").collect::<Vec<_>>(), ["x"]);
        // Every mix of a few characters, including spaces at every offset of a word and
        // bytes that differ from a space by one bit: the same as a plain split.
        let alphabet = [" ", "a", "\u{a0}", "!", "\t", "é", "0", "\u{2020}"];
        let mut seed: u64 = 0x243f_6a88_85a3_08d3;
        for _ in 0..5000 {
            let mut line = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for i in 0..(seed % 40) {
                line.push_str(alphabet[((seed >> (i % 60)) % 8) as usize]);
            }
            let plain: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
            assert_eq!(tokens(&line).collect::<Vec<_>>(), plain, "{line:?}");
        }
        for fixture in [
            include_str!("../../../../tests/fixtures/vpcflow/tcp-flags-v3.txt"),
            include_str!("../../../../tests/fixtures/vpcflow/traffic-path-v5.txt"),
        ] {
            for line in fixture.lines() {
                let plain: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
                assert_eq!(tokens(line).collect::<Vec<_>>(), plain);
            }
        }
    }

    #[test]
    fn records_never_look_like_headers() {
        for line in include_str!("../../../../tests/fixtures/vpcflow/nat-gateway.txt")
            .lines()
            .skip(1)
        {
            assert!(!Layout::looks_like_header(line), "{line}");
        }
    }
}
