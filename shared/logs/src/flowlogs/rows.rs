//! The stored form of flow aggregates: the rows of one subject (an interface, or a local address
//! when the format has no `interface-id`) in one time bucket, as one `rows` blob of a DynamoDB
//! item.
//!
//! Binary and column by column, then deflated. A row used to be tab-separated text, deflated:
//! formatting and compressing that text was most of the cost of an object whose remote addresses
//! are random (every row distinct), and random addresses written as text compress badly. Here
//! each column (flags, remote addresses, local address, port, ...) is contiguous, so deflate sees
//! runs of alike values (the same few ports, protocols, flags) and the remote addresses are
//! sorted and written as deltas; integers are LEB128 varints, times are offsets from the bucket.
//! On the 737,617 rows of a 2 M-record internet-facing object (`scripts/gen-flowlog-objects.py`)
//! the text deflated at the default level took 9.98 MB and 1.26 s to format and compress; this
//! format takes 6.78 MB and under 0.1 s (see `LEVEL`).
//!
//! Layout of a blob (every integer a LEB128 varint unless said otherwise; `zigzag` for signed):
//!
//! ```text
//! 'F'  version (1)  compression (0 none, 1 raw deflate)  body...
//! body: rows  zigzag(bucket start)  local-dictionary  flags[rows]  remote[rows]  local[rows]
//!       port[rows]  protocol[rows] (1 byte)  packets[rows]  bytes[rows]  flows[rows]
//!       zigzag(first - bucket start)[rows]  zigzag(last - first)[rows]  tcp-flags[rows] (1 byte)
//! local-dictionary: count, then per address 4 or 6 (one byte) and its 4 or 16 bytes
//! flags: direction (bits 0-1), action (bit 2), service side (bits 3-4), remote is IPv6 (bit 5)
//! remote: IPv4 as the delta from the previous IPv4 remote of the blob (u32, wrapping), IPv6 as
//!         the delta from the previous IPv6 remote (u128, wrapping)
//! local: index into the local dictionary
//! ```
//!
//! The first byte tells the formats apart: `'F'` (0x46) has both bits 1 and 2 set, which in a
//! deflate stream (the text format's blobs) is the reserved block type, so no deflate stream
//! starts with it; old items keep reading as text (see `triage_aws::context_items`), and a
//! reader that predates this format reads a new blob as corrupt, never as wrong rows.
//!
//! Decoding checks every length and value: a damaged blob is an error, never a panic, and never
//! allocates more than a bounded multiple of its own size.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use triage_domain::traffic::{Action, Direction, ServiceSide};

/// First byte of a blob in this format.
pub const MAGIC: u8 = b'F';
/// The format version written after [`MAGIC`].
pub const VERSION: u8 = 1;
const STORED: u8 = 0;
const DEFLATED: u8 = 1;

/// Deflate level of the body, measured on the 737,617 rows of a 2 M-record internet-facing
/// object (`scripts/gen-flowlog-objects.py`): stored 11.2 MB; level 1 6.78 MB in 92 ms; level 2
/// 5.75 MB in 183 ms; level 6 5.61 MB in 282 ms. Write units are the running cost of ingest
/// (about $0.0006 of writes per such object against $0.000002 of compute for the extra tenth of
/// a second), so level 2 is worth its time: with zlib-rs's run-time CPU detection on, ingest
/// still runs at 0.8-0.9x `gzip -dc` on that object (BENCHMARKS.md) and writes 15 % fewer units
/// than at level 1. Level 6 saves 2 % more for half as much time again.
const LEVEL: u32 = 2;

/// Budget of a body before compression: a chunk is closed before it grows past this, so an item
/// (body, a few bytes of header and deflate framing, its keys) stays below DynamoDB's 400 KB
/// whatever the rows, even incompressible ones.
pub const BODY_BUDGET: usize = 256 * 1024;

/// Largest body a blob may inflate to: the budget plus one row, with room to spare. A blob that
/// inflates past it is not one of ours.
const MAX_BODY: usize = 2 * BODY_BUDGET;

/// One stored row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub remote: IpAddr,
    pub local: IpAddr,
    /// The service port of the flows (0 for protocols without ports).
    pub service_port: u16,
    pub service: ServiceSide,
    pub protocol: u8,
    pub direction: Direction,
    pub action: Action,
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
    pub first_start: i64,
    pub last_end: i64,
    pub tcp_flags: u8,
}

