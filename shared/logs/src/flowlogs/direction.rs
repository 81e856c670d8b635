//! Which side of a flow is local (the monitored interface) and which is remote.
//!
//! A flow-log record says "source" and "destination", but triage asks "what did this instance
//! talk to": for an aggregate to answer that, the interface's own side must be known. The rules,
//! first match wins:
//!
//! 1. **`flow-direction`** (v5) when logged: `ingress` means the destination is local, `egress`
//!    the source. This is AWS's own answer.
//! 2. **Packet addresses** (v3 `pkt-srcaddr` / `pkt-dstaddr`): when exactly one of `srcaddr`,
//!    `dstaddr` differs from its packet-level twin, that field shows the interface's own primary
//!    address in place of the packet's (`flow-logs.md`, limitations): `srcaddr` rewritten means
//!    egress, `dstaddr` rewritten means ingress. This decides NAT and transit gateway
//!    interfaces and EKS pods.
//! 3. **Address scope**: when exactly one side is internal (RFC 1918, the 100.64.0.0/10 shared
//!    range a VPC may use, IPv4 link-local, IPv6 unique local `fc00::/7` or link-local) the
//!    internal side is local. The interface's address in `srcaddr`/`dstaddr` is always its
//!    private address, so traffic with the internet is decided here.
//! 4. **The interface's address seen earlier in the object**: each record decided by rules 1 to
//!    3 teaches the aggregator the local address of its `interface-id`; a later record between
//!    two internal addresses where exactly one is that address is decided by it.
//! 5. **Otherwise** the direction is [`Direction::Unknown`] and the service side (by the port
//!    rule of [`super::service`]; the destination when the ports name no end, as for ICMP) is
//!    called local: a request and its response then land in the same aggregate, and the row
//!    reads "this host's service was used by that one", which is right whenever the monitored
//!    interface is the server.
//!
//! Limits. Rule 3 fails for a VPC whose CIDR is public address space (it then falls through to
//! rules 4 and 5), and decides nothing for IPv6, whose VPC addresses are global. Rule 4 depends
//! on record order within an object, and learns one address per interface and IP version, so
//! secondary addresses fall through to rule 5. Rule 5 is a guess: an instance that is a *client*
//! of another internal host, in an object where its own address was never decided, is recorded
//! with the server as "local"; consumers must read `Unknown` aggregates as "one of these two
//! sides" and match a finding's address against both.
//!
//! Once the sides are known, the service port (see [`super::service`]) is placed on one of them:
//! [`Sides::service`] says whether the interface listened or reached out.

use super::record::FlowRecord;
use super::service::{self, End, Service};
use std::net::IpAddr;
use triage_domain::traffic::{Direction, ServiceSide};

/// The local and remote sides of one flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sides {
    pub local: IpAddr,
    pub remote: IpAddr,
    /// The service port of the flow, whichever side it is on (0 for protocols without ports, as
    /// ICMP).
    pub service_port: u16,
    /// Which side listens on [`Sides::service_port`].
    pub service: ServiceSide,
    pub direction: Direction,
    pub basis: Basis,
}

/// Which rule decided the sides, numbered as in the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    FlowDirection,
    PacketAddress,
    AddressScope,
    InterfaceAddress,
    /// Rule 5: the service side is called local.
    LowerPort,
}

impl Basis {
    /// Whether the decision is certain enough to teach the interface's own address (rule 4).
    pub fn teaches_interface_address(self) -> bool {
        matches!(
            self,
            Basis::FlowDirection | Basis::PacketAddress | Basis::AddressScope
        )
    }
}

