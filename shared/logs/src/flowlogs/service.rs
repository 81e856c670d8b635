//! Which end of a flow is the service (the listening port) and which the client.
//!
//! Aggregates are keyed on the service port, never on the client's: a client picks a new
//! ephemeral port for every connection, so keying on it makes every connection its own
//! aggregate (one write per connection for an instance that only browses the web), while the
//! service port is the same for every connection to the service and is what triage asks about
//! ("what reached port 22", "what did this instance connect to on 4444"). Flow logs do not say
//! which end opened the connection, so it is read from the ports, most telling first:
//!
//! 1. **No ports**: ICMP and every protocol other than TCP, UDP, SCTP, DCCP and UDP-Lite has none
//!    (AWS writes 0), so the service port is 0 and neither end is the service.
//! 2. **A well-known port (0-1023) against any other**: ports below 1024 are assigned to
//!    services and no client system picks one as its source port.
//! 3. **A common service port among the registered ones against any other registered or
//!    ephemeral port** ([`SERVICE_PORTS`]): the ports of the databases, remote desktops and
//!    cluster APIs that findings name. Needed because some clients pick source ports below the
//!    usual ephemeral ranges: NAT gateways, load balancers and Lambda use 1024-65535 (Amazon VPC
//!    documentation, network ACLs, "Ephemeral ports"), so a NAT gateway's connection to
//!    PostgreSQL may come from port 2000, below 5432.
//! 4. **A registered port (1024-32767) against an ephemeral one (32768-65535)**: 32768 is where
//!    the ephemeral ranges of Linux (32768-60999) and Windows and IANA (49152-65535) start, so
//!    nearly every client port is above it and most server ports below.
//! 5. **Otherwise** (both well-known, both listed, both registered or both ephemeral) the lower
//!    port: services cluster at low numbers, clients spread over the high ones. The same port at
//!    both ends (NTP's 123 to 123, a peer-to-peer protocol) names no end: either could be the
//!    service, and the port is the same.
//!
//! The rule reads the ports of a record only, so the request and the response of one connection
//! (source and destination swapped) always agree on the service port: they land in one aggregate
//! per direction. Limits: a service on an ephemeral port talking to a client whose port is lower
//! (rule 5), or an unlisted registered service reached from a NAT gateway port below it, is keyed
//! on the client's port; its connections then make one aggregate each, as every connection did
//! before this rule, and the row still names both addresses.

/// The end of a record that is the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum End {
    Source,
    Destination,
}

/// The service port of a flow, and which end of the record it is on (`None` for protocols
/// without ports and for the same port at both ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Service {
    pub port: u16,
    pub end: Option<End>,
}

/// Registered ports (1024-32767) of services that findings and attacks name, so that a client
/// port below them (from a NAT gateway or load balancer) does not win rule 5: SQL Server 1433,
/// Oracle 1521, NFS 2049, Docker 2375/2376, etcd 2379, MySQL 3306, RDP 3389, PostgreSQL 5432,
/// Redshift 5439, Kibana 5601, VNC 5900, WinRM 5985/5986, Redis 6379, Kubernetes API 6443,
/// HTTP alternates 8000/8080/8443/8888, Elasticsearch 9200, kubelet 10250, memcached 11211,
/// MongoDB 27017. Sorted, for the binary search.
pub const SERVICE_PORTS: [u16; 24] = [
    1433, 1521, 2049, 2375, 2376, 2379, 3306, 3389, 5432, 5439, 5601, 5900, 5985, 5986, 6379, 6443,
    8000, 8080, 8443, 8888, 9200, 10250, 11211, 27017,
];

/// First port of the ephemeral ranges of Linux and Windows (rule 4).
pub const EPHEMERAL_START: u16 = 32768;

/// Whether a protocol (IANA number) carries ports: TCP, UDP, DCCP, SCTP, UDP-Lite.
pub fn has_ports(protocol: u8) -> bool {
    matches!(protocol, 6 | 17 | 33 | 132 | 136)
}

/// The service end of a flow with these ports (`None` when absent, as `-`), by the rules of the
/// module documentation.
pub fn service(protocol: u8, src_port: Option<u16>, dst_port: Option<u16>) -> Service {
    let none = Service { port: 0, end: None };
    if !has_ports(protocol) {
        return none;
    }
    let (src, dst) = match (src_port, dst_port) {
        (Some(src), Some(dst)) => (src, dst),
        // One port logged: it is all we know of the flow's ports.
        (Some(port), None) => {
            return Service {
                port,
                end: Some(End::Source),
            };
        }
        (None, Some(port)) => {
            return Service {
                port,
                end: Some(End::Destination),
            };
        }
        (None, None) => return none,
    };
    if src == dst {
        return Service {
            port: src,
            end: None,
        };
    }
    let source_serves = match rank(src).cmp(&rank(dst)) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => src < dst,
    };
    if source_serves {
        Service {
            port: src,
            end: Some(End::Source),
        }
    } else {
        Service {
            port: dst,
            end: Some(End::Destination),
        }
    }
}