/// Why a blob does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a binary flow-row blob")]
    NotThisFormat,
    #[error("unknown flow-row format version {0}")]
    Version(u8),
    #[error("flow-row blob does not inflate")]
    Inflate,
    #[error("flow-row blob ends early")]
    Truncated,
    #[error("flow-row blob has a value out of range")]
    BadValue,
}

/// Whether a blob is in this format (rather than the older deflated text).
pub fn is_binary(blob: &[u8]) -> bool {
    blob.first() == Some(&MAGIC)
}

/// Rows of one subject and bucket, added one at a time, written as blobs of at most
/// [`BODY_BUDGET`] bytes before compression.
#[derive(Debug)]
pub struct Encoder {
    bucket_start: i64,
    flags: Vec<u8>,
    remote: Vec<u8>,
    local: Vec<u8>,
    port: Vec<u8>,
    protocol: Vec<u8>,
    packets: Vec<u8>,
    bytes: Vec<u8>,
    flows: Vec<u8>,
    first: Vec<u8>,
    last: Vec<u8>,
    tcp_flags: Vec<u8>,
    locals: Vec<IpAddr>,
    local_map: std::collections::HashMap<IpAddr, usize, foldhash::fast::RandomState>,
    last_local: usize,
    /// Bytes of the local dictionary as written.
    locals_len: usize,
    previous_v4: u32,
    previous_v6: u128,
    rows: usize,
    compressor: Compress,
}

/// The longest a row can be: flags 1, remote 19 (an IPv6 delta), local index 5, port 3,
/// protocol 1, packets, bytes and flows 10 each, first and last 10 each, TCP flags 1; plus an
/// IPv6 entry of the local dictionary (17).
const MAX_ROW: usize = 1 + 19 + 5 + 3 + 1 + 30 + 20 + 1 + 17;

impl Encoder {
    pub fn new(bucket_start: i64) -> Self {
        Encoder {
            bucket_start,
            flags: Vec::new(),
            remote: Vec::new(),
            local: Vec::new(),
            port: Vec::new(),
            protocol: Vec::new(),
            packets: Vec::new(),
            bytes: Vec::new(),
            flows: Vec::new(),
            first: Vec::new(),
            last: Vec::new(),
            tcp_flags: Vec::new(),
            locals: Vec::new(),
            local_map: Default::default(),
            last_local: 0,
            locals_len: 0,
            previous_v4: 0,
            previous_v6: 0,
            rows: 0,
            compressor: Compress::new(Compression::new(LEVEL), false),
        }
    }

    /// Start over for another subject or bucket, keeping the buffers.
    pub fn reset(&mut self, bucket_start: i64) {
        self.bucket_start = bucket_start;
        for column in self.columns_mut() {
            column.clear();
        }
        self.locals.clear();
        self.local_map.clear();
        self.last_local = 0;
        self.locals_len = 0;
        self.previous_v4 = 0;
        self.previous_v6 = 0;
        self.rows = 0;
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether one more row could push the body past [`BODY_BUDGET`]: the caller then writes the
    /// blob with [`Encoder::finish`] first.
    pub fn is_full(&self) -> bool {
        self.body_len() + MAX_ROW > BODY_BUDGET
    }

    /// Add a row. Rows sorted by remote address make the smallest blobs.
    pub fn push(&mut self, row: &Row) {
        let local = self.local_index(row.local);
        let remote_v6 = match row.remote {
            IpAddr::V4(v4) => {
                let bits = v4.to_bits();
                put(
                    &mut self.remote,
                    u64::from(bits.wrapping_sub(self.previous_v4)),
                );
                self.previous_v4 = bits;
                0
            }
            IpAddr::V6(v6) => {
                let bits = v6.to_bits();
                put_u128(&mut self.remote, bits.wrapping_sub(self.previous_v6));
                self.previous_v6 = bits;
                1
            }
        };
        self.flags.push(
            direction_bits(row.direction)
                | (action_bits(row.action) << 2)
                | (service_bits(row.service) << 3)
                | (remote_v6 << 5),
        );
        put(&mut self.local, local as u64);
        put(&mut self.port, u64::from(row.service_port));
        self.protocol.push(row.protocol);
        put(&mut self.packets, row.packets);
        put(&mut self.bytes, row.bytes);
        put(&mut self.flows, row.flows);
        put(
            &mut self.first,
            zigzag(row.first_start.wrapping_sub(self.bucket_start)),
        );
        put(
            &mut self.last,
            zigzag(row.last_end.wrapping_sub(row.first_start)),
        );
        self.tcp_flags.push(row.tcp_flags);
        self.rows += 1;
    }

    /// The index of a local address in the dictionary, adding it the first time. A subject has
    /// one or two local addresses, except an interface whose flows could not be oriented
    /// (direction rule 5 calls the service side local), which may have many: a map then.
    fn local_index(&mut self, address: IpAddr) -> usize {
        if self.locals.get(self.last_local) == Some(&address) {
            return self.last_local;
        }
        let found = if self.locals.len() <= 8 {
            self.locals.iter().position(|a| *a == address)
        } else {
            if self.local_map.len() < self.locals.len() {
                self.local_map
                    .extend(self.locals.iter().enumerate().map(|(i, a)| (*a, i)));
            }
            self.local_map.get(&address).copied()
        };
        let index = found.unwrap_or_else(|| {
            self.locals.push(address);
            self.locals_len += if address.is_ipv4() { 5 } else { 17 };
            if !self.local_map.is_empty() {
                self.local_map.insert(address, self.locals.len() - 1);
            }
            self.locals.len() - 1
        });
        self.last_local = index;
        index
    }

    /// The blob of the rows added since the last reset, compressed; the encoder is reset for
    /// the same bucket.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.body_len() + 32);
        put(&mut body, self.rows as u64);
        put(&mut body, zigzag(self.bucket_start));
        put(&mut body, self.locals.len() as u64);
        for local in &self.locals {
            match local {
                IpAddr::V4(v4) => {
                    body.push(4);
                    body.extend_from_slice(&v4.octets());
                }
                IpAddr::V6(v6) => {
                    body.push(6);
                    body.extend_from_slice(&v6.octets());
                }
            }
        }
        for column in self.columns_mut() {
            body.extend_from_slice(column);
        }
        let blob = self.compress(&body);
        let bucket_start = self.bucket_start;
        self.reset(bucket_start);
        blob
    }

