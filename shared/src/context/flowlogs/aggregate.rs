//! Compacting records into aggregates: one per time bucket and per (interface, local address,
//! remote address, local port, protocol, direction, action), with packet, byte and flow counts
//! and the first and last time seen.
//!
//! This is where the write count is decided: the remote port (ephemeral on one side of every
//! connection) and the individual capture windows are dropped, so an instance talking to the
//! same few hosts costs a few items per ten minutes, however many records its traffic makes. The key holds both the
//! interface ID and the local address, because a finding names both (an ENI and its private
//! IPs) and an interface has few addresses, so keeping both costs few extra aggregates.
//!
//! The per-record path does not allocate: the key is a small `Copy` struct, and interface IDs
//! are interned once per object (an object covers few interfaces).

use super::direction;
use super::error::SkipReason;
use super::field::Field;
use super::reader::Entry;
use super::record::{Action, Direction, FlowRecord, LogStatus};
use super::summary::Summary;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Width of the time buckets, aligned to the Unix epoch (so buckets of different objects and
/// functions line up and their aggregates can be merged by key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BucketWidth(NonZeroU32);

impl BucketWidth {
    /// Ten minutes: the default maximum aggregation interval of a flow log, so a bucket holds
    /// whole capture windows.
    pub const TEN_MINUTES: BucketWidth = BucketWidth(NonZeroU32::new(600).unwrap());

    /// A width in seconds; `None` for zero.
    pub fn from_secs(secs: u32) -> Option<Self> {
        NonZeroU32::new(secs).map(BucketWidth)
    }

    pub fn secs(self) -> u32 {
        self.0.get()
    }

    /// Start of the bucket holding `time` (Unix seconds).
    pub fn start_of(self, time: i64) -> i64 {
        time - time.rem_euclid(i64::from(self.secs()))
    }
}

impl Default for BucketWidth {
    fn default() -> Self {
        BucketWidth::TEN_MINUTES
    }
}

/// Marks a key without `interface-id` (a custom format that does not log it).
const NO_INTERFACE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    bucket_start: i64,
    interface: u32,
    local: IpAddr,
    remote: IpAddr,
    local_port: u16,
    protocol: u8,
    direction: Direction,
    action: Action,
}

/// Hashed as four or six words rather than field by field: the hash is the bulk of the cost of
/// adding a record to the map.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.bucket_start as u64);
        state.write_u64(
            (u64::from(self.interface) << 32)
                | (u64::from(self.local_port) << 16)
                | (u64::from(self.protocol) << 8)
                | ((self.direction as u64) << 4)
                | self.action as u64,
        );
        hash_address(self.local, state);
        hash_address(self.remote, state);
    }
}

