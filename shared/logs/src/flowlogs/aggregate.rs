//! Compacting records into aggregates: one per time bucket and per (interface, local address,
//! remote address, service port, service side, protocol, direction, action), with packet, byte
//! and flow counts and the first and last time seen.
//!
//! This is where the write count is decided: the client's ephemeral port (a new one for every
//! connection) and the individual capture windows are dropped, so an instance talking to the
//! same few hosts costs a few items per ten minutes, however many connections its traffic
//! makes. The port kept is the service's, whichever side it is on ([`super::service`]). The key
//! holds both the interface ID and the local address, because a finding names both (an ENI and
//! its private IPs) and an interface has few addresses, so keeping both costs few extra
//! aggregates.
//!
//! Memory is bounded by a setting ([`Limits`]), never by the object: the aggregates of a bucket
//! are flushed (sorted, encoded and deflated into their stored form, [`super::rows`]) once the
//! stream has left the bucket behind, and the oldest bucket is flushed early whenever more than
//! [`Limits::max_live`] aggregates are held. A record for a bucket already flushed (late, or after
//! an early flush) starts a new aggregate for that bucket; its row is written in a chunk of its
//! own, numbered after the bucket's earlier chunks, so it adds to what was written instead of
//! overwriting it, and readers sum rows: every record is counted exactly once, a late one just
//! costs one more row.
//!
//! The per-record path does not allocate (but for a table growing): the key is a small `Copy`
//! struct (16 bytes for IPv4), and interface IDs are interned once per object (an object covers
//! few interfaces).

use super::direction;
use super::error::SkipReason;
use super::field::Field;
use super::reader::Entry;
use super::record::{FlowRecord, LogStatus};
use super::rows::{self, Encoder, Row};
use super::summary::Summary;
use super::table::{BATCH, Delta, Key4, KeyedState, MAX_ENTRIES, Table, Totals, Update};
use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use triage_domain::traffic::{Action, Direction, ServiceSide};

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

/// When aggregates leave memory for their stored form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most aggregates held in memory at once (exceeded by at most a batch of 32 between two
    /// checks; at most 16,777,183). Each costs at most about 112 bytes (a 48-byte entry in a
    /// vector that grows by doubling, and up to 16 bytes of index), so the default of 262,144
    /// bounds the tables to about 30 MB whatever the object. An object with more distinct flows
    /// than that in a bucket writes some keys in two rows (more items, never more counts).
    pub max_live: usize,
    /// How long after a bucket's end the stream must have moved on (by the start of the newest
    /// bucket seen) before the bucket is flushed. Records of an object are close to time order,
    /// but a record's start is up to one aggregation interval (10 minutes at most) before the
    /// records written with it, so the default waits one such interval: late records are then
    /// rare, and each costs a row, not a count.
    pub grace_secs: u32,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_live: 1 << 18,
        grace_secs: 600,
    };

    /// Everything in memory until the end (up to 16,777,183 aggregates, more than any object
    /// has): the exact aggregates of an object, one row per key.
    pub const UNBOUNDED: Limits = Limits {
        max_live: usize::MAX,
        grace_secs: u32::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Marks a key without `interface-id` (a custom format that does not log it).
const NO_INTERFACE: u32 = u32::MAX;

/// Direction, action and service side of a key, in one byte.
fn key_flags(direction: Direction, action: Action, service: ServiceSide) -> u8 {
    (direction as u8) | ((action as u8) << 2) | ((service as u8) << 3)
}

fn from_key_flags(flags: u8) -> (Direction, Action, ServiceSide) {
    let direction = match flags & 3 {
        0 => Direction::Ingress,
        1 => Direction::Egress,
        _ => Direction::Unknown,
    };
    let action = if flags & 4 == 0 {
        Action::Accept
    } else {
        Action::Reject
    };
    let service = match (flags >> 3) & 3 {
        0 => ServiceSide::Local,
        1 => ServiceSide::Remote,
        _ => ServiceSide::Neither,
    };
    (direction, action, service)
}

impl Key4 {
    /// Subject first (interface, or local address without one), then remote address: the
    /// stored order.
    fn sort_key(&self) -> u128 {
        let (second, third) = if self.interface == NO_INTERFACE {
            (self.local, self.remote)
        } else {
            (self.remote, self.local)
        };
        (u128::from(self.interface) << 96)
            | (u128::from(second) << 64)
            | (u128::from(third) << 32)
            | (u128::from(self.port) << 16)
            | (u128::from(self.protocol) << 8)
            | u128::from(self.flags)
    }
}

/// The key of any other flow (IPv6, or mixed families).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key6 {
    interface: u32,
    local: IpAddr,
    remote: IpAddr,
    port: u16,
    protocol: u8,
    flags: u8,
}

