//! One flow-log record, parsed from a line without allocating: text fields borrow from the line,
//! numbers and addresses are decoded, `-` (not applicable) becomes `None`.

use super::error::SkipReason;
use super::field::Field;
use super::layout::{Layout, tokens};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// Whether the security groups and network ACLs let the traffic through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Accept,
    Reject,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "ACCEPT",
            Action::Reject => "REJECT",
        }
    }
}

/// The logging status of a record: `NODATA` (no traffic in the interval) and `SKIPDATA`
/// (records lost to capacity limits) carry no flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogStatus {
    Ok,
    NoData,
    SkipData,
}

/// Direction of a flow with respect to the monitored interface. Records carry only `Ingress`
/// and `Egress` (the v5 `flow-direction` field); `Unknown` is for aggregates whose direction
/// could not be decided (see [`super::direction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Ingress,
    Egress,
    Unknown,
}

impl Direction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
            Direction::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    pub fn parse(layout: &Layout, line: &'a str) -> Result<Self, SkipReason> {
        let mut record = FlowRecord::default();
        let mut columns = layout.columns().iter();
        let mut first_error = None;
        for token in tokens(line) {
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
        match first_error {
            None => Ok(record),
            Some(reason) => Err(reason),
        }
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
                self.action = Some(match token {
                    "ACCEPT" => Action::Accept,
                    "REJECT" => Action::Reject,
                    _ => return Err(SkipReason::BadValue(field)),
                })
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
                self.flow_direction = Some(match token {
                    "ingress" => Direction::Ingress,
                    "egress" => Direction::Egress,
                    _ => return Err(SkipReason::BadValue(field)),
                })
            }
            Field::TrafficPath => self.traffic_path = Some(number(field, token)?),
        }
        Ok(())
    }
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
            assert_eq!(
                ipv4(case.as_bytes()),
                case.parse::<Ipv4Addr>().ok(),
                "{case:?}"
            );
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
}