fn hash_address<H: Hasher>(address: IpAddr, state: &mut H) {
    match address {
        IpAddr::V4(v4) => state.write_u64(u64::from(v4.to_bits())),
        IpAddr::V6(v6) => {
            let bits = v6.to_bits();
            state.write_u64(bits as u64);
            state.write_u64((bits >> 64) as u64);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Totals {
    packets: u64,
    bytes: u64,
    flows: u64,
    first_start: i64,
    last_end: i64,
    tcp_flags: u8,
}

/// One aggregate, as a consumer (the DynamoDB writer, a dry run) reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowAggregate<'a> {
    /// Start of the time bucket (Unix seconds); a record belongs to the bucket of its `start`.
    pub bucket_start: i64,
    /// The interface the records were captured on, when the format logs it.
    pub interface_id: Option<&'a str>,
    pub local_addr: IpAddr,
    pub remote_addr: IpAddr,
    /// The port on the local side (0 for protocols without ports).
    pub local_port: u16,
    pub protocol: u8,
    pub direction: Direction,
    pub action: Action,
    pub packets: u64,
    pub bytes: u64,
    /// Number of records (one per flow and capture window).
    pub flows: u64,
    /// Earliest `start` among the records (Unix seconds).
    pub first_start: i64,
    /// Latest `end` among the records (Unix seconds).
    pub last_end: i64,
    /// The TCP flags seen, OR-ed (FIN 1, SYN 2, RST 4, SYN-ACK 18; 0 when the format has no
    /// `tcp-flags`): SYNs one way with no SYN-ACK the other way are attempts nobody answered.
    pub tcp_flags: u8,
}

/// The aggregates of one object (or of several, pushed through one [`Aggregator`]).
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    map: HashMap<Key, Totals, KeyedState>,
    interfaces: Vec<Box<str>>,
}

impl Aggregates {
    /// Number of distinct aggregates.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The aggregates, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = FlowAggregate<'_>> {
        self.map.iter().map(|(key, totals)| FlowAggregate {
            bucket_start: key.bucket_start,
            interface_id: self.interfaces.get(key.interface as usize).map(|s| &**s),
            local_addr: key.local,
            remote_addr: key.remote,
            local_port: key.local_port,
            protocol: key.protocol,
            direction: key.direction,
            action: key.action,
            packets: totals.packets,
            bytes: totals.bytes,
            flows: totals.flows,
            first_start: totals.first_start,
            last_end: totals.last_end,
            tcp_flags: totals.tcp_flags,
        })
    }

    /// The aggregates sorted by bucket, interface, addresses, port, protocol, direction and
    /// action: a deterministic order for output and tests.
    pub fn sorted(&self) -> Vec<FlowAggregate<'_>> {
        let mut all: Vec<_> = self.iter().collect();
        all.sort_unstable();
        all
    }
}

/// The aggregate map's hasher: foldhash (what hashbrown uses), because SipHash, the standard
/// library's default, costs more than the rest of adding a record. Its seed is random per
/// process, so whoever chooses remote addresses and ports (a scanner, spoofed sources) cannot
/// aim for collisions without seeing hashes, which never leave the process.
type KeyedState = foldhash::fast::RandomState;

/// Builds [`Aggregates`] and the [`Summary`] from entries, one at a time.
#[derive(Debug, Default)]
pub struct Aggregator {
    bucket: BucketWidth,
    aggregates: Aggregates,
    interface_index: HashMap<Box<str>, u32>,
    /// The last interface seen: consecutive records often share it, and a comparison is cheaper
    /// than a lookup.
    last_interface: Option<u32>,
    /// Per interface index, its local IPv4 and IPv6 address as decided so far (direction rule 4).
    learned: Vec<[Option<IpAddr>; 2]>,
    summary: Summary,
}

impl Aggregator {
    pub fn new(bucket: BucketWidth) -> Self {
        Aggregator {
            bucket,
            ..Aggregator::default()
        }
    }

    /// Count an entry, and add its record to an aggregate when it carries a flow.
    pub fn push(&mut self, entry: &Entry<'_>) {
        self.summary.records += 1;
        let outcome = match &entry.parsed {
            Ok(record) => self.add(record),
            Err(reason) => Err(*reason),
        };
        match outcome {
            Ok(Added::Flow(direction)) => {
                self.summary.aggregated += 1;
                if direction == Direction::Unknown {
                    self.summary.unknown_direction += 1;
                }
            }
            Ok(Added::NoData) => self.summary.nodata += 1,
            Ok(Added::SkipData) => self.summary.skipdata += 1,
            Err(reason) => self.summary.skip(entry.line, reason),
        }
    }

    /// The aggregates and the summary of everything pushed.
    pub fn finish(self) -> (Aggregates, Summary) {
        let mut summary = self.summary;
        summary.aggregates = self.aggregates.len();
        (self.aggregates, summary)
    }