impl Key6 {
    fn sort_key(&self) -> (SubjectKey, IpAddr, IpAddr, u16, u8, u8) {
        (
            subject_key(self.interface, self.local),
            self.remote,
            self.local,
            self.port,
            self.protocol,
            self.flags,
        )
    }
}

/// What a stored item is filed under: the interface, or the local address when the format has
/// no `interface-id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum SubjectKey {
    Interface(u32),
    Address(IpAddr),
}

fn subject_key(interface: u32, local: IpAddr) -> SubjectKey {
    if interface == NO_INTERFACE {
        SubjectKey::Address(local)
    } else {
        SubjectKey::Interface(interface)
    }
}

/// One aggregate, as a consumer (a test, a dry run) reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowAggregate<'a> {
    /// Start of the time bucket (Unix seconds); a record belongs to the bucket of its `start`.
    pub bucket_start: i64,
    /// The interface the records were captured on, when the format logs it.
    pub interface_id: Option<&'a str>,
    pub local_addr: IpAddr,
    pub remote_addr: IpAddr,
    /// The service port of the flows, whichever side listens (0 for protocols without ports):
    /// see [`super::service`].
    pub service_port: u16,
    /// Which side listens on `service_port`.
    pub service: ServiceSide,
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

/// What a chunk of rows is filed under (the `FLOW#...` key of its item).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Interface(Box<str>),
    /// The local address, for formats without `interface-id`.
    Address(IpAddr),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Interface(id) => f.write_str(id),
            Subject::Address(address) => address.fmt(f),
        }
    }
}

/// The rows of one subject and bucket, in their stored form: one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub subject: Subject,
    pub bucket_start: i64,
    /// Number of this chunk among the chunks of its subject and bucket in the object, from 0:
    /// chunks written later for the same bucket (late records) never reuse a number.
    pub index: u32,
    pub rows: usize,
    /// The rows, as [`rows::decode`] reads them.
    pub blob: Vec<u8>,
}

/// The aggregates of one object (or of several, pushed through one [`Aggregator`]), in their
/// stored form.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    chunks: Vec<Chunk>,
    rows: usize,
}

impl Aggregates {
    /// Number of rows: distinct aggregates, plus one per key flushed more than once.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The chunks, one per item to write.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// The aggregates, decoded from the chunks.
    pub fn iter(&self) -> impl Iterator<Item = FlowAggregate<'_>> {
        self.chunks.iter().flat_map(|chunk| {
            let interface_id = match &chunk.subject {
                Subject::Interface(id) => Some(&**id),
                Subject::Address(_) => None,
            };
            // Our own blobs always decode; were one not to, it would read as no rows.
            rows::decode(&chunk.blob)
                .unwrap_or_default()
                .into_iter()
                .map(move |row| FlowAggregate {
                    bucket_start: chunk.bucket_start,
                    interface_id,
                    local_addr: row.local,
                    remote_addr: row.remote,
                    service_port: row.service_port,
                    service: row.service,
                    protocol: row.protocol,
                    direction: row.direction,
                    action: row.action,
                    packets: row.packets,
                    bytes: row.bytes,
                    flows: row.flows,
                    first_start: row.first_start,
                    last_end: row.last_end,
                    tcp_flags: row.tcp_flags,
                })
        })
    }

    /// The aggregates sorted by bucket, interface, addresses, port, service side, protocol,
    /// direction and action: a deterministic order for output and tests.
    pub fn sorted(&self) -> Vec<FlowAggregate<'_>> {
        let mut all: Vec<_> = self.iter().collect();
        all.sort_unstable();
        all
    }
}

/// The live aggregates of one time bucket.
#[derive(Debug, Default)]
struct Bucket {
    start: i64,
    /// Whether this bucket was flushed before (this is a second generation of it).
    refilled: bool,
    v4: Table,
    /// IPv6 and mixed flows: few, in the standard map.
    v6: HashMap<Key6, Totals, KeyedState>,
}

