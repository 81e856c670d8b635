//! Aggregates kept in time buckets and handed over a part at a time, so that a reader's memory
//! follows a setting ([`Limits`]) and not the object: what the JSON log readers
//! ([`resolver`](crate::resolver), [`eks`](crate::eks)) share, each with its own key and
//! statistics.
//!
//! A bucket is handed over once the stream is [`Limits::grace_secs`] past its end, or, when
//! [`Limits::max_live`] is reached, the oldest one early. A later record of a bucket already
//! handed over starts it again, and lands in a later part: every record is counted once, in one
//! part or another.

use hashbrown::hash_map::EntryRef;
use hashbrown::{Equivalent, HashMap};
use std::collections::BTreeMap;
use std::hash::Hash;

/// Bounds on what a reader holds while an object streams in. Each source has its own defaults
/// (what one of its aggregates weighs, how out of order its deliveries are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most live aggregates; past it the oldest bucket is handed over early.
    pub max_live: usize,
    /// How far the stream must be past a bucket's end before the bucket is handed over: the
    /// slack for records written a little out of order.
    pub grace_secs: i64,
}

impl Limits {
    /// Everything held to the end: one part per object (tests, small objects).
    pub const UNBOUNDED: Self = Self {
        max_live: usize::MAX,
        grace_secs: i64::MAX,
    };
}

/// What reading an object found, with the reader's own reasons for skipping a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary<R> {
    pub records: u64,
    /// Bytes of text read (after decompression): what the cost per GB is per.
    pub text_bytes: u64,
    pub skipped: BTreeMap<R, u64>,
    /// Aggregates handed over (a bucket started again by late records counts again).
    pub aggregates: usize,
    /// Most aggregates live at once: what memory held.
    pub peak_live: usize,
}

/// Written out so that a reason need not be `Default` itself.
impl<R> Default for Summary<R> {
    fn default() -> Self {
        Self {
            records: 0,
            text_bytes: 0,
            skipped: BTreeMap::new(),
            aggregates: 0,
            peak_live: 0,
        }
    }
}

impl<R: Ord> Summary<R> {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Count a record that was skipped for `reason`.
    pub fn skip(&mut self, reason: R) {
        self.records += 1;
        *self.skipped.entry(reason).or_default() += 1;
    }
}

/// A bucket's aggregates, by the key they have within it.
type Bucket<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Aggregates by bucket start and live key `K`, handed over as `(O, V)`: `O` is the key a
/// reader gives out, which usually holds the bucket's start and what the live key only refers to
/// (interned names).
#[derive(Debug)]
pub struct Buckets<K, V, O> {
    buckets: BTreeMap<i64, Bucket<K, V>>,
    width_secs: i64,
    limits: Limits,
    live: usize,
    latest: i64,
    peak_live: usize,
    handed_over: usize,
    ready: Vec<(O, V)>,
}

impl<K: Hash + Eq, V, O: Ord> Buckets<K, V, O> {
    /// Buckets `width_secs` wide (aligned on the Unix epoch), within `limits`.
    pub fn new(width_secs: i64, limits: Limits) -> Self {
        Self {
            buckets: BTreeMap::new(),
            width_secs,
            limits,
            live: 0,
            latest: i64::MIN,
            peak_live: 0,
            handed_over: 0,
            ready: Vec::new(),
        }
    }

    /// Start of the bucket holding `time` (Unix seconds).
    pub fn start_of(&self, time: i64) -> i64 {
        time - time.rem_euclid(self.width_secs)
    }