/// Decide the sides of a record, `None` when it lacks an address. `is_interface_address` says
/// whether an address is already known to be the interface's own (rule 4; `|_| false` when
/// nothing is known).
pub fn resolve(
    record: &FlowRecord<'_>,
    is_interface_address: impl Fn(IpAddr) -> bool,
) -> Option<Sides> {
    let (src, dst) = (record.srcaddr?, record.dstaddr?);
    let Service { port, end } =
        service::service(record.protocol.unwrap_or(0), record.srcport, record.dstport);
    let sides = |src_is_local: bool, basis| {
        let (local, remote, direction) = if src_is_local {
            (src, dst, Direction::Egress)
        } else {
            (dst, src, Direction::Ingress)
        };
        let service = match end {
            None => ServiceSide::Neither,
            Some(End::Source) if src_is_local => ServiceSide::Local,
            Some(End::Destination) if !src_is_local => ServiceSide::Local,
            Some(_) => ServiceSide::Remote,
        };
        Sides {
            local,
            remote,
            service_port: port,
            service,
            direction,
            basis,
        }
    };
    let by_sides =
        |src_is_local: bool, dst_is_local: bool, basis| match (src_is_local, dst_is_local) {
            (true, false) => Some(sides(true, basis)),
            (false, true) => Some(sides(false, basis)),
            _ => None,
        };

    match record.flow_direction {
        Some(Direction::Ingress) => return Some(sides(false, Basis::FlowDirection)),
        Some(Direction::Egress) => return Some(sides(true, Basis::FlowDirection)),
        Some(Direction::Unknown) | None => {}
    }
    let src_rewritten = record.pkt_srcaddr.is_some_and(|pkt| pkt != src);
    let dst_rewritten = record.pkt_dstaddr.is_some_and(|pkt| pkt != dst);
    let decided = by_sides(src_rewritten, dst_rewritten, Basis::PacketAddress)
        .or_else(|| by_sides(is_internal(src), is_internal(dst), Basis::AddressScope))
        .or_else(|| {
            by_sides(
                is_interface_address(src),
                is_interface_address(dst),
                Basis::InterfaceAddress,
            )
        });
    if decided.is_some() {
        return decided;
    }
    let mut guess = sides(end == Some(End::Source), Basis::LowerPort);
    guess.direction = Direction::Unknown;
    Some(guess)
}