    fn compress(&mut self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() / 2 + 64);
        out.extend_from_slice(&[MAGIC, VERSION, DEFLATED]);
        self.compressor.reset();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let read = usize::try_from(self.compressor.total_in()).unwrap_or(usize::MAX);
            let rest = body.get(read..).unwrap_or_default();
            match self
                .compressor
                .compress_vec(rest, &mut out, FlushCompress::Finish)
            {
                // Incompressible rows (random addresses and counts) can come out a little
                // larger: stored as they are then.
                Ok(Status::StreamEnd) if out.len() <= body.len() + 3 => return out,
                Ok(Status::StreamEnd) => break,
                Ok(_) => {}
                // Compressing into a Vec with room cannot fail; should it, the body is stored.
                Err(_) => break,
            }
        }
        let mut stored = Vec::with_capacity(body.len() + 3);
        stored.extend_from_slice(&[MAGIC, VERSION, STORED]);
        stored.extend_from_slice(body);
        stored
    }

    fn body_len(&self) -> usize {
        let columns: usize = [
            &self.flags,
            &self.remote,
            &self.local,
            &self.port,
            &self.protocol,
            &self.packets,
            &self.bytes,
            &self.flows,
            &self.first,
            &self.last,
            &self.tcp_flags,
        ]
        .iter()
        .map(|c| c.len())
        .sum();
        columns + self.locals_len
    }

    fn columns_mut(&mut self) -> [&mut Vec<u8>; 11] {
        [
            &mut self.flags,
            &mut self.remote,
            &mut self.local,
            &mut self.port,
            &mut self.protocol,
            &mut self.packets,
            &mut self.bytes,
            &mut self.flows,
            &mut self.first,
            &mut self.last,
            &mut self.tcp_flags,
        ]
    }
}

/// The rows of a blob written by [`Encoder::finish`].
pub fn decode(blob: &[u8]) -> Result<Vec<Row>, DecodeError> {
    let [magic, version, compression, payload @ ..] = blob else {
        return Err(if is_binary(blob) {
            DecodeError::Truncated
        } else {
            DecodeError::NotThisFormat
        });
    };
    if *magic != MAGIC {
        return Err(DecodeError::NotThisFormat);
    }
    if *version != VERSION {
        return Err(DecodeError::Version(*version));
    }
    let inflated;
    let body = match *compression {
        STORED if payload.len() > MAX_BODY => return Err(DecodeError::BadValue),
        STORED => payload,
        DEFLATED => {
            inflated = inflate(payload)?;
            &inflated[..]
        }
        _ => return Err(DecodeError::BadValue),
    };
    decode_body(body)
}