    /// The aggregate of `key` in the bucket of `time`, made by `new` if there is none yet.
    /// Searched by a borrowed key, so that a record of an aggregate that exists copies nothing;
    /// `new` must make a key equivalent to it.
    pub fn get_or_insert_with<Q>(
        &mut self,
        time: i64,
        key: &Q,
        new: impl FnOnce() -> (K, V),
    ) -> &mut V
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let start = self.start_of(time);
        let bucket = self.buckets.entry(start).or_default();
        match bucket.entry_ref(key) {
            EntryRef::Occupied(entry) => entry.into_mut(),
            EntryRef::Vacant(entry) => {
                self.live += 1;
                self.peak_live = self.peak_live.max(self.live);
                let (key, value) = new();
                entry.insert_with_key(key, value)
            }
        }
    }

    /// Note that the stream has reached `time`, and hand over the buckets it has left behind,
    /// then, while over the bound, the oldest. `key` makes a handed-over aggregate's key from
    /// its bucket's start and its live key.
    pub fn hand_over_past(&mut self, time: i64, mut key: impl FnMut(i64, K) -> O) {
        self.latest = self.latest.max(time);
        let done_before = self
            .latest
            .saturating_sub(self.limits.grace_secs)
            .saturating_sub(self.width_secs);
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() <= done_before || self.live > self.limits.max_live {
                let (start, bucket) = entry.remove_entry();
                self.hand_over(start, bucket, &mut key);
            } else {
                break;
            }
        }
    }

    fn hand_over(&mut self, start: i64, bucket: Bucket<K, V>, key: &mut impl FnMut(i64, K) -> O) {
        self.live -= bucket.len();
        self.handed_over += bucket.len();
        self.ready
            .extend(bucket.into_iter().map(|(k, value)| (key(start, k), value)));
    }

    /// Whether no bucket is live: nothing held refers to what live keys refer to.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Whether a part is waiting for [`Self::take_ready`].
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The aggregates handed over since the last call, sorted by key; empty while every bucket
    /// is still live.
    pub fn take_ready(&mut self) -> Vec<(O, V)> {
        let mut ready = std::mem::take(&mut self.ready);
        ready.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        ready
    }

    /// The last part (every bucket still live), sorted, with the number of aggregates handed
    /// over in all and the most live at once, for the reader's [`Summary`].
    pub fn finish(mut self, mut key: impl FnMut(i64, K) -> O) -> Finished<O, V> {
        while let Some((start, bucket)) = self.buckets.pop_first() {
            self.hand_over(start, bucket, &mut key);
        }
        Finished {
            last: self.take_ready(),
            aggregates: self.handed_over,
            peak_live: self.peak_live,
        }
    }
}

/// What [`Buckets::finish`] hands back.
#[derive(Debug)]
pub struct Finished<O, V> {
    pub last: Vec<(O, V)>,
    pub aggregates: usize,
    pub peak_live: usize,
}