impl Bucket {
    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}

/// Builds [`Aggregates`] and the [`Summary`] from entries, one at a time.
#[derive(Debug, Default)]
pub struct Aggregator {
    bucket: BucketWidth,
    limits: Limits,
    live: Vec<Bucket>,
    /// Index in `live` of the bucket of the last record: consecutive records share it.
    current: usize,
    /// Aggregates held in `live`.
    live_len: usize,
    /// IPv4 records of the bucket `pending_bucket` (an index in `live`) not yet added to it: at
    /// most [`BATCH`] (see [`super::table`]), always added before `live` changes shape (a bucket
    /// flushed), before a record of another bucket and before the end.
    pending: Vec<Update>,
    pending_bucket: usize,
    /// Start of the newest bucket seen: the stream's position in time.
    newest_bucket: Option<i64>,
    /// Buckets flushed so far, to tell a late record.
    flushed: std::collections::BTreeSet<i64>,
    /// Emptied tables kept for the next bucket, so a flush does not free and regrow them.
    spare: Option<Bucket>,
    /// Chunks written per subject and bucket: the number of the next one.
    chunk_numbers: HashMap<(SubjectKey, i64), u32>,
    flushed_chunks: Vec<Chunk>,
    flushed_rows: usize,
    encoder: Option<Encoder>,
    scratch6: Vec<(Key6, Totals)>,
    interface_index: HashMap<Box<str>, u32>,
    interfaces: Vec<Box<str>>,
    /// The last interface seen: consecutive records often share it, and a comparison is cheaper
    /// than a lookup.
    last_interface: Option<u32>,
    /// Per interface index, its local IPv4 and IPv6 address as decided so far (direction rule 4).
    learned: Vec<[Option<IpAddr>; 2]>,
    summary: Summary,
}

impl Aggregator {
    /// An aggregator with the default [`Limits`].
    pub fn new(bucket: BucketWidth) -> Self {
        Self::with_limits(bucket, Limits::DEFAULT)
    }

    pub fn with_limits(bucket: BucketWidth, limits: Limits) -> Self {
        Aggregator {
            bucket,
            limits: Limits {
                max_live: limits.max_live.clamp(1, MAX_ENTRIES - BATCH),
                ..limits
            },
            ..Aggregator::default()
        }
    }

    /// Count an entry, and add its record to an aggregate when it carries a flow.
    pub fn push(&mut self, entry: &Entry<'_>) {
        self.push_parsed(entry.line, entry.parsed.as_ref().map_err(|reason| *reason));
    }

    /// [`Aggregator::push`] of a line's number and record, as
    /// [`FlowLogReader::next_with`](super::FlowLogReader::next_with) hands them out.
    #[inline]
    pub fn push_parsed(&mut self, line: u64, parsed: Result<&FlowRecord<'_>, SkipReason>) {
        self.summary.records += 1;
        let outcome = match parsed {
            Ok(record) => self.add(record),
            Err(reason) => Err(reason),
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
            Err(reason) => self.summary.skip(line, reason),
        }
    }

    /// The chunks flushed so far, taken out of the aggregator: a caller that writes them as it
    /// goes holds no more than [`Limits`] allows, whatever the object's size. What
    /// [`Aggregator::finish`] returns is then only the rest.
    pub fn take_flushed(&mut self) -> Aggregates {
        let rows = std::mem::take(&mut self.flushed_rows);
        Aggregates {
            chunks: std::mem::take(&mut self.flushed_chunks),
            rows,
        }
    }