fn decode_body(body: &[u8]) -> Result<Vec<Row>, DecodeError> {
    let mut input = Input(body);
    let n = usize::try_from(input.varint()?).map_err(|_| DecodeError::BadValue)?;
    // Every row takes at least one byte in each of its eleven columns: a count beyond that is a
    // damaged blob, and is refused before anything is allocated for it.
    if n > body.len() / 11 {
        return Err(DecodeError::Truncated);
    }
    let bucket_start = unzigzag(input.varint()?);
    let dictionary = usize::try_from(input.varint()?).map_err(|_| DecodeError::BadValue)?;
    if dictionary > body.len() / 5 {
        return Err(DecodeError::Truncated);
    }
    let mut locals = Vec::with_capacity(dictionary);
    for _ in 0..dictionary {
        locals.push(match input.byte()? {
            4 => IpAddr::V4(Ipv4Addr::from(input.array::<4>()?)),
            6 => IpAddr::V6(Ipv6Addr::from(input.array::<16>()?)),
            _ => return Err(DecodeError::BadValue),
        });
    }
    let placeholder = Row {
        remote: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        local: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        service_port: 0,
        service: ServiceSide::Neither,
        protocol: 0,
        direction: Direction::Unknown,
        action: Action::Accept,
        packets: 0,
        bytes: 0,
        flows: 0,
        first_start: 0,
        last_end: 0,
        tcp_flags: 0,
    };
    let mut rows = vec![placeholder; n];
    let mut remote_v6 = vec![false; n];
    for (row, v6) in rows.iter_mut().zip(&mut remote_v6) {
        let flags = input.byte()?;
        row.direction = match flags & 3 {
            0 => Direction::Ingress,
            1 => Direction::Egress,
            2 => Direction::Unknown,
            _ => return Err(DecodeError::BadValue),
        };
        row.action = if flags & 4 == 0 {
            Action::Accept
        } else {
            Action::Reject
        };
        row.service = match (flags >> 3) & 3 {
            0 => ServiceSide::Local,
            1 => ServiceSide::Remote,
            2 => ServiceSide::Neither,
            _ => return Err(DecodeError::BadValue),
        };
        *v6 = flags & 0x20 != 0;
        if flags & 0xc0 != 0 {
            return Err(DecodeError::BadValue);
        }
    }
    let (mut previous_v4, mut previous_v6) = (0u32, 0u128);
    for (row, v6) in rows.iter_mut().zip(&remote_v6) {
        row.remote = if *v6 {
            previous_v6 = previous_v6.wrapping_add(input.varint_u128()?);
            IpAddr::V6(Ipv6Addr::from_bits(previous_v6))
        } else {
            let delta = u32::try_from(input.varint()?).map_err(|_| DecodeError::BadValue)?;
            previous_v4 = previous_v4.wrapping_add(delta);
            IpAddr::V4(Ipv4Addr::from_bits(previous_v4))
        };
    }
    for row in &mut rows {
        let index = usize::try_from(input.varint()?).map_err(|_| DecodeError::BadValue)?;
        row.local = *locals.get(index).ok_or(DecodeError::BadValue)?;
    }
    for row in &mut rows {
        row.service_port = u16::try_from(input.varint()?).map_err(|_| DecodeError::BadValue)?;
    }
    for row in &mut rows {
        row.protocol = input.byte()?;
    }
    for row in &mut rows {
        row.packets = input.varint()?;
    }
    for row in &mut rows {
        row.bytes = input.varint()?;
    }
    for row in &mut rows {
        row.flows = input.varint()?;
    }
    for row in &mut rows {
        row.first_start = bucket_start.wrapping_add(unzigzag(input.varint()?));
    }
    for row in &mut rows {
        row.last_end = row.first_start.wrapping_add(unzigzag(input.varint()?));
    }
    for row in &mut rows {
        row.tcp_flags = input.byte()?;
    }
    if !input.0.is_empty() {
        return Err(DecodeError::BadValue);
    }
    Ok(rows)
}

