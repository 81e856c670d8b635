//! The table of a bucket's IPv4 aggregates (nearly all of them): a compact index (4 bytes a
//! slot: a fingerprint of the key's hash and an entry number, open addressing, linear probing)
//! over the aggregates themselves, kept dense in the order they were first seen. Filled a batch
//! of records at a time.
//!
//! A busy bucket has hundreds of thousands of aggregates (an internet-facing object has a new
//! remote address in every third record), more than the processor's caches hold, and every
//! record looks one up. The layout keeps what a lookup touches small: the index is a tenth of
//! the size of a map holding the aggregates in its slots, and the aggregates that most records
//! add to (the few busy flows of a bucket) are among the first seen, so they sit together at the
//! start of the entries instead of scattered over the whole table; a new aggregate is appended.
//! Records are added in batches: every slot of the batch is loaded first, then every entry those
//! slots name, so the batch's cache misses overlap instead of being waited for one by one; the
//! standard map hides where a key's slot is, so it cannot do that. In profiles of the 2 M-record
//! objects of `scripts/gen-flowlog-objects.py`, finding aggregates went from a quarter of the
//! time (the standard map, a record at a time) to about an eighth.
//!
//! The entries are a plain vector, so a flush sorts them where they are.

use std::hash::{BuildHasher, Hash, Hasher};

/// The key of an IPv4 flow: the common case, kept to 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key4 {
    pub(super) interface: u32,
    pub(super) local: u32,
    pub(super) remote: u32,
    pub(super) port: u16,
    pub(super) protocol: u8,
    pub(super) flags: u8,
}

/// Hashed as two words rather than field by field: the hash is the bulk of the cost of adding a
/// record to the map.
impl Hash for Key4 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64((u64::from(self.interface) << 32) | u64::from(self.local));
        state.write_u64(
            (u64::from(self.remote) << 32)
                | (u64::from(self.port) << 16)
                | (u64::from(self.protocol) << 8)
                | u64::from(self.flags),
        );
    }
}

/// The counts of an aggregate, in 32 bytes (an entry with its key is 48). Times are offsets from the bucket start: the first start
/// is always within the bucket; the last end is within 68 years of it for any real record (an
/// end further off, which no capture window has, is kept as the nearest such offset). Flows
/// count to 4,294,967,295 per aggregate and flush, more records than an object can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Totals {
    pub(super) packets: u64,
    pub(super) bytes: u64,
    pub(super) flows: u32,
    pub(super) first_offset: u32,
    pub(super) last_offset: i32,
    pub(super) tcp_flags: u8,
}

/// One record's part in its aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Delta {
    pub(super) packets: u64,
    pub(super) bytes: u64,
    pub(super) first_offset: u32,
    pub(super) last_offset: i32,
    pub(super) tcp_flags: u8,
}

impl Totals {
    pub(super) fn new(delta: &Delta) -> Self {
        Totals {
            packets: delta.packets,
            bytes: delta.bytes,
            flows: 1,
            first_offset: delta.first_offset,
            last_offset: delta.last_offset,
            tcp_flags: delta.tcp_flags,
        }
    }

    pub(super) fn add(&mut self, delta: &Delta) {
        self.packets = self.packets.saturating_add(delta.packets);
        self.bytes = self.bytes.saturating_add(delta.bytes);
        self.flows = self.flows.saturating_add(1);
        self.first_offset = self.first_offset.min(delta.first_offset);
        self.last_offset = self.last_offset.max(delta.last_offset);
        self.tcp_flags |= delta.tcp_flags;
    }
}

/// The most aggregates a table holds: entry numbers take 24 bits of an index slot.
pub(super) const MAX_ENTRIES: usize = (1 << 24) - 1;

/// The fingerprint kept in an index slot: the hash's high 8 bits.
fn fingerprint(hash: u64) -> u32 {
    (hash >> 56) as u32
}

/// The entry an index slot names.
fn entry_of(slot: u32) -> usize {
    ((slot & 0x00ff_ffff) as usize).wrapping_sub(1)
}

/// The most records added in one batch.
pub(super) const BATCH: usize = 32;

/// A record to add: its key and its part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Update {
    pub(super) key: Key4,
    pub(super) delta: Delta,
}

/// The aggregate map's hasher: foldhash, keyed at random per process, so whoever chooses remote
/// addresses and ports (a scanner, spoofed sources) cannot aim for collisions without seeing
/// hashes, which never leave the process.
pub(super) type KeyedState = foldhash::fast::RandomState;

/// IPv4 aggregates by key.
#[derive(Debug, Default)]
pub(super) struct Table {
    /// Per slot, 0 when empty, else the high 8 bits of the key's hash and, below, the entry's
    /// number plus one (below [`MAX_ENTRIES`]). A power of two in length (or empty), at most
    /// half full.
    index: Vec<u32>,
    entries: Vec<(Key4, Totals)>,
    hasher: KeyedState,
}

