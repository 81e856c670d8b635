//! One flow-log record, parsed from a line without allocating: text fields borrow from the line,
//! numbers and addresses are decoded, `-` (not applicable) becomes `None`.

use super::error::SkipReason;
use super::field::Field;
use super::layout::{Layout, space_mask};
use std::net::{IpAddr, Ipv4Addr};
use triage_domain::traffic::{Action, Direction};

/// The logging status of a record: `NODATA` (no traffic in the interval) and `SKIPDATA`
/// (records lost to capacity limits) carry no flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogStatus {
    Ok,
    NoData,
    SkipData,
}

/// A parsed record. Every field is optional: a format may not include it, and a record shows
/// `-` where a value does not apply. Field names follow the header names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowRecord<'a> {
    pub version: Option<u8>,
    pub account_id: Option<&'a str>,
    pub interface_id: Option<&'a str>,
    pub srcaddr: Option<IpAddr>,
    pub dstaddr: Option<IpAddr>,
    pub srcport: Option<u16>,
    pub dstport: Option<u16>,
    /// IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).
    pub protocol: Option<u8>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// Unix seconds.
    pub start: Option<i64>,
    /// Unix seconds.
    pub end: Option<i64>,
    pub action: Option<Action>,
    pub log_status: Option<LogStatus>,
    pub vpc_id: Option<&'a str>,
    pub subnet_id: Option<&'a str>,
    pub instance_id: Option<&'a str>,
    /// Bitmask of the TCP flags seen in the interval (FIN 1, SYN 2, RST 4, SYN-ACK 18).
    pub tcp_flags: Option<u8>,
    /// `type`: IPv4, IPv6 or EFA.
    pub traffic_type: Option<&'a str>,
    pub pkt_srcaddr: Option<IpAddr>,
    pub pkt_dstaddr: Option<IpAddr>,
    pub region: Option<&'a str>,
    pub az_id: Option<&'a str>,
    pub sublocation_type: Option<&'a str>,
    pub sublocation_id: Option<&'a str>,
    pub pkt_src_aws_service: Option<&'a str>,
    pub pkt_dst_aws_service: Option<&'a str>,
    pub flow_direction: Option<Direction>,
    pub traffic_path: Option<u8>,
}

impl<'a> FlowRecord<'a> {
    /// Parse a record line (without its line break) in the given layout.
    ///
    /// A line with the wrong number of values is reported as such even when one of its values
    /// is also bad, since the count is what tells a truncated or foreign line from a damaged
    /// value.
    ///
    /// One pass over the line: numbers and IPv4 addresses are decoded while their value is
    /// scanned for its end (the generic `FlowRecord::set` reads anything else, and any value
    /// that is not plain digits or a plain dotted quad, with the same result). Splitting first and
    /// decoding after read every byte twice and was the larger part of ingesting an object.
    pub fn parse(layout: &Layout, line: &'a str) -> Result<Self, SkipReason> {
        let mut record = FlowRecord::default();
        record.parse_into(layout, line)?;
        Ok(record)
    }

    /// [`FlowRecord::parse`] into a record the caller holds (a default one): the reader's hot
    /// path, which so never moves the record (some 350 bytes) from frame to frame.
    #[inline]
    pub fn parse_into(&mut self, layout: &Layout, line: &'a str) -> Result<(), SkipReason> {
        let bytes = line.as_bytes();
        let record = self;
        let mut first_error = None;
        let mut pos = skip_spaces(bytes, 0);
        for column in layout.columns() {
            if pos >= bytes.len() {
                return Err(SkipReason::WrongFieldCount);
            }
            let end = match column {
                Some(field) if first_error.is_none() => {
                    let (end, outcome) = record.read(*field, line, pos);
                    if let Err(reason) = outcome {
                        first_error = Some(reason);
                    }
                    end
                }
                _ => value_end(bytes, pos),
            };
            pos = skip_spaces(bytes, end);
        }
        if pos < bytes.len() {
            return Err(SkipReason::WrongFieldCount);
        }
        match first_error {
            None => Ok(()),
            Some(reason) => Err(reason),
        }
    }