/// Inflate a body, refusing one larger than [`MAX_BODY`].
fn inflate(payload: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut inflater = Decompress::new(false);
    let mut out: Vec<u8> = Vec::with_capacity(payload.len().saturating_mul(3).clamp(256, MAX_BODY));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= MAX_BODY {
                return Err(DecodeError::Inflate);
            }
            out.reserve_exact(out.capacity().min(MAX_BODY - out.len()));
        }
        let read = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let rest = payload.get(read..).ok_or(DecodeError::Inflate)?;
        let written = out.len();
        match inflater.decompress_vec(rest, &mut out, FlushDecompress::Finish) {
            Ok(Status::StreamEnd) => return Ok(out),
            // No progress with room to spare: the payload ends before the stream does.
            Ok(_) if out.len() == written && out.len() < out.capacity() => {
                return Err(DecodeError::Truncated);
            }
            Ok(_) => {}
            Err(_) => return Err(DecodeError::Inflate),
        }
    }
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let (first, rest) = self.0.split_first().ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(*first)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Truncated)?;
        self.0 = rest;
        Ok(*head)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let value = self.varint_u128()?;
        u64::try_from(value).map_err(|_| DecodeError::BadValue)
    }

    fn varint_u128(&mut self) -> Result<u128, DecodeError> {
        let mut value: u128 = 0;
        for shift in (0..128).step_by(7) {
            let byte = self.byte()?;
            let bits = u128::from(byte & 0x7f);
            if shift == 126 && bits > 3 {
                return Err(DecodeError::BadValue);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::BadValue)
    }
}

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_u128(out: &mut Vec<u8>, mut value: u128) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

fn direction_bits(direction: Direction) -> u8 {
    match direction {
        Direction::Ingress => 0,
        Direction::Egress => 1,
        Direction::Unknown => 2,
    }
}

fn action_bits(action: Action) -> u8 {
    match action {
        Action::Accept => 0,
        Action::Reject => 1,
    }
}