/// How likely a port is to be the service: lower is likelier (rules 2 to 4).
fn rank(port: u16) -> u8 {
    if port < 1024 {
        0
    } else if port < EPHEMERAL_START && SERVICE_PORTS.binary_search(&port).is_ok() {
        1
    } else if port < EPHEMERAL_START {
        2
    } else {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flowlogs::layout::Layout;
    use crate::flowlogs::record::FlowRecord;

    fn of(record: &FlowRecord<'_>) -> Service {
        service(record.protocol.unwrap(), record.srcport, record.dstport)
    }

    fn records(text: &str) -> Vec<FlowRecord<'_>> {
        let mut lines = text.lines();
        let layout = Layout::from_header(lines.next().unwrap()).unwrap();
        lines
            .filter_map(|l| FlowRecord::parse(&layout, l).ok())
            .filter(|r| r.protocol.is_some())
            .collect()
    }

    const fn at(port: u16, end: End) -> Service {
        Service {
            port,
            end: Some(end),
        }
    }

    #[test]
    fn the_documentation_examples_are_keyed_on_their_service() {
        use End::*;
        let default = records(include_str!(
            "../../../../tests/fixtures/vpcflow/default-v2.txt"
        ));
        // SSH from 20641: a client port below the ephemeral ranges, still not well-known.
        assert_eq!(of(&default[0]), at(22, Destination));
        // RDP from 49761: a listed service port against an ephemeral one.
        assert_eq!(of(&default[1]), at(3389, Destination));
        // The ping and its reply: ICMP has no ports.
        let icmp = Service { port: 0, end: None };
        assert_eq!((of(&default[2]), of(&default[3])), (icmp, icmp));
        // IPv6 SSH from 34892.
        assert_eq!(of(&default[4]), at(22, Destination));

        // The TCP flag example: a server on 5001 (registered, unlisted) answering clients on
        // 43416, 43418 and 43638 (Linux ephemeral range), both directions.
        let tcp = records(include_str!(
            "../../../../tests/fixtures/vpcflow/tcp-flags-v3.txt"
        ));
        assert_eq!(tcp.len(), 8);
        for record in &tcp {
            let expected = if record.srcport == Some(5001) {
                at(5001, Source)
            } else {
                at(5001, Destination)
            };
            assert_eq!(of(record), expected);
        }

        // The v5 example: an instance's connection from 34210 to S3 on 80, and its response.
        let v5 = records(include_str!(
            "../../../../tests/fixtures/vpcflow/traffic-path-v5.txt"
        ));
        assert_eq!(of(&v5[0]), at(80, Source));
        assert_eq!(of(&v5[1]), at(80, Destination));

        // The transit gateway example: HTTP from 39812, through every hop.
        let tgw = records(include_str!(
            "../../../../tests/fixtures/vpcflow/transit-gateway-v3.txt"
        ));
        assert_eq!(tgw.len(), 4);
        for record in &tgw {
            assert_eq!(of(record).port, 80);
        }
    }

    #[test]
    fn rules_in_order() {
        use End::*;
        let tcp = |src, dst| service(6, Some(src), Some(dst));
        // 2: well-known beats anything, even a lower registered port.
        assert_eq!(tcp(1500, 443), at(443, Destination));
        assert_eq!(tcp(53, 60000), at(53, Source));
        // 3: a listed service port beats a lower unlisted registered port (a NAT gateway's
        // client port) and any ephemeral one.
        assert_eq!(tcp(2000, 5432), at(5432, Destination));
        assert_eq!(tcp(3306, 1100), at(3306, Source));
        assert_eq!(tcp(50000, 27017), at(27017, Destination));
        // 4: registered beats ephemeral.
        assert_eq!(tcp(45000, 5001), at(5001, Destination));
        assert_eq!(tcp(32767, 32768), at(32767, Source));
        // 5: the lower port within a class.
        assert_eq!(tcp(22, 80), at(22, Source));
        assert_eq!(tcp(9000, 2000), at(2000, Destination));
        assert_eq!(tcp(61000, 50000), at(50000, Destination));
        assert_eq!(tcp(8080, 3306), at(3306, Destination));
        // The same port at both ends names no end.
        assert_eq!(
            service(17, Some(123), Some(123)),
            Service {
                port: 123,
                end: None
            }
        );
        // Request and response agree whatever the ports.
        for (a, b) in [
            (22, 20641),
            (5001, 43416),
            (2000, 5432),
            (61000, 50000),
            (0, 80),
        ] {
            let forward = tcp(a, b);
            let back = tcp(b, a);
            assert_eq!(forward.port, back.port);
            assert_ne!(forward.end, back.end);
        }
    }

    #[test]
    fn protocols_without_ports_and_missing_ports() {
        // ICMP, ICMPv6, GRE, ESP: port 0 whatever the record shows.
        for protocol in [1, 58, 47, 50] {
            assert_eq!(
                service(protocol, Some(8), Some(0)),
                Service { port: 0, end: None }
            );
        }
        assert_eq!(service(6, None, None), Service { port: 0, end: None });
        assert_eq!(service(17, None, Some(53)), at(53, End::Destination));
        assert_eq!(service(132, Some(3868), Some(40000)).port, 3868);
        assert!(SERVICE_PORTS.is_sorted());
        assert!(
            SERVICE_PORTS
                .iter()
                .all(|p| (1024..EPHEMERAL_START).contains(p))
        );
    }
}