impl Table {
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Add records to their aggregates; returns how many aggregates were new. The table must
    /// hold fewer than [`MAX_ENTRIES`] aggregates after them (the caller's limit sees to it).
    pub(super) fn add_all(&mut self, updates: &[Update]) -> usize {
        let before = self.entries.len();
        for batch in updates.chunks(BATCH) {
            self.reserve(batch.len());
            let mask = self.index.len() - 1;
            let mut hashes = [0u64; BATCH];
            // Load every home slot of the batch first, then the entry each names: independent
            // loads, whose misses overlap, where a lookup at a time would wait for each.
            let mut touched = 0u32;
            for (hash, update) in hashes.iter_mut().zip(batch) {
                *hash = self.hash(&update.key);
                touched ^= self.index[*hash as usize & mask];
            }
            for hash in &hashes[..batch.len()] {
                let slot = self.index[*hash as usize & mask];
                if slot >> 24 == fingerprint(*hash)
                    && let Some((key, _)) = self.entries.get(entry_of(slot))
                {
                    touched ^= key.remote;
                }
            }
            std::hint::black_box(touched);
            for (hash, update) in hashes.iter().zip(batch) {
                let fingerprint = fingerprint(*hash);
                let mut at = *hash as usize & mask;
                loop {
                    let slot = self.index[at];
                    if slot == 0 {
                        self.entries.push((update.key, Totals::new(&update.delta)));
                        self.index[at] = (fingerprint << 24) | self.entries.len() as u32;
                        break;
                    }
                    if slot >> 24 == fingerprint
                        && let Some((key, totals)) = self.entries.get_mut(entry_of(slot))
                        && *key == update.key
                    {
                        totals.add(&update.delta);
                        break;
                    }
                    at = (at + 1) & mask;
                }
            }
        }
        self.entries.len() - before
    }

    /// The aggregates, to sort and write out; the table is emptied by [`Table::clear`].
    pub(super) fn entries_mut(&mut self) -> &mut Vec<(Key4, Totals)> {
        &mut self.entries
    }

    /// Empty the table, keeping its memory for the next bucket.
    pub(super) fn clear(&mut self) {
        if !self.entries.is_empty() {
            self.index.fill(0);
        }
        self.entries.clear();
    }

    fn hash(&self, key: &Key4) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Room for `more` aggregates with the index at most half full.
    fn reserve(&mut self, more: usize) {
        let needed = (self.entries.len() + more) * 2;
        if needed <= self.index.len() {
            return;
        }
        let capacity = needed.next_power_of_two().max(1024);
        self.index = vec![0; capacity];
        let mask = capacity - 1;
        for (number, (key, _)) in self.entries.iter().enumerate() {
            let hash = self.hash(key);
            let mut at = hash as usize & mask;
            while self.index[at] != 0 {
                at = (at + 1) & mask;
            }
            self.index[at] = (fingerprint(hash) << 24) | (number as u32 + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(remote: u32, port: u16, packets: u64) -> Update {
        Update {
            key: Key4 {
                interface: 1,
                local: 0xac1f_1015,
                remote,
                port,
                protocol: 6,
                flags: 0,
            },
            delta: Delta {
                packets,
                bytes: packets * 100,
                first_offset: remote % 600,
                last_offset: (remote % 600) as i32 + 60,
                tcp_flags: 2,
            },
        }
    }

    #[test]
    fn adds_like_a_map_through_growth_and_reuse() {
        let mut table = Table::default();
        let mut reference: std::collections::HashMap<Key4, Totals> = Default::default();
        let mut x: u64 = 0x243f_6a88_85a3_08d3;
        for round in 0..2 {
            let mut updates = Vec::new();
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few remotes and ports: most records add to an existing aggregate.
                let port = [22, 443, 80][(x >> 40) as usize % 3];
                updates.push(update((x % 3000) as u32, port, x >> 60));
            }
            let mut added = 0;
            for batch in updates.chunks(7) {
                added += table.add_all(batch);
            }
            for u in &updates {
                reference
                    .entry(u.key)
                    .and_modify(|t| t.add(&u.delta))
                    .or_insert_with(|| Totals::new(&u.delta));
            }
            assert_eq!(added, reference.len(), "round {round}");
            assert_eq!(table.len(), reference.len());
            let got: std::collections::HashMap<Key4, Totals> =
                table.entries_mut().iter().copied().collect();
            assert_eq!(got, reference);
            table.clear();
            assert_eq!(table.len(), 0);
            reference.clear();
        }
    }
}
