//! Source addresses: one canonical spelling per IP, and the network it belongs to.
//!
//! `sourceIPAddress` is an IPv4 or IPv6 address, or the name of an AWS service. Baselines
//! compare values as text, so an address must always be spelled the same way: IPv6 in its
//! compressed lower-case form, and IPv4 without the leading zeros that anonymised datasets
//! (Stratus Red Team: `253.252.51.07`) contain and that `std` refuses. Networks (/24 for IPv4,
//! /48 for IPv6, the usual allocation to one site) let "new network" differ from "new address"
//! for principals on dynamic addresses.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Prefix length of the IPv4 network recorded in baselines.
pub const IPV4_NETWORK_BITS: u8 = 24;
/// Prefix length of the IPv6 network recorded in baselines.
pub const IPV6_NETWORK_BITS: u8 = 48;

/// The address in `raw`, accepting IPv4 octets with leading zeros (read as decimal).
pub fn parse_ip(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip);
    }
    let mut octets = [0u8; 4];
    let mut parts = raw.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts
        .next()
        .is_none()
        .then(|| IpAddr::V4(Ipv4Addr::from(octets)))
}

/// The canonical spelling of a source: the address as `std` prints it, or the text unchanged
/// when it is not an address (an AWS service name). Borrows in the common case.
pub fn normalize_source(raw: &str) -> Cow<'_, str> {
    // `std` accepts only canonical IPv4, so an address it parses is already spelled right.
    if raw.parse::<Ipv4Addr>().is_ok() {
        return Cow::Borrowed(raw);
    }
    match parse_ip(raw) {
        Some(ip) => {
            let canonical = ip.to_string();
            if canonical == raw {
                Cow::Borrowed(raw)
            } else {
                Cow::Owned(canonical)
            }
        }
        None => Cow::Borrowed(raw),
    }
}

/// The network of an address, as `a.b.c.0/24` or `x:y:z::/48`.
pub fn network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/{IPV4_NETWORK_BITS}")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/{IPV6_NETWORK_BITS}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymised_addresses_with_leading_zeros_are_read_as_decimal() {
        assert_eq!(normalize_source("253.252.51.07"), "253.252.51.7");
        assert_eq!(normalize_source("035.249.253.232"), "35.249.253.232");
        assert!(matches!(
            normalize_source("18.236.253.47"),
            Cow::Borrowed(_)
        ));
        assert_eq!(normalize_source("2001:DB8:0:0::1"), "2001:db8::1");
        assert_eq!(normalize_source("ec2.amazonaws.com"), "ec2.amazonaws.com");
        assert_eq!(parse_ip("1.2.3"), None);
        assert_eq!(parse_ip("1.2.3.4.5"), None);
        assert_eq!(parse_ip("1.2.3.256"), None);
        assert_eq!(parse_ip("AWS Internal"), None);
    }

    #[test]
    fn networks_are_slash_24_and_slash_48() {
        assert_eq!(network(parse_ip("225.01.00.16").unwrap()), "225.1.0.0/24");
        assert_eq!(
            network(parse_ip("2001:db8:1:2::7").unwrap()),
            "2001:db8:1::/48"
        );
    }
}