    fn add(&mut self, record: &FlowRecord<'_>) -> Result<Added, SkipReason> {
        match record.log_status {
            Some(LogStatus::NoData) => return Ok(Added::NoData),
            Some(LogStatus::SkipData) => return Ok(Added::SkipData),
            Some(LogStatus::Ok) | None => {}
        }
        let missing = SkipReason::Missing;
        record.srcaddr.ok_or(missing(Field::SrcAddr))?;
        record.dstaddr.ok_or(missing(Field::DstAddr))?;
        let protocol = record.protocol.ok_or(missing(Field::Protocol))?;
        let packets = record.packets.ok_or(missing(Field::Packets))?;
        let bytes = record.bytes.ok_or(missing(Field::Bytes))?;
        let start = record.start.ok_or(missing(Field::Start))?;
        let end = record.end.ok_or(missing(Field::End))?;
        let action = record.action.ok_or(missing(Field::Action))?;

        let interface = match record.interface_id {
            Some(id) => self.intern(id),
            None => NO_INTERFACE,
        };
        let learned = self
            .learned
            .get(interface as usize)
            .copied()
            .unwrap_or_default();
        let sides = direction::resolve(record, |ip| learned.contains(&Some(ip)))
            .ok_or(missing(Field::SrcAddr))?;
        if sides.basis.teaches_interface_address()
            && let Some(slot) = self.learned.get_mut(interface as usize)
        {
            slot[usize::from(sides.local.is_ipv6())] = Some(sides.local);
        }

        let key = Key {
            bucket_start: self.bucket.start_of(start),
            interface,
            local: sides.local,
            remote: sides.remote,
            local_port: sides.local_port,
            protocol,
            direction: sides.direction,
            action,
        };
        let totals = self.aggregates.map.entry(key).or_insert(Totals {
            packets: 0,
            bytes: 0,
            flows: 0,
            first_start: start,
            last_end: end,
            tcp_flags: 0,
        });
        totals.packets = totals.packets.saturating_add(packets);
        totals.bytes = totals.bytes.saturating_add(bytes);
        totals.flows += 1;
        totals.first_start = totals.first_start.min(start);
        totals.last_end = totals.last_end.max(end);
        totals.tcp_flags |= record.tcp_flags.unwrap_or(0);
        Ok(Added::Flow(sides.direction))
    }

    /// The index of an interface ID, allocating only the first time the ID is seen.
    fn intern(&mut self, id: &str) -> u32 {
        let names = &mut self.aggregates.interfaces;
        if let Some(last) = self.last_interface
            && names.get(last as usize).is_some_and(|name| **name == *id)
        {
            return last;
        }
        let index = match self.interface_index.get(id) {
            Some(index) => *index,
            None => {
                // More than four billion interfaces in one object cannot happen; if it did, the
                // extra ones would be keyed by address only.
                let Ok(index) = u32::try_from(names.len()) else {
                    return NO_INTERFACE;
                };
                if index == NO_INTERFACE {
                    return NO_INTERFACE;
                }
                names.push(id.into());
                self.learned.push([None, None]);
                self.interface_index.insert(id.into(), index);
                index
            }
        };
        self.last_interface = Some(index);
        index
    }
}

enum Added {
    Flow(Direction),
    NoData,
    SkipData,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::flowlogs::layout::Layout;

    const DEFAULT_V2: &str = include_str!("../../../../tests/fixtures/vpcflow/default-v2.txt");
    const TCP_FLAGS_V3: &str = include_str!("../../../../tests/fixtures/vpcflow/tcp-flags-v3.txt");