    /// Read the value starting at `start` (not a space) into its field; returns where the
    /// value ends (a space or the end of the line) and whether it was good.
    #[inline(always)]
    fn read(
        &mut self,
        field: Field,
        line: &'a str,
        start: usize,
    ) -> (usize, Result<(), SkipReason>) {
        let bytes = line.as_bytes();
        match field {
            Field::SrcAddr | Field::DstAddr | Field::PktSrcAddr | Field::PktDstAddr => {
                let (end, v4) = scan_ipv4(bytes, start);
                let Some(v4) = v4 else {
                    return (end, self.set_text(field, line, start, end));
                };
                let slot = match field {
                    Field::SrcAddr => &mut self.srcaddr,
                    Field::DstAddr => &mut self.dstaddr,
                    Field::PktSrcAddr => &mut self.pkt_srcaddr,
                    _ => &mut self.pkt_dstaddr,
                };
                *slot = Some(IpAddr::V4(v4));
                (end, Ok(()))
            }
            Field::Version
            | Field::SrcPort
            | Field::DstPort
            | Field::Protocol
            | Field::Packets
            | Field::Bytes
            | Field::Start
            | Field::End
            | Field::TcpFlags
            | Field::TrafficPath => {
                let (end, value) = scan_number(bytes, start);
                match value {
                    Some(n) => (end, self.set_number(field, n)),
                    None => (end, self.set_text(field, line, start, end)),
                }
            }
            _ => {
                let end = value_end(bytes, start);
                (end, self.set_text(field, line, start, end))
            }
        }
    }

    /// Store a decoded number in its field, if it is in the field's range.
    #[inline(always)]
    fn set_number(&mut self, field: Field, n: u64) -> Result<(), SkipReason> {
        fn fit<T: TryFrom<u64>>(field: Field, n: u64) -> Result<Option<T>, SkipReason> {
            T::try_from(n)
                .map(Some)
                .map_err(|_| SkipReason::BadNumber(field))
        }
        match field {
            Field::Version => self.version = fit(field, n)?,
            Field::SrcPort => self.srcport = fit(field, n)?,
            Field::DstPort => self.dstport = fit(field, n)?,
            Field::Protocol => self.protocol = fit(field, n)?,
            Field::Packets => self.packets = Some(n),
            Field::Bytes => self.bytes = Some(n),
            Field::Start => self.start = fit(field, n)?,
            Field::End => self.end = fit(field, n)?,
            Field::TcpFlags => self.tcp_flags = fit(field, n)?,
            Field::TrafficPath => self.traffic_path = fit(field, n)?,
            _ => return Err(SkipReason::BadValue(field)),
        }
        Ok(())
    }

    /// [`FlowRecord::set`] of the value `line[start..end]`.
    #[inline]
    fn set_text(
        &mut self,
        field: Field,
        line: &'a str,
        start: usize,
        end: usize,
    ) -> Result<(), SkipReason> {
        // Both ends are at an ASCII space, or an end of the line: char boundaries.
        self.set(field, line.get(start..end).unwrap_or_default())
    }

    fn set(&mut self, field: Field, token: &'a str) -> Result<(), SkipReason> {
        if token == "-" {
            return Ok(());
        }
        let text = Some(token);
        match field {
            Field::Version => self.version = Some(number(field, token)?),
            Field::AccountId => self.account_id = text,
            Field::InterfaceId => self.interface_id = text,
            Field::SrcAddr => self.srcaddr = Some(address(field, token)?),
            Field::DstAddr => self.dstaddr = Some(address(field, token)?),
            Field::SrcPort => self.srcport = Some(number(field, token)?),
            Field::DstPort => self.dstport = Some(number(field, token)?),
            Field::Protocol => self.protocol = Some(number(field, token)?),
            Field::Packets => self.packets = Some(number(field, token)?),
            Field::Bytes => self.bytes = Some(number(field, token)?),
            Field::Start => self.start = Some(number(field, token)?),
            Field::End => self.end = Some(number(field, token)?),
            Field::Action => {
                self.action = Some(Action::parse(token).ok_or(SkipReason::BadValue(field))?)
            }
            Field::LogStatus => {
                self.log_status = Some(match token {
                    "OK" => LogStatus::Ok,
                    "NODATA" => LogStatus::NoData,
                    "SKIPDATA" => LogStatus::SkipData,
                    _ => return Err(SkipReason::BadValue(field)),
                })
            }
            Field::VpcId => self.vpc_id = text,
            Field::SubnetId => self.subnet_id = text,
            Field::InstanceId => self.instance_id = text,
            Field::TcpFlags => self.tcp_flags = Some(number(field, token)?),
            Field::Type => self.traffic_type = text,
            Field::PktSrcAddr => self.pkt_srcaddr = Some(address(field, token)?),
            Field::PktDstAddr => self.pkt_dstaddr = Some(address(field, token)?),
            Field::Region => self.region = text,
            Field::AzId => self.az_id = text,
            Field::SublocationType => self.sublocation_type = text,
            Field::SublocationId => self.sublocation_id = text,
            Field::PktSrcAwsService => self.pkt_src_aws_service = text,
            Field::PktDstAwsService => self.pkt_dst_aws_service = text,
            Field::FlowDirection => {
                self.flow_direction = match Direction::parse(token) {
                    Some(d @ (Direction::Ingress | Direction::Egress)) => Some(d),
                    _ => return Err(SkipReason::BadValue(field)),
                }
            }
            Field::TrafficPath => self.traffic_path = Some(number(field, token)?),
        }
        Ok(())
    }
}

