//! First seen, last seen, count: the one statistic every aggregate and baseline entry keeps.
//! It merges by min / max / sum, so partial aggregates (one per object, one per Lambda batch)
//! combine in any order, in memory or in a conditional update.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

impl Stats {
    pub fn once(time: DateTime<Utc>) -> Self {
        Self {
            count: 1,
            first: time,
            last: time,
        }
    }

    pub fn observe(&mut self, time: DateTime<Utc>) {
        self.count = self.count.saturating_add(1);
        self.first = self.first.min(time);
        self.last = self.last.max(time);
    }

    pub fn merge(&mut self, other: &Stats) {
        self.count = self.count.saturating_add(other.count);
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_in_any_order_give_the_same_stats() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let mut a = Stats::once(t("2024-01-01T10:00:00Z"));
        a.observe(t("2024-01-01T09:00:00Z"));
        let mut b = Stats::once(t("2024-01-01T11:00:00Z"));
        b.merge(&a);
        assert_eq!(b.count, 3);
        assert_eq!(b.first, t("2024-01-01T09:00:00Z"));
        assert_eq!(b.last, t("2024-01-01T11:00:00Z"));
    }
}