impl<O, V> Finished<O, V> {
    /// The last part, and `summary` with the counts of the buckets.
    pub fn into_summary<R>(self, mut summary: Summary<R>) -> (Vec<(O, V)>, Summary<R>) {
        summary.aggregates = self.aggregates;
        summary.peak_live = self.peak_live;
        (self.last, summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts per (bucket start, name), handed over keyed by both.
    type Counts = Buckets<String, u64, (i64, String)>;
    type Part = Vec<((i64, String), u64)>;

    fn count(buckets: &mut Counts, time: i64, name: &str) {
        *buckets.get_or_insert_with(time, name, || (name.to_owned(), 0)) += 1;
        buckets.hand_over_past(time, |start, name| (start, name));
    }

    fn finish(buckets: Counts) -> (Part, usize, usize) {
        let finished = buckets.finish(|start, name| (start, name));
        (finished.last, finished.aggregates, finished.peak_live)
    }

    fn part(entries: &[(i64, &str, u64)]) -> Part {
        entries
            .iter()
            .map(|(start, name, n)| ((*start, (*name).to_owned()), *n))
            .collect()
    }

    #[test]
    fn buckets_start_on_multiples_of_their_width_before_the_epoch_too() {
        let buckets = Counts::new(600, Limits::UNBOUNDED);
        assert_eq!(buckets.start_of(0), 0);
        assert_eq!(buckets.start_of(599), 0);
        assert_eq!(buckets.start_of(600), 600);
        assert_eq!(buckets.start_of(-1), -600);
    }

    #[test]
    fn unbounded_holds_everything_to_the_end_sorted_by_key() {
        let mut buckets = Counts::new(600, Limits::UNBOUNDED);
        for (time, name) in [(1300, "b"), (10, "b"), (20, "a"), (1250, "b"), (30, "b")] {
            count(&mut buckets, time, name);
            assert!(!buckets.has_ready());
        }
        assert_eq!(
            finish(buckets),
            (part(&[(0, "a", 1), (0, "b", 2), (1200, "b", 2)]), 3, 3)
        );
    }

    #[test]
    fn a_bucket_goes_once_the_stream_is_its_grace_past_its_end() {
        let limits = Limits {
            max_live: 100,
            grace_secs: 300,
        };
        let mut buckets = Counts::new(600, limits);
        count(&mut buckets, 10, "a");
        // 600 + 300 is the first time past the grace; 899 is still within it.
        count(&mut buckets, 899, "a");
        assert!(!buckets.has_ready());
        count(&mut buckets, 900, "a");
        assert_eq!(buckets.take_ready(), part(&[(0, "a", 1)]));
        assert!(!buckets.has_ready() && buckets.take_ready().is_empty());
        // A straggler starts its bucket again, and goes at once: the stream is past it.
        count(&mut buckets, 20, "a");
        assert_eq!(buckets.take_ready(), part(&[(0, "a", 1)]));
        assert_eq!(finish(buckets), (part(&[(600, "a", 2)]), 3, 2));
    }

    #[test]
    fn over_the_bound_the_oldest_bucket_goes_early_whatever_the_grace() {
        let limits = Limits {
            max_live: 2,
            grace_secs: i64::MAX,
        };
        let mut buckets = Counts::new(600, limits);
        count(&mut buckets, 700, "a");
        count(&mut buckets, 10, "a");
        count(&mut buckets, 20, "b");
        // Three live: the oldest bucket (two aggregates) goes, though it came second.
        assert_eq!(buckets.take_ready(), part(&[(0, "a", 1), (0, "b", 1)]));
        assert!(!buckets.is_empty());
        count(&mut buckets, 710, "a");
        assert!(!buckets.has_ready());
        assert_eq!(finish(buckets), (part(&[(600, "a", 2)]), 3, 3));
    }

    #[test]
    fn a_bounded_run_counts_what_an_unbounded_one_does() {
        let times: Vec<(i64, &str)> = (0..500)
            .map(|i| {
                (
                    (i * 37) % 4000 + (i / 50) * 600,
                    ["a", "b", "c"][i as usize % 3],
                )
            })
            .collect();
        let run = |limits: Limits| {
            let mut buckets = Counts::new(600, limits);
            let mut totals = BTreeMap::new();
            for (time, name) in &times {
                count(&mut buckets, *time, name);
                for (key, n) in buckets.take_ready() {
                    *totals.entry(key).or_insert(0) += n;
                }
            }
            let (last, _, peak) = finish(buckets);
            for (key, n) in last {
                *totals.entry(key).or_insert(0) += n;
            }
            (totals, peak)
        };
        let (unbounded, _) = run(Limits::UNBOUNDED);
        for max_live in [1, 2, 5] {
            let (bounded, peak) = run(Limits {
                max_live,
                grace_secs: 0,
            });
            assert_eq!(bounded, unbounded, "max_live {max_live}");
            // One over the bound at most, between a record and the hand-over it causes.
            assert!(peak <= max_live + 1, "{peak} > {max_live} + 1");
        }
    }

    #[test]
    fn a_summary_counts_skips_as_records_and_takes_the_buckets_counts() {
        let mut summary = Summary::<&str>::default();
        summary.skip("bad");
        summary.skip("bad");
        summary.skip("late");
        summary.records += 1;
        assert_eq!((summary.records, summary.skipped_total()), (4, 3));
        let mut buckets = Counts::new(600, Limits::UNBOUNDED);
        count(&mut buckets, 0, "a");
        let (last, summary) = buckets
            .finish(|start, name| (start, name))
            .into_summary(summary);
        assert_eq!(last, part(&[(0, "a", 1)]));
        assert_eq!((summary.aggregates, summary.peak_live), (1, 1));
        assert_eq!(summary.skipped[&"bad"], 2);
    }
}