    /// The aggregates and the summary of everything pushed (less what
    /// [`Aggregator::take_flushed`] took).
    pub fn finish(mut self) -> (Aggregates, Summary) {
        self.apply_pending();
        self.live.sort_unstable_by_key(|b| b.start);
        let flushes = self.summary.flushes;
        while !self.live.is_empty() {
            // Bucket 0 is the oldest: a swap_remove moves the last (newest) into its place, so
            // sorting again keeps the order.
            self.flush(0);
            self.live.sort_unstable_by_key(|b| b.start);
        }
        // The end of the object is not an early flush.
        self.summary.flushes = flushes;
        (
            Aggregates {
                chunks: self.flushed_chunks,
                rows: self.flushed_rows,
            },
            self.summary,
        )
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

        let bucket_start = self.bucket.start_of(start);
        let delta = Delta {
            packets,
            bytes,
            // Within the bucket by construction, and a bucket is at most u32::MAX seconds wide.
            first_offset: u32::try_from(start - bucket_start).unwrap_or(u32::MAX),
            last_offset: i32::try_from(
                end.saturating_sub(bucket_start)
                    .clamp(i64::from(i32::MIN), i64::from(i32::MAX)),
            )
            .unwrap_or_default(),
            tcp_flags: record.tcp_flags.unwrap_or(0),
        };
        let flags = key_flags(sides.direction, action, sides.service);
        // Records of another bucket wait for none: pending records are added first, while the
        // index they were queued with still holds (adding them may flush buckets).
        if !self.pending.is_empty()
            && self.live.get(self.pending_bucket).map(|b| b.start) != Some(bucket_start)
        {
            self.apply_pending();
        }
        let index = self.bucket_index(bucket_start);
        let bucket = &mut self.live[index];
        if bucket.refilled {
            self.summary.late_records += 1;
        }
        match (sides.local, sides.remote) {
            (IpAddr::V4(local), IpAddr::V4(remote)) => {
                self.pending_bucket = index;
                self.pending.push(Update {
                    key: Key4 {
                        interface,
                        local: local.to_bits(),
                        remote: remote.to_bits(),
                        port: sides.service_port,
                        protocol,
                        flags,
                    },
                    delta,
                });
                if self.pending.len() >= BATCH {
                    self.apply_pending();
                }
            }
            (local, remote) => {
                let key = Key6 {
                    interface,
                    local,
                    remote,
                    port: sides.service_port,
                    protocol,
                    flags,
                };
                let added = match bucket.v6.entry(key) {
                    Slot::Occupied(mut slot) => {
                        slot.get_mut().add(&delta);
                        false
                    }
                    Slot::Vacant(slot) => {
                        slot.insert(Totals::new(&delta));
                        true
                    }
                };
                if added {
                    self.live_len += 1;
                    self.enforce_limit();
                }
            }
        }
        if self
            .newest_bucket
            .is_none_or(|newest| bucket_start > newest)
        {
            self.newest_bucket = Some(bucket_start);
            self.flush_left_behind(bucket_start);
        }
        Ok(Added::Flow(sides.direction))
    }

    /// Add the pending IPv4 records to their aggregates, then flush if memory is at its limit.
    fn apply_pending(&mut self) {
        if let Some(bucket) = self.live.get_mut(self.pending_bucket) {
            self.live_len += bucket.v4.add_all(&self.pending);
        }
        self.pending.clear();
        self.enforce_limit();
    }

    /// Flush the oldest buckets while more than [`Limits::max_live`] aggregates are held (so at
    /// most [`BATCH`] over it, between two batches).
    fn enforce_limit(&mut self) {
        while self.live_len > self.limits.max_live && !self.live.is_empty() {
            self.flush_oldest();
        }
    }

    /// The index in `live` of the bucket starting at `start`, opened if needed.
    fn bucket_index(&mut self, start: i64) -> usize {
        if self
            .live
            .get(self.current)
            .is_some_and(|b| b.start == start)
        {
            return self.current;
        }
        let index = match self.live.iter().position(|b| b.start == start) {
            Some(index) => index,
            None => {
                let mut bucket = self.spare.take().unwrap_or_default();
                bucket.start = start;
                bucket.refilled = self.flushed.contains(&start);
                self.live.push(bucket);
                self.live.len() - 1
            }
        };
        self.current = index;
        index
    }

    /// Flush the buckets the stream has left behind: those that ended at least
    /// [`Limits::grace_secs`] before the newest bucket began. Checked only when the stream enters
    /// a new bucket, so the late records of an old bucket gather into one flush per bucket of
    /// stream time rather than one each.
    fn flush_left_behind(&mut self, newest: i64) {
        let width = i64::from(self.bucket.secs());
        let grace = i64::from(self.limits.grace_secs);
        while let Some(index) = self
            .live
            .iter()
            .enumerate()
            .filter(|(_, b)| b.start.saturating_add(width).saturating_add(grace) <= newest)
            .min_by_key(|(_, b)| b.start)
            .map(|(i, _)| i)
        {
            self.flush(index);
        }
    }

