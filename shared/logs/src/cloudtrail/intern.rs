//! Interning of aggregate keys.
//!
//! Aggregating is one map update per record and key, and most records repeat keys already seen
//! (the same principal calling the same API from the same place). Each key is written into a
//! reusable buffer in an injective text form and looked up by `&str`; only a key never seen
//! before allocates. The maps of counts are then keyed by small integers.

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasherDefault, Hasher};

/// Text keys to dense ids, each id carrying the decoded value `T` for the output.
#[derive(Debug)]
pub(super) struct Interner<T> {
    ids: HashMap<Box<str>, u32>,
    values: Vec<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Self {
            ids: HashMap::new(),
            values: Vec::new(),
        }
    }
}

impl<T> Interner<T> {
    /// The id of `encoded`, creating it with `make` the first time.
    pub fn id(&mut self, encoded: &str, make: impl FnOnce() -> T) -> u32 {
        if let Some(&id) = self.ids.get(encoded) {
            return id;
        }
        // More than 4 billion distinct keys in one aggregator is not a real input; saturate
        // rather than panic (the last id is then shared).
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(make());
        self.ids.insert(encoded.into(), id);
        id
    }

    pub fn get(&self, id: u32) -> Option<&T> {
        self.values.get(id as usize)
    }

    /// Keys interned so far: they stay until the interner is dropped.
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

/// A map keyed by interned ids (and buckets, kinds): small integers we assign, so the
/// multiplicative hash rustc uses (FxHash) is safe and several times cheaper than SipHash.
/// Maps keyed by text from records keep `std`'s SipHash: that text is chosen by callers.
pub(super) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }
    fn write_isize(&mut self, n: isize) {
        self.add(n as u64);
    }
}

/// Appends `Some(s)` as `len:s` and `None` as `~`, so a sequence of fields encodes injectively
/// whatever characters they contain.
pub(super) fn push_field(buf: &mut String, field: Option<&str>) {
    match field {
        Some(s) => {
            // Writing into a String cannot fail.
            let _ = write!(buf, "{}:", s.len());
            buf.push_str(s);
        }
        None => buf.push('~'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_encoding_is_injective() {
        let enc = |fields: &[Option<&str>]| {
            let mut buf = String::new();
            for f in fields {
                push_field(&mut buf, *f);
            }
            buf
        };
        assert_ne!(
            enc(&[Some("a:1"), Some("b")]),
            enc(&[Some("a"), Some("1:b")])
        );
        assert_ne!(enc(&[None, Some("")]), enc(&[Some(""), None]));
    }

    #[test]
    fn ids_are_stable_and_values_built_once() {
        let mut interner = Interner::default();
        let a = interner.id("a", || "A");
        let b = interner.id("b", || "B");
        assert_eq!(interner.id("a", || unreachable!()), a);
        assert_ne!(a, b);
        assert_eq!(interner.get(b), Some(&"B"));
    }
}