fn service_bits(service: ServiceSide) -> u8 {
    match service {
        ServiceSide::Local => 0,
        ServiceSide::Remote => 1,
        ServiceSide::Neither => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn row(remote: &str, port: u16) -> Row {
        Row {
            remote: ip(remote),
            local: ip("172.31.16.21"),
            service_port: port,
            service: ServiceSide::Local,
            protocol: 6,
            direction: Direction::Ingress,
            action: Action::Accept,
            packets: 20,
            bytes: 4249,
            flows: 1,
            first_start: 1418530010,
            last_end: 1418530070,
            tcp_flags: 0,
        }
    }

    fn encode(rows: &[Row], bucket_start: i64) -> Vec<u8> {
        let mut encoder = Encoder::new(bucket_start);
        for row in rows {
            encoder.push(row);
        }
        encoder.finish()
    }

    #[test]
    fn rows_round_trip_with_every_kind_of_value() {
        let mut rows = vec![
            row("172.31.16.139", 22),
            row("172.31.16.139", 22),
            row("2001:db8:1234:a100:8d6e:3477:df66:f105", 22),
            row("0.0.0.0", 0),
            row("255.255.255.255", 65535),
            row("::", 1),
            row("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 3389),
            row("::ffff:10.0.0.1", 443),
        ];
        rows[1].direction = Direction::Egress;
        rows[1].service = ServiceSide::Remote;
        rows[2].local = ip("2001:db8:1234:a102:3304:8879:34cf:4071");
        rows[3] = Row {
            protocol: 1,
            service: ServiceSide::Neither,
            direction: Direction::Unknown,
            action: Action::Reject,
            packets: u64::MAX,
            bytes: u64::MAX,
            flows: u64::MAX,
            first_start: i64::MIN,
            last_end: i64::MAX,
            tcp_flags: 0xff,
            ..rows[3]
        };
        rows[4].first_start = -5;
        rows[4].last_end = -10;
        for bucket_start in [1418529600, 0, i64::MIN, i64::MAX] {
            let blob = encode(&rows, bucket_start);
            assert!(is_binary(&blob));
            assert_eq!(decode(&blob).unwrap(), rows, "bucket {bucket_start}");
        }
        assert_eq!(decode(&encode(&[], 0)).unwrap(), vec![]);
    }

    #[test]
    fn chunks_stay_within_the_budget_and_the_encoder_is_reusable() {
        let mut encoder = Encoder::new(1418529600);
        let mut blobs = Vec::new();
        let mut written = 0;
        // Incompressible rows: every value random.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if encoder.is_full() {
                written += encoder.rows();
                blobs.push(encoder.finish());
            }
            let mut r = row("1.2.3.4", (x >> 48) as u16);
            r.remote = IpAddr::V6(Ipv6Addr::from_bits(u128::from(x) << 64 | u128::from(!x)));
            r.packets = x;
            r.bytes = x.rotate_left(17);
            r.first_start = x as i64;
            encoder.push(&r);
        }
        written += encoder.rows();
        blobs.push(encoder.finish());
        assert_eq!(written, 100_000);
        assert!(blobs.len() > 5);
        let mut decoded = 0;
        for blob in &blobs {
            assert!(blob.len() <= BODY_BUDGET + 3, "{}", blob.len());
            decoded += decode(blob).unwrap().len();
        }
        assert_eq!(decoded, 100_000);
    }

    #[test]
    fn damaged_blobs_are_errors() {
        let rows: Vec<Row> = (0..500)
            .map(|i| row(&format!("198.51.100.{}", i % 250), 22))
            .collect();
        let blob = encode(&rows, 1418529600);
        assert_eq!(decode(b""), Err(DecodeError::NotThisFormat));
        assert_eq!(decode(b"F"), Err(DecodeError::Truncated));
        assert_eq!(decode(b"x\x01\x01"), Err(DecodeError::NotThisFormat));
        assert_eq!(decode(b"F\x09\x01"), Err(DecodeError::Version(9)));
        assert_eq!(decode(b"F\x01\x07"), Err(DecodeError::BadValue));
        for cut in [3, 4, blob.len() / 2, blob.len() - 1] {
            assert!(decode(&blob[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = blob.clone();
        for i in 3..flipped.len() {
            flipped[i] ^= 0x55;
            let _ = decode(&flipped);
            flipped[i] ^= 0x55;
        }
        // A stored body claiming more rows than it has bytes.
        let mut huge = vec![MAGIC, VERSION, STORED];
        put(&mut huge, u64::MAX >> 1);
        assert!(decode(&huge).is_err());
        // A deflate bomb: far more than a body can be.
        let zeros = vec![0u8; 4 * MAX_BODY];
        let mut compress = Compress::new(Compression::best(), false);
        let mut bomb = vec![MAGIC, VERSION, DEFLATED];
        bomb.reserve(zeros.len());
        compress
            .compress_vec(&zeros, &mut bomb, FlushCompress::Finish)
            .unwrap();
        assert_eq!(decode(&bomb), Err(DecodeError::Inflate));
    }

    #[test]
    fn damaged_bodies_never_panic() {
        let mut rows: Vec<Row> = (0..300)
            .map(|i| row(&format!("198.51.100.{}", i % 250), 22 + i as u16))
            .collect();
        rows[7].remote = ip("2001:db8::7");
        rows[9].local = ip("2001:db8::9");
        let blob = encode(&rows, 1418529600);
        let body = inflate(&blob[3..]).unwrap();
        let stored = |body: &[u8]| [&[MAGIC, VERSION, STORED][..], body].concat();
        assert_eq!(decode(&stored(&body)).unwrap(), rows);
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut damaged = body.clone();
            for k in 0..=(x % 4) {
                let at = ((x >> (8 * k)) as usize) % damaged.len();
                damaged[at] = (x >> (16 + k)) as u8;
            }
            let cut = if x.is_multiple_of(7) {
                (x >> 40) as usize % damaged.len()
            } else {
                damaged.len()
            };
            // Any outcome but a panic; a good one has no more rows than the body has bytes.
            if let Ok(decoded) = decode(&stored(&damaged[..cut])) {
                assert!(decoded.len() * 11 <= cut);
            }
        }
    }

    #[test]
    fn no_deflate_stream_starts_like_this_format() {
        // Bits 1-2 of a deflate stream's first byte are its first block's type; 3 is reserved.
        assert_eq!((MAGIC >> 1) & 3, 3);
        let mut inflater = Decompress::new(false);
        let mut out = Vec::with_capacity(64);
        assert!(
            inflater
                .decompress_vec(&[MAGIC, 0, 0, 0], &mut out, FlushDecompress::Finish)
                .is_err()
        );
    }

    #[test]
    fn varints_and_zigzag() {
        for value in [0, 1, -1, 63, -64, 64, i64::MAX, i64::MIN, 1418530010] {
            assert_eq!(unzigzag(zigzag(value)), value);
        }
        for value in [0u128, 127, 128, u128::from(u64::MAX), u128::MAX] {
            let mut out = Vec::new();
            put_u128(&mut out, value);
            assert_eq!(Input(&out).varint_u128(), Ok(value));
        }
        // Eleven bytes of continuation do not fit a u64; nineteen do not fit a u128.
        assert_eq!(Input(&[0xff; 10]).varint(), Err(DecodeError::Truncated));
        assert_eq!(
            Input(&[
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ])
            .varint(),
            Err(DecodeError::BadValue)
        );
        assert_eq!(Input(&[0xff; 19]).varint_u128(), Err(DecodeError::BadValue));
    }
}