    /// Flush the oldest live bucket: memory is at its limit.
    fn flush_oldest(&mut self) {
        if let Some(index) = self
            .live
            .iter()
            .enumerate()
            .min_by_key(|(_, b)| b.start)
            .map(|(i, _)| i)
        {
            self.flush(index);
        }
    }

    /// Write the live bucket at `index` out as chunks, sorted by subject and remote address (a
    /// deterministic order, so an object read twice writes the same items).
    /// Whether it did: adding the pending records first may have flushed the bucket already.
    fn flush(&mut self, index: usize) -> bool {
        if !self.pending.is_empty() {
            // Added first, while the indices of `live` still hold; this may flush buckets.
            let start = self.live.get(index).map(|b| b.start);
            self.apply_pending();
            return match self.live.iter().position(|b| Some(b.start) == start) {
                Some(index) => self.flush(index),
                None => false,
            };
        }
        if index >= self.live.len() {
            return false;
        }
        let mut bucket = self.live.swap_remove(index);
        self.current = self.live.len().saturating_sub(1);
        self.live_len -= bucket.len();
        self.flushed.insert(bucket.start);
        let v4 = bucket.v4.entries_mut();
        let mut v6 = std::mem::take(&mut self.scratch6);
        v6.extend(bucket.v6.drain());
        v4.sort_unstable_by_key(|(key, _)| key.sort_key());
        v6.sort_unstable_by_key(|(key, _)| key.sort_key());

        let start = bucket.start;
        let mut encoder = self.encoder.take().unwrap_or_else(|| Encoder::new(start));
        let (mut i, mut j) = (0, 0);
        while i < v4.len() || j < v6.len() {
            let subject4 = v4
                .get(i)
                .map(|(k, _)| subject_key(k.interface, IpAddr::V4(Ipv4Addr::from_bits(k.local))));
            let subject6 = v6.get(j).map(|(k, _)| subject_key(k.interface, k.local));
            let Some(subject) = [subject4, subject6].into_iter().flatten().min() else {
                break;
            };
            encoder.reset(start);
            while let Some((key, totals)) = v4.get(i) {
                let local = IpAddr::V4(Ipv4Addr::from_bits(key.local));
                if subject_key(key.interface, local) != subject {
                    break;
                }
                let remote = IpAddr::V4(Ipv4Addr::from_bits(key.remote));
                let row = row_of(
                    start,
                    local,
                    remote,
                    key.port,
                    key.protocol,
                    key.flags,
                    totals,
                );
                self.push_row(&mut encoder, subject, start, &row);
                i += 1;
            }
            while let Some((key, totals)) = v6.get(j) {
                if subject_key(key.interface, key.local) != subject {
                    break;
                }
                let row = row_of(
                    start,
                    key.local,
                    key.remote,
                    key.port,
                    key.protocol,
                    key.flags,
                    totals,
                );
                self.push_row(&mut encoder, subject, start, &row);
                j += 1;
            }
            if encoder.rows() > 0 {
                self.write_chunk(&mut encoder, subject, start);
            }
        }
        bucket.v4.clear();
        v6.clear();
        self.scratch6 = v6;
        self.encoder = Some(encoder);
        bucket.refilled = false;
        if self.spare.is_none() {
            self.spare = Some(bucket);
        }
        self.summary.flushes += 1;
        true
    }

    fn push_row(&mut self, encoder: &mut Encoder, subject: SubjectKey, start: i64, row: &Row) {
        if encoder.is_full() {
            self.write_chunk(encoder, subject, start);
        }
        encoder.push(row);
    }

    fn write_chunk(&mut self, encoder: &mut Encoder, subject: SubjectKey, start: i64) {
        let rows = encoder.rows();
        let blob = encoder.finish();
        let number = self.chunk_numbers.entry((subject, start)).or_insert(0);
        let index = *number;
        *number += 1;
        let subject = match subject {
            SubjectKey::Interface(i) => {
                Subject::Interface(self.interfaces.get(i as usize).cloned().unwrap_or_default())
            }
            SubjectKey::Address(address) => Subject::Address(address),
        };
        self.flushed_rows += rows;
        self.summary.aggregates += rows;
        self.flushed_chunks.push(Chunk {
            subject,
            bucket_start: start,
            index,
            rows,
            blob,
        });
    }