/// Whether an address belongs to a private range a VPC interface can have (rule 3).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || v4.is_link_local() || (a == 100 && (b & 0xc0) == 64)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            None => v6.is_unique_local() || v6.is_unicast_link_local(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flowlogs::layout::Layout;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn fixture_records<'a>(text: &'a str) -> Vec<Result<FlowRecord<'a>, String>> {
        let mut lines = text.lines();
        let layout = Layout::from_header(lines.next().unwrap()).unwrap();
        lines
            .map(|l| FlowRecord::parse(&layout, l).map_err(|_| l.to_owned()))
            .collect()
    }

    /// Local address, service port, remote address, direction, basis.
    fn sides_of(record: &FlowRecord<'_>) -> (IpAddr, u16, IpAddr, Direction, Basis) {
        let s = resolve(record, |_| false).unwrap();
        (s.local, s.service_port, s.remote, s.direction, s.basis)
    }

    fn service_of(record: &FlowRecord<'_>) -> ServiceSide {
        resolve(record, |_| false).unwrap().service
    }

    #[test]
    fn internal_ranges() {
        for internal in [
            "10.1.2.3",
            "172.31.16.139",
            "192.168.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.1.1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip(internal)), "{internal}");
        }
        for public in [
            "203.0.113.12",
            "52.95.128.179",
            "100.128.0.1",
            "172.32.0.1",
            "2001:db8:1234:a100:8d6e:3477:df66:f105",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip(public)), "{public}");
        }
    }

    #[test]
    fn flow_direction_decides_when_logged() {
        let text = include_str!("../../../../tests/fixtures/vpcflow/traffic-path-v5.txt");
        let records = fixture_records(text);
        let ingress = records[0].as_ref().unwrap();
        let egress = records[1].as_ref().unwrap();
        // The instance's connection from 34210 to S3 on port 80: keyed on S3's port, which
        // is on the remote side, both ways.
        assert_eq!(
            sides_of(ingress),
            (
                ip("10.0.0.71"),
                80,
                ip("52.95.128.179"),
                Direction::Ingress,
                Basis::FlowDirection
            )
        );
        assert_eq!(
            sides_of(egress),
            (
                ip("10.0.0.71"),
                80,
                ip("52.95.128.179"),
                Direction::Egress,
                Basis::FlowDirection
            )
        );
        assert_eq!(service_of(ingress), ServiceSide::Remote);
        assert_eq!(service_of(egress), ServiceSide::Remote);
    }

    #[test]
    fn packet_addresses_decide_for_nat_and_transit_gateway_interfaces() {
        let nat = fixture_records(include_str!(
            "../../../../tests/fixtures/vpcflow/nat-gateway.txt"
        ));
        // Instance -> NAT interface (10.0.0.220), bound for the internet: arrives at the NAT.
        let to_nat = nat[0].as_ref().unwrap();
        assert_eq!(sides_of(to_nat).0, ip("10.0.0.220"));
        assert_eq!(sides_of(to_nat).3, Direction::Ingress);
        assert_eq!(sides_of(to_nat).4, Basis::PacketAddress);
        // NAT -> internet host: decided by scope.
        let out = nat[1].as_ref().unwrap();
        assert_eq!(sides_of(out).0, ip("10.0.0.220"));
        assert_eq!(
            (sides_of(out).3, sides_of(out).4),
            (Direction::Egress, Basis::AddressScope)
        );
        // NAT -> instance, answering for the internet host: leaves the NAT.
        let back = nat[3].as_ref().unwrap();
        assert_eq!(sides_of(back).0, ip("10.0.0.220"));
        assert_eq!(
            (sides_of(back).3, sides_of(back).4),
            (Direction::Egress, Basis::PacketAddress)
        );
        // The two annotated lines of the page are not records.
        assert!(nat[4].is_err() && nat[5].is_err());

        let tgw = fixture_records(include_str!(
            "../../../../tests/fixtures/vpcflow/transit-gateway-v3.txt"
        ));
        // eni-111 (transit gateway, 10.40.1.175) forwards the client's request to the server.
        let request = tgw[3].as_ref().unwrap();
        assert_eq!(request.interface_id, Some("eni-11111111111111111"));
        assert_eq!(sides_of(request).0, ip("10.40.1.175"));
        assert_eq!(sides_of(request).3, Direction::Egress);
        // eni-222 (transit gateway, 10.40.2.31) receives the response for the client.
        let response = tgw[4].as_ref().unwrap();
        assert_eq!(sides_of(response).0, ip("10.40.2.31"));
        assert_eq!(sides_of(response).3, Direction::Ingress);
    }

    #[test]
    fn scope_decides_internet_traffic_both_ways() {
        let records = fixture_records(include_str!(
            "../../../../tests/fixtures/vpcflow/default-v2.txt"
        ));
        let ping_in = records[4].as_ref().unwrap();
        let reply_out = records[5].as_ref().unwrap();
        assert_eq!(
            sides_of(ping_in),
            (
                ip("172.31.16.139"),
                0,
                ip("203.0.113.12"),
                Direction::Ingress,
                Basis::AddressScope
            )
        );
        assert_eq!(
            sides_of(reply_out),
            (
                ip("172.31.16.139"),
                0,
                ip("203.0.113.12"),
                Direction::Egress,
                Basis::AddressScope
            )
        );
        assert_eq!(service_of(ping_in), ServiceSide::Neither);
    }

    #[test]
    fn internal_to_internal_uses_the_known_address_else_the_lower_port() {
        let records = fixture_records(include_str!(
            "../../../../tests/fixtures/vpcflow/default-v2.txt"
        ));
        let ssh = records[0].as_ref().unwrap();
        // Nothing known: the SSH server side (port 22) is called local, direction unknown.
        assert_eq!(
            sides_of(ssh),
            (
                ip("172.31.16.21"),
                22,
                ip("172.31.16.139"),
                Direction::Unknown,
                Basis::LowerPort
            )
        );
        assert_eq!(service_of(ssh), ServiceSide::Local);
        // The interface is known to be the client: it is the local side, egress, and the
        // service it reached is port 22 on the remote side (never its own port 20641).
        let known = resolve(ssh, |a| a == ip("172.31.16.139")).unwrap();
        assert_eq!(
            (
                known.local,
                known.service_port,
                known.service,
                known.direction,
                known.basis
            ),
            (
                ip("172.31.16.139"),
                22,
                ServiceSide::Remote,
                Direction::Egress,
                Basis::InterfaceAddress
            )
        );
        // IPv6 documentation addresses are global: no scope rule, the service side again.
        let v6 = records[6].as_ref().unwrap();
        assert_eq!(sides_of(v6).0, ip("2001:db8:1234:a102:3304:8879:34cf:4071"));
        assert_eq!(sides_of(v6).1, 22);
        // The TCP flag example's server answers from port 5001 to a public client: scope.
        let tcp = fixture_records(include_str!(
            "../../../../tests/fixtures/vpcflow/tcp-flags-v3.txt"
        ));
        for record in tcp.iter().map(|r| r.as_ref().unwrap()) {
            let s = sides_of(record);
            assert_eq!(
                (s.0, s.1, s.2),
                (ip("10.0.0.62"), 5001, ip("52.213.180.42"))
            );
            assert_eq!(service_of(record), ServiceSide::Local);
        }
        // NODATA has no addresses.
        assert!(resolve(records[2].as_ref().unwrap(), |_| false).is_none());
    }
}