/// The first position at or after `from` that is not a space.
#[inline(always)]
fn skip_spaces(bytes: &[u8], mut from: usize) -> usize {
    while bytes.get(from) == Some(&b' ') {
        from += 1;
    }
    from
}

/// The end of the value starting at `from`: the next space, or the end of the line. Eight
/// bytes at a time, as IDs are long.
#[inline]
fn value_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(word) = bytes.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        let spaces = space_mask(u64::from_le_bytes(*word));
        if spaces != 0 {
            return at + (spaces.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(b) = bytes.get(at) {
        if *b == b' ' {
            return at;
        }
        at += 1;
    }
    bytes.len()
}

/// A value of plain decimal digits starting at `from`, decoded as it is scanned: where it ends,
/// and its value when it is 1 to 19 digits (which cannot overflow). Anything else (`-`, a sign, a
/// letter, twenty digits or more) gives `None` and the end of the value, for the generic path.
///
/// Eight bytes at a time where the line has them: the digits of a word are counted and converted
/// in a few arithmetic steps, with no branch per digit (a port has 1 to 5 digits, a byte count
/// anything: a loop's exit branch was mispredicted about once per value).
#[inline(always)]
fn scan_number(bytes: &[u8], from: usize) -> (usize, Option<u64>) {
    let mut value: u64 = 0;
    let mut at = from;
    if let Some(word) = bytes.get(from..).and_then(|rest| rest.first_chunk::<8>()) {
        let word = u64::from_le_bytes(*word);
        let digits = leading_digits(word);
        if digits > 0 {
            value = eight_digits(word, digits);
        }
        at += digits;
        if digits < 8 {
            return match bytes.get(at) {
                None | Some(b' ') if digits > 0 => (at, Some(value)),
                _ => (value_end(bytes, at), None),
            };
        }
    }
    while let Some(b) = bytes.get(at) {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        at += 1;
    }
    let digits = at - from;
    match bytes.get(at) {
        None | Some(b' ') if (1..=19).contains(&digits) => (at, Some(value)),
        _ => (value_end(bytes, at), None),
    }
}

/// How many of the word's bytes, from its first (lowest), are ASCII digits (0 to 8).
#[inline(always)]
fn leading_digits(word: u64) -> usize {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // A digit is 0x30-0x39: its high nibble is 3, and still 3 once 6 is added. (Adding 6 to a
    // byte of 0xfa or more carries into the next byte, but such a byte is not a digit, and only
    // the bytes before the first non-digit count.)
    let not_digit = ((word & HIGH_NIBBLES) ^ ZEROS)
        | ((word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) ^ ZEROS);
    // The high bit of each non-zero byte of `not_digit`.
    let marks = (((not_digit & LOW).wrapping_add(LOW)) | not_digit) & !LOW;
    (marks.trailing_zeros() / 8) as usize
}

/// The value of the first `digits` (1 to 8) bytes of the word, ASCII digits, the first the most
/// significant.
#[inline(always)]
fn eight_digits(word: u64, digits: usize) -> u64 {
    // Digit values, moved to the top of the word: the bytes below become leading zeros.
    let d = (word & 0x0f0f_0f0f_0f0f_0f0f) << (8 * (8 - digits));
    // Pairs, then groups of four, then eight (byte 0 is the most significant digit).
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00ff_00ff_00ff_00ff;
    let d = (d.wrapping_mul(1 + (100 << 16)) >> 16) & 0x0000_ffff_0000_ffff;
    d.wrapping_mul(1 + (10_000 << 32)) >> 32
}

/// A dotted-quad IPv4 value starting at `from`, by the rules of [`ipv4`], decoded as it is
/// scanned: where it ends and the address, or `None` (IPv6, `-`, anything else) for the generic
/// path. An octet at a time, as [`scan_number`] reads digits, where the line has eight bytes
/// from the octet on (the byte-at-a-time loop mispredicted a branch at every dot).
#[inline(always)]
fn scan_ipv4(bytes: &[u8], from: usize) -> (usize, Option<Ipv4Addr>) {
    let mut octets = [0u8; 4];
    let mut at = from;
    for (index, octet) in octets.iter_mut().enumerate() {
        let Some(word) = bytes.get(at..).and_then(|rest| rest.first_chunk::<8>()) else {
            return scan_ipv4_bytes(bytes, from);
        };
        let word = u64::from_le_bytes(*word);
        let digits = leading_digits(word);
        // One to three digits, no leading zero, at most 255.
        if digits == 0 || digits > 3 || (digits > 1 && word as u8 == b'0') {
            return (value_end(bytes, at), None);
        }
        let value = eight_digits(word, digits);
        at += digits;
        let Ok(value) = u8::try_from(value) else {
            return (value_end(bytes, at), None);
        };
        *octet = value;
        let next = bytes.get(at);
        if index < 3 {
            if next != Some(&b'.') {
                return (value_end(bytes, at), None);
            }
            at += 1;
        } else if !matches!(next, None | Some(b' ')) {
            return (value_end(bytes, at), None);
        }
    }
    (at, Some(Ipv4Addr::from(octets)))
}

/// [`scan_ipv4`] a byte at a time, for an address near the end of the line.
fn scan_ipv4_bytes(bytes: &[u8], from: usize) -> (usize, Option<Ipv4Addr>) {
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut value: u16 = 0;
    let mut digits = 0;
    let mut at = from;
    while let Some(&b) = bytes.get(at) {
        if b == b' ' {
            break;
        }
        if b == b'.' {
            if digits == 0 || index == 3 || value > 255 {
                return (value_end(bytes, at), None);
            }
            octets[index] = value as u8;
            index += 1;
            value = 0;
            digits = 0;
        } else {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 || (digits > 0 && value == 0) || digits == 3 {
                return (value_end(bytes, at), None);
            }
            value = value * 10 + u16::from(digit);
            digits += 1;
        }
        at += 1;
    }
    if index != 3 || digits == 0 || value > 255 {
        return (at, None);
    }
    octets[3] = value as u8;
    (at, Some(Ipv4Addr::from(octets)))
}

/// A decimal number that fits `T`. Hand-rolled because it is the bulk of the per-record work
/// and the values are plain ASCII digits (no sign, no spaces).
fn number<T: TryFrom<u64>>(field: Field, token: &str) -> Result<T, SkipReason> {
    digits(token)
        .and_then(|n| T::try_from(n).ok())
        .ok_or(SkipReason::BadNumber(field))
}

fn digits(token: &str) -> Option<u64> {
    let bytes = token.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    if bytes.len() <= 19 {
        // Nineteen digits cannot overflow a u64: no check per digit.
        for &b in bytes {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            n = n * 10 + u64::from(digit);
        }
        return Some(n);
    }
    for &b in bytes {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(n)
}

fn address(field: Field, token: &str) -> Result<IpAddr, SkipReason> {
    let parsed = if token.contains(':') {
        token.parse().ok()
    } else {
        ipv4(token.as_bytes()).map(IpAddr::V4)
    };
    parsed.ok_or(SkipReason::BadAddress(field))
}

/// Dotted-quad IPv4, with the same rules as the standard library's parser (four decimal
/// octets, no leading zeros) at a fraction of its cost: two addresses per record.
fn ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut value: u16 = 0;
    let mut digits = 0;
    for &b in text {
        if b == b'.' {
            if digits == 0 || index == 3 {
                return None;
            }
            octets[index] = u8::try_from(value).ok()?;
            index += 1;
            value = 0;
            digits = 0;
        } else {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 || (digits > 0 && value == 0) || digits == 3 {
                return None;
            }
            value = value * 10 + u16::from(digit);
            digits += 1;
        }
    }
    if index != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPT_SSH: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 \
        20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";

    fn v2(line: &str) -> Result<FlowRecord<'_>, SkipReason> {
        FlowRecord::parse(&Layout::default_v2(), line)
    }

    #[test]
    fn numbers_are_checked_for_range() {
        assert_eq!(digits("0"), Some(0));
        assert_eq!(digits("18446744073709551615"), Some(u64::MAX));
        assert_eq!(digits("18446744073709551616"), None);
        assert_eq!(digits("99999999999999999999"), None);
        assert_eq!(
            digits("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(digits("00000000000000000000000042"), Some(42));
        assert_eq!(digits("-1"), None);
        assert_eq!(digits("1e3"), None);
        assert_eq!(digits(""), None);
        assert_eq!(number::<u16>(Field::SrcPort, "65535"), Ok(65535));
        assert_eq!(
            number::<u16>(Field::SrcPort, "65536"),
            Err(SkipReason::BadNumber(Field::SrcPort))
        );
    }

    #[test]
    fn ipv4_parsing_agrees_with_the_standard_library() {
        let cases = [
            "172.31.16.139",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.62",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.0",
            "1..3.4",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            "",
            "a.b.c.d",
            "1.2.3.1000",
            "999.1.1.1",
            "1.2.3.-4",
            "١.2.3.4",
        ];
        for case in cases {
            let expected = case.parse::<Ipv4Addr>().ok();
            assert_eq!(ipv4(case.as_bytes()), expected, "{case:?}");
            // Scanned in a line, followed by more values (an octet at a time) or not (a byte at
            // a time), the same.
            if !case.contains(' ') {
                for line in [format!("{case} 443 6 20 4249"), case.to_string()] {
                    let (end, scanned) = scan_ipv4(line.as_bytes(), 0);
                    assert_eq!(scanned, expected, "{line:?}");
                    assert_eq!(end, case.len(), "{line:?}");
                }
            }
        }
        assert_eq!(
            address(Field::SrcAddr, "2001:db8::1"),
            Ok("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            address(Field::SrcAddr, "::ffff:1.2.3.4"),
            Ok("::ffff:1.2.3.4".parse().unwrap())
        );
        assert_eq!(
            address(Field::DstAddr, "2001:db8::g"),
            Err(SkipReason::BadAddress(Field::DstAddr))
        );
    }

    #[test]
    fn each_damaged_value_is_named() {
        let cases = [
            ("20641", "x20641", SkipReason::BadNumber(Field::SrcPort)),
            (
                "172.31.16.21",
                "172.31.16.256",
                SkipReason::BadAddress(Field::DstAddr),
            ),
            ("ACCEPT", "ALLOW", SkipReason::BadValue(Field::Action)),
            (" OK", " FINE", SkipReason::BadValue(Field::LogStatus)),
            (" 6 ", " 300 ", SkipReason::BadNumber(Field::Protocol)),
            ("4249", "4249 17", SkipReason::WrongFieldCount),
            (" ACCEPT OK", " ACCEPT", SkipReason::WrongFieldCount),
            // The count wins over a bad value: a short line is truncated, not damaged.
            ("20641 22", "x", SkipReason::WrongFieldCount),
        ];
        assert!(v2(ACCEPT_SSH).is_ok());
        for (from, to, reason) in cases {
            let line = ACCEPT_SSH.replacen(from, to, 1);
            assert_eq!(v2(&line), Err(reason), "{line}");
        }
        assert_eq!(v2(""), Err(SkipReason::WrongFieldCount));
    }

    #[test]
    fn dashes_are_absent_values() {
        let nodata =
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA";
        let record = v2(nodata).unwrap();
        assert_eq!(record.log_status, Some(LogStatus::NoData));
        assert_eq!(record.srcaddr, None);
        assert_eq!(record.bytes, None);
        assert_eq!(record.action, None);
        assert_eq!(record.start, Some(1431280876));
    }

    /// The straightforward reading (split on runs of spaces, then decode each value), which
    /// [`FlowRecord::parse`] must agree with on every line.
    fn reference<'a>(layout: &Layout, line: &'a str) -> Result<FlowRecord<'a>, SkipReason> {
        let mut record = FlowRecord::default();
        let mut columns = layout.columns().iter();
        let mut first_error = None;
        for token in crate::flowlogs::layout::tokens(line) {
            match columns.next() {
                None => return Err(SkipReason::WrongFieldCount),
                Some(Some(field)) if first_error.is_none() => {
                    if let Err(reason) = record.set(*field, token) {
                        first_error = Some(reason);
                    }
                }
                Some(_) => {}
            }
        }
        if columns.next().is_some() {
            return Err(SkipReason::WrongFieldCount);
        }
        first_error.map_or(Ok(record), Err)
    }

    #[test]
    fn one_pass_parsing_agrees_with_splitting_then_decoding() {
        let fixtures = [
            include_str!("../../../../tests/fixtures/vpcflow/default-v2.txt"),
            include_str!("../../../../tests/fixtures/vpcflow/tcp-flags-v3.txt"),
            include_str!("../../../../tests/fixtures/vpcflow/traffic-path-v5.txt"),
            include_str!("../../../../tests/fixtures/vpcflow/transit-gateway-v3.txt"),
        ];
        // Values that test every branch of the number and address scanners.
        let replacements = [
            "-",
            "0",
            "00",
            "01",
            "255",
            "256",
            "65535",
            "65536",
            "4294967296",
            "-1",
            "+1",
            "1e3",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "1.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1..3.4",
            ".1.2.3",
            "1.2.3.",
            "999.1.1.1",
            "1.2.3.1000",
            "::1",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "1.2.3.4:80",
            "ACCEPT",
            "OK",
            "x",
            "é",
            "egress",
            "\u{a0}",
            "1 2",
            "",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut checked = 0;
        for fixture in fixtures {
            let mut lines = fixture.lines();
            let layout = Layout::from_header(lines.next().unwrap()).unwrap();
            for line in lines {
                let values: Vec<&str> = line.split(' ').filter(|v| !v.is_empty()).collect();
                for _ in 0..400 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let mut changed = values.clone();
                    let column = (x % changed.len() as u64) as usize;
                    changed[column] =
                        replacements[((x >> 20) % replacements.len() as u64) as usize];
                    let separator = ["  ", " "][(x >> 40) as usize % 2];
                    let mut text = changed.join(if x >> 50 & 3 == 0 { separator } else { " " });
                    match (x >> 45) & 7 {
                        0 => text.insert(0, ' '),
                        1 => text.push(' '),
                        2 => {
                            let mut cut = text.len().saturating_sub(1 + (x >> 30) as usize % 4);
                            while !text.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            text.truncate(cut);
                        }
                        _ => {}
                    }
                    assert_eq!(
                        FlowRecord::parse(&layout, &text),
                        reference(&layout, &text),
                        "{text:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 5000);
    }

    #[test]
    fn numbers_read_eight_digits_at_a_time_agree_with_one_at_a_time() {
        // Every length of digit run, at every offset, followed by every kind of byte.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..=21 {
            for after in [
                None,
                Some(b' '),
                Some(b'x'),
                Some(b'-'),
                Some(0xff),
                Some(b'/'),
                Some(b':'),
            ] {
                for _ in 0..40 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let mut line: Vec<u8> = (0..len)
                        .map(|i| b'0' + ((x >> (i % 60)) % 10) as u8)
                        .collect();
                    line.extend(after);
                    line.extend_from_slice(b" 7 tail");
                    let expected = {
                        let end = line.iter().position(|b| *b == b' ').unwrap_or(line.len());
                        let token = &line[..end];
                        let plain =
                            token.iter().all(u8::is_ascii_digit) && (1..=19).contains(&token.len());
                        let value = plain
                            .then(|| token.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')));
                        (end, value)
                    };
                    assert_eq!(
                        scan_number(&line, 0),
                        expected,
                        "{:?}",
                        String::from_utf8_lossy(&line)
                    );
                }
            }
        }
        for word in [
            *b"12345678",
            *b"00000000",
            *b"99999999",
            *b"0/:9 123",
            *b"9\xfa123456",
        ] {
            let w = u64::from_le_bytes(word);
            let n = word.iter().take_while(|b| b.is_ascii_digit()).count();
            assert_eq!(leading_digits(w), n, "{word:?}");
        }
    }
}