    /// The index of an interface ID, allocating only the first time the ID is seen.
    fn intern(&mut self, id: &str) -> u32 {
        let names = &mut self.interfaces;
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

fn row_of(
    bucket_start: i64,
    local: IpAddr,
    remote: IpAddr,
    port: u16,
    protocol: u8,
    flags: u8,
    totals: &Totals,
) -> Row {
    let (direction, action, service) = from_key_flags(flags);
    Row {
        remote,
        local,
        service_port: port,
        service,
        protocol,
        direction,
        action,
        packets: totals.packets,
        bytes: totals.bytes,
        flows: u64::from(totals.flows),
        first_start: bucket_start + i64::from(totals.first_offset),
        last_end: bucket_start.saturating_add(i64::from(totals.last_offset)),
        tcp_flags: totals.tcp_flags,
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
    use crate::flowlogs::layout::Layout;

    const DEFAULT_V2: &str = include_str!("../../../../tests/fixtures/vpcflow/default-v2.txt");
    const TCP_FLAGS_V3: &str = include_str!("../../../../tests/fixtures/vpcflow/tcp-flags-v3.txt");

    /// Aggregate the lines of a fixture text (header first).
    fn aggregate(text: &str, bucket: BucketWidth) -> (Aggregates, Summary) {
        aggregate_within(text, bucket, Limits::DEFAULT)
    }

    fn aggregate_within(text: &str, bucket: BucketWidth, limits: Limits) -> (Aggregates, Summary) {
        let mut lines = text.lines();
        let layout = Layout::from_header(lines.next().unwrap()).unwrap();
        let mut aggregator = Aggregator::with_limits(bucket, limits);
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
                ingress.service_port,
                ingress.service,
                ingress.remote_addr,
                ingress.protocol
            ),
            (
                ip("10.0.0.62"),
                5001,
                ServiceSide::Local,
                ip("52.213.180.42"),
                6
            )
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
            && a.service_port == 0
            && a.service == ServiceSide::Neither));
        // SSH and RDP (internal to internal) come before the ping teaches the interface's
        // address, and nothing teaches an IPv6 one: three unknown, keyed on the server side.
        assert_eq!(summary.unknown_direction, 3);
        let rdp = all.iter().find(|a| a.service_port == 3389).unwrap();
        assert_eq!(
            (rdp.action, rdp.direction),
            (Action::Reject, Direction::Unknown)
        );
    }

    #[test]
    fn the_learned_interface_address_decides_later_internal_flows() {
        let mut text = DEFAULT_V2.to_owned();
        // After the ping taught 172.31.16.139 as eni-1235b8ca123456789's address, the same
        // SSH record again: now the interface is known to be the client, and the row names the
        // service it reached (22 on the remote side), not its own port 20641.
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
                egress_ssh.service_port,
                egress_ssh.service,
                egress_ssh.direction
            ),
            (
                ip("172.31.16.139"),
                22,
                ServiceSide::Remote,
                Direction::Egress
            )
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
        assert_eq!(aggregates.sorted()[0].service_port, 0);
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

    /// The documentation's SSH record (client 172.31.16.139:20641, server 172.31.16.21:22) with
    /// another client port, client address and start time, in one direction or the other.
    fn ssh(client: &str, client_port: u16, start: i64, response: bool) -> String {
        let (src, dst, sport, dport) = if response {
            ("172.31.16.21", client, 22, client_port)
        } else {
            (client, "172.31.16.21", client_port, 22)
        };
        format!(
            "2 123456789010 eni-1235b8ca123456789 {src} {dst} {sport} {dport} 6 20 4249 {start} {} ACCEPT OK",
            start + 60
        )
    }

    fn with_header(lines: &[String]) -> String {
        let mut text = DEFAULT_V2.lines().next().unwrap().to_owned();
        for line in lines {
            text.push('\n');
            text.push_str(line);
        }
        text.push('\n');
        text
    }