    /// Aggregate the lines of a fixture text (header first).
    fn aggregate(text: &str, bucket: BucketWidth) -> (Aggregates, Summary) {
        let mut lines = text.lines();
        let layout = Layout::from_header(lines.next().unwrap()).unwrap();
        let mut aggregator = Aggregator::new(bucket);
        for (i, line) in lines.enumerate() {
            let entry = Entry {
                line: i as u64 + 2,
                parsed: FlowRecord::parse(&layout, line),
            };
            aggregator.push(&entry);
        }
        aggregator.finish()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn buckets_align_to_the_epoch() {
        let ten = BucketWidth::TEN_MINUTES;
        assert_eq!(ten.start_of(1418530010), 1418529600);
        assert_eq!(ten.start_of(1418529600), 1418529600);
        assert_eq!(ten.start_of(1418530199), 1418529600);
        assert_eq!(ten.start_of(1418530200), 1418530200);
        assert_eq!(
            BucketWidth::from_secs(60).unwrap().start_of(1566848933),
            1566848880
        );
        assert_eq!(BucketWidth::from_secs(0), None);
    }

    #[test]
    fn one_connection_sums_into_one_aggregate_per_direction() {
        // The TCP flag example: two connections to port 5001 from 52.213.180.42, across two
        // capture windows, all within one ten-minute bucket except the last pair.
        let (aggregates, summary) = aggregate(TCP_FLAGS_V3, BucketWidth::TEN_MINUTES);
        assert_eq!(summary.records, 8);
        assert_eq!(summary.aggregated, 8);
        assert_eq!(summary.unknown_direction, 0);
        let all = aggregates.sorted();
        // Buckets 1566848400 (first 6 records) and 1566933000 (last 2), ingress and egress each.
        assert_eq!(all.len(), 4);
        let ingress = all
            .iter()
            .find(|a| a.bucket_start == 1566848400 && a.direction == Direction::Ingress)
            .unwrap();
        assert_eq!(ingress.interface_id, Some("eni-1235b8ca123456789"));
        assert_eq!(
            (
                ingress.local_addr,
                ingress.local_port,
                ingress.remote_addr,
                ingress.protocol
            ),
            (ip("10.0.0.62"), 5001, ip("52.213.180.42"), 6)
        );
        assert_eq!(ingress.flows, 3);
        assert_eq!(ingress.bytes, 568 + 100701 + 23294588);
        assert_eq!(ingress.packets, 8 + 70 + 15774);
        assert_eq!(
            (ingress.first_start, ingress.last_end),
            (1566848875, 1566849113)
        );
        assert_eq!(ingress.tcp_flags, 2 | 1);
        let egress = all
            .iter()
            .find(|a| a.bucket_start == 1566848400 && a.direction == Direction::Egress)
            .unwrap();
        assert_eq!(egress.bytes, 376 + 632 + 63388);
        assert_eq!(egress.tcp_flags, 18 | 1);
        // Every byte is in exactly one aggregate.
        let total: u64 = all.iter().map(|a| a.bytes).sum();
        assert_eq!(
            total,
            568 + 376 + 100701 + 632 + 63388 + 23294588 + 1260 + 967
        );
    }

    #[test]
    fn actions_and_directions_are_kept_apart() {
        let (aggregates, summary) = aggregate(DEFAULT_V2, BucketWidth::TEN_MINUTES);
        assert_eq!(
            (
                summary.records,
                summary.aggregated,
                summary.nodata,
                summary.skipdata
            ),
            (7, 5, 1, 1)
        );
        assert_eq!(summary.skipped_total(), 0);
        let all = aggregates.sorted();
        assert_eq!(all.len(), 5);
        // The ping and its rejected reply: same local and remote, one ingress ACCEPT, one
        // egress REJECT.
        let icmp: Vec<_> = all.iter().filter(|a| a.protocol == 1).collect();
        assert_eq!(icmp.len(), 2);
        assert_eq!(
            (icmp[0].direction, icmp[0].action),
            (Direction::Ingress, Action::Accept)
        );
        assert_eq!(
            (icmp[1].direction, icmp[1].action),
            (Direction::Egress, Action::Reject)
        );
        assert!(icmp.iter().all(|a| a.local_addr == ip("172.31.16.139")
            && a.remote_addr == ip("203.0.113.12")
            && a.local_port == 0));
        // SSH and RDP (internal to internal) come before the ping teaches the interface's
        // address, and nothing teaches an IPv6 one: three unknown, keyed on the server side.
        assert_eq!(summary.unknown_direction, 3);
        let rdp = all.iter().find(|a| a.local_port == 3389).unwrap();
        assert_eq!(
            (rdp.action, rdp.direction),
            (Action::Reject, Direction::Unknown)
        );
    }

    #[test]
    fn the_learned_interface_address_decides_later_internal_flows() {
        let mut text = DEFAULT_V2.to_owned();
        // After the ping taught 172.31.16.139 as eni-1235b8ca123456789's address, the same
        // SSH record again: now the interface is known to be the client.
        text.push_str(DEFAULT_V2.lines().nth(1).unwrap());
        let (aggregates, summary) = aggregate(&text, BucketWidth::TEN_MINUTES);
        assert_eq!(summary.unknown_direction, 3);
        let egress_ssh = aggregates
            .iter()
            .find(|a| a.remote_addr == ip("172.31.16.21"))
            .unwrap();
        assert_eq!(
            (
                egress_ssh.local_addr,
                egress_ssh.local_port,
                egress_ssh.direction
            ),
            (ip("172.31.16.139"), 20641, Direction::Egress)
        );
    }

    #[test]
    fn repeated_records_sum_and_bucket_width_is_honoured() {
        let record = DEFAULT_V2.lines().nth(5).unwrap(); // ping ACCEPT, start 1432917027
        let header = DEFAULT_V2.lines().next().unwrap();
        let later = record.replace("1432917027 1432917142", "1432917627 1432917700");
        let text = format!("{header}\n{record}\n{record}\n{later}\n");
        let (ten, _) = aggregate(&text, BucketWidth::TEN_MINUTES);
        let all = ten.sorted();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].flows, all[0].packets, all[0].bytes), (2, 8, 672));
        assert_eq!((all[1].flows, all[1].first_start), (1, 1432917627));
        let (hour, _) = aggregate(&text, BucketWidth::from_secs(3600).unwrap());
        let all = hour.sorted();
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].flows, all[0].bytes, all[0].last_end),
            (3, 1008, 1432917700)
        );
        assert_eq!(all[0].bucket_start, 1432915200);
    }

    #[test]
    fn ok_records_missing_a_needed_value_are_skipped_by_name() {
        let header = DEFAULT_V2.lines().next().unwrap();
        let record = DEFAULT_V2.lines().nth(1).unwrap();
        let no_bytes = record.replace(" 4249 ", " - ");
        let no_action = record.replace("ACCEPT", "-");
        let no_ports = record.replace(" 20641 22 ", " - - ");
        let text = format!("{header}\n{no_bytes}\n{no_action}\n{no_ports}\n");
        let (aggregates, summary) = aggregate(&text, BucketWidth::TEN_MINUTES);
        assert_eq!(
            summary.skipped.get(&SkipReason::Missing(Field::Bytes)),
            Some(&1)
        );
        assert_eq!(
            summary.skipped.get(&SkipReason::Missing(Field::Action)),
            Some(&1)
        );
        assert_eq!(summary.first_skips[0].line, 2);
        // Ports are not applicable to some protocols: their absence is port 0, not a skip.
        assert_eq!(aggregates.len(), 1);
        assert_eq!(aggregates.sorted()[0].local_port, 0);
    }

    #[test]
    fn formats_without_interface_id_key_by_address() {
        let text = "srcaddr dstaddr srcport dstport protocol packets bytes start end action\n\
            203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT\n";
        let (aggregates, summary) = aggregate(text, BucketWidth::TEN_MINUTES);
        assert_eq!(summary.aggregated, 1);
        let only = aggregates.sorted()[0];
        assert_eq!(only.interface_id, None);
        assert_eq!(only.local_addr, ip("172.31.16.139"));
    }
}