    #[test]
    fn ephemeral_client_ports_collapse_into_the_service_aggregate() {
        // A thousand connections from two clients to the SSH server, each from its own
        // ephemeral port, both directions: one aggregate per client (internal to internal, so
        // direction unknown and the server side local), whatever the ports.
        let mut lines = Vec::new();
        for i in 0..1000u16 {
            let client = if i % 2 == 0 {
                "172.31.16.139"
            } else {
                "172.31.9.69"
            };
            let port = 32768 + i * 17;
            lines.push(ssh(client, port, 1418530010, false));
            lines.push(ssh(client, port, 1418530010, true));
        }
        let (aggregates, summary) = aggregate(&with_header(&lines), BucketWidth::TEN_MINUTES);
        assert_eq!(summary.aggregated, 2000);
        let all = aggregates.sorted();
        assert_eq!(all.len(), 2);
        for a in &all {
            assert_eq!((a.service_port, a.service), (22, ServiceSide::Local));
            assert_eq!(a.local_addr, ip("172.31.16.21"));
            assert_eq!(a.flows, 1000);
        }

        // The v5 example (an instance's connection to S3 on 80 from 34210), from 500 ports:
        // one aggregate per direction, keyed on S3's port on the remote side.
        let v5 = include_str!("../../../../tests/fixtures/vpcflow/traffic-path-v5.txt");
        let mut text: Vec<String> = Vec::new();
        for i in 0..500 {
            for line in v5.lines().skip(1) {
                text.push(line.replace("34210", &(40000 + i).to_string()));
            }
        }
        let header = v5.lines().next().unwrap();
        let (aggregates, _) = aggregate(
            &format!("{header}\n{}\n", text.join("\n")),
            BucketWidth::TEN_MINUTES,
        );
        let all = aggregates.sorted();
        assert_eq!(all.len(), 2);
        assert!(
            all.iter().all(|a| a.service_port == 80
                && a.service == ServiceSide::Remote
                && a.flows == 500)
        );
        assert_eq!(
            (all[0].direction, all[1].direction),
            (Direction::Ingress, Direction::Egress)
        );
    }

    /// Every row merged by key: what readers compute by summing rows.
    fn merged(aggregates: &Aggregates) -> Vec<FlowAggregate<'_>> {
        let mut by_key: std::collections::BTreeMap<_, FlowAggregate<'_>> = Default::default();
        for a in aggregates.iter() {
            let key = (
                a.bucket_start,
                a.interface_id,
                a.local_addr,
                a.remote_addr,
                a.service_port,
                a.service,
                a.protocol,
                a.direction,
                a.action,
            );
            by_key
                .entry(key)
                .and_modify(|m| {
                    m.packets += a.packets;
                    m.bytes += a.bytes;
                    m.flows += a.flows;
                    m.first_start = m.first_start.min(a.first_start);
                    m.last_end = m.last_end.max(a.last_end);
                    m.tcp_flags |= a.tcp_flags;
                })
                .or_insert(a);
        }
        by_key.into_values().collect()
    }

    #[test]
    fn bounded_memory_writes_the_same_totals_as_unbounded() {
        // 6,000 records over five buckets, shuffled within +-12 minutes of stream time (so some
        // arrive after their bucket was flushed), 40 clients, both directions, a few rejects.
        let mut lines = Vec::new();
        let mut x: u64 = 0x243f_6a88_85a3_08d3;
        for i in 0..6000i64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let jitter = (x % 1440) as i64 - 720;
            let start = 1418529600 + i / 2 + jitter.max(-(i / 2));
            let client = format!("172.31.9.{}", 10 + x % 40);
            let mut line = ssh(&client, 32768 + (x >> 20) as u16 % 28000, start, x & 1 == 1);
            if x.is_multiple_of(13) {
                line = line.replace("ACCEPT", "REJECT");
            }
            lines.push(line);
        }
        let text = with_header(&lines);
        let (exact, exact_summary) =
            aggregate_within(&text, BucketWidth::TEN_MINUTES, Limits::UNBOUNDED);
        assert_eq!(exact_summary.flushes, 0);
        assert_eq!(exact_summary.late_records, 0);
        for limits in [
            Limits {
                max_live: 7,
                grace_secs: 0,
            },
            Limits {
                max_live: 1,
                grace_secs: 600,
            },
            Limits::DEFAULT,
            Limits {
                max_live: 50,
                grace_secs: 0,
            },
        ] {
            let (bounded, summary) = aggregate_within(&text, BucketWidth::TEN_MINUTES, limits);
            assert_eq!(merged(&bounded), exact.sorted(), "{limits:?}");
            let flows: u64 = bounded.iter().map(|a| a.flows).sum();
            assert_eq!(flows, 6000, "{limits:?}: every record counted once");
            assert_eq!(summary.aggregates, bounded.len());
            // Chunks never share a subject, bucket and number: none overwrites another.
            let mut names = std::collections::HashSet::new();
            for chunk in bounded.chunks() {
                assert!(
                    names.insert((chunk.subject.clone(), chunk.bucket_start, chunk.index)),
                    "{limits:?}: chunk {chunk:?} written twice"
                );
            }
            if limits != Limits::DEFAULT {
                assert!(
                    summary.flushes > 0 && summary.late_records > 0,
                    "{summary:?}"
                );
                assert!(bounded.len() > exact.len());
            }
        }
        // A grace longer than the records' disorder (up to 24 minutes between two records'
        // starts) and room for a bucket's aggregates: buckets are flushed as the stream leaves
        // them, yet no record is late and every key is one row, the unbounded result itself.
        let limits = Limits {
            max_live: 1000,
            grace_secs: 1500,
        };
        let (timely, summary) = aggregate_within(&text, BucketWidth::TEN_MINUTES, limits);
        assert!(summary.flushes > 0);
        assert_eq!(summary.late_records, 0);
        assert_eq!(timely.sorted(), exact.sorted());
    }

    #[test]
    fn a_late_record_is_one_more_row_counted_once() {
        let t0 = 1418529600;
        let lines = [
            ssh("172.31.9.69", 40000, t0 + 10, false),
            ssh("172.31.9.69", 40001, t0 + 20, false),
            // Half an hour later: the first bucket is left behind and flushed.
            ssh("172.31.9.69", 40002, t0 + 1800, false),
            // A late record of the first bucket, same key.
            ssh("172.31.9.69", 40003, t0 + 30, false),
        ];
        let (aggregates, summary) = aggregate(&with_header(&lines), BucketWidth::TEN_MINUTES);
        assert_eq!((summary.flushes, summary.late_records), (1, 1));
        let mut chunks: Vec<_> = aggregates
            .chunks()
            .iter()
            .map(|c| (c.bucket_start, c.index, c.rows))
            .collect();
        chunks.sort_unstable();
        // The first bucket's late row is chunk 1, after chunk 0: added, not overwritten.
        assert_eq!(chunks, vec![(t0, 0, 1), (t0, 1, 1), (t0 + 1800, 0, 1)]);
        let first: Vec<_> = aggregates.iter().filter(|a| a.bucket_start == t0).collect();
        let flows: Vec<u64> = first.iter().map(|a| a.flows).collect();
        assert!(flows == [2, 1] || flows == [1, 2], "{flows:?}");
        assert_eq!(merged(&aggregates)[0].flows, 3);
        assert_eq!(merged(&aggregates)[0].first_start, t0 + 10);
        assert_eq!(merged(&aggregates)[0].last_end, t0 + 90);
    }

    #[test]
    fn flushed_chunks_can_be_taken_as_they_come() {
        let lines: Vec<String> = (0..40)
            .map(|i| ssh(&format!("172.31.9.{i}"), 40000, 1418529600 + i * 120, false))
            .collect();
        let text = with_header(&lines);
        let layout = Layout::default_v2();
        let mut aggregator = Aggregator::new(BucketWidth::TEN_MINUTES);
        let mut taken = Vec::new();
        for (i, line) in text.lines().skip(1).enumerate() {
            aggregator.push(&Entry {
                line: i as u64 + 2,
                parsed: FlowRecord::parse(&layout, line),
            });
            taken.extend(aggregator.take_flushed().chunks().iter().cloned());
        }
        let early = taken.len();
        let (rest, summary) = aggregator.finish();
        taken.extend(rest.chunks().iter().cloned());
        // 40 records two minutes apart: eight buckets, all but the last two flushed early.
        assert_eq!((early, taken.len()), (6, 8));
        assert_eq!(summary.aggregates, 40);
        let rows: usize = taken.iter().map(|c| c.rows).sum();
        assert_eq!(rows, 40);
    }
}
