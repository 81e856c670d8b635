//! Two series of counts over equal slots of time (successful vs failed calls, accepted vs
//! rejected flows), so the notice can show *when* things happened as a one-line sparkline per
//! series: "failures, then successes" is visible at a glance, where totals hide it.

use chrono::{DateTime, Duration, TimeZone, Utc};

/// At most this many slots: a sparkline must fit a phone screen.
pub const MAX_SLOTS: usize = 24;

/// Slot widths the timeline may use, in seconds: round figures a reader can take in.
const SLOT_WIDTHS: [i64; 12] = [
    600, 1_200, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800, 345_600, 604_800,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub start: DateTime<Utc>,
    pub slot: Duration,
    /// Label and count per slot; every series has the same number of slots.
    pub series: [(&'static str, Vec<u64>); 2],
}

impl Timeline {
    /// The timeline of `points` (`(unix seconds, series 0 or 1, count)`), in slots no finer than
    /// `resolution_secs` (the bucket of the stored aggregates: finer slots would show gaps that
    /// are not there). `None` when everything falls in one slot: that is a total, not a
    /// timeline.
    pub fn build(
        resolution_secs: i64,
        labels: [&'static str; 2],
        points: &[(i64, usize, u64)],
    ) -> Option<Self> {
        let first = points.iter().map(|p| p.0).min()?;
        let last = points.iter().map(|p| p.0).max()?;
        let width = SLOT_WIDTHS
            .iter()
            .copied()
            .filter(|w| *w >= resolution_secs)
            .find(|w| slots_between(first, last, *w) <= MAX_SLOTS)
            .unwrap_or(SLOT_WIDTHS[SLOT_WIDTHS.len() - 1]);
        let start = first.div_euclid(width) * width;
        let slots = slots_between(first, last, width).min(MAX_SLOTS);
        if slots < 2 {
            return None;
        }
        let mut series = labels.map(|label| (label, vec![0u64; slots]));
        for &(t, which, count) in points {
            let slot = ((t - start) / width) as usize;
            if let Some(cell) = series
                .get_mut(which)
                .and_then(|(_, counts)| counts.get_mut(slot.min(slots - 1)))
            {
                *cell += count;
            }
        }
        Some(Self {
            start: Utc.timestamp_opt(start, 0).single()?,
            slot: Duration::seconds(width),
            series,
        })
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.start + self.slot * self.series[0].1.len() as i32
    }
}

fn slots_between(first: i64, last: i64, width: i64) -> usize {
    (last.div_euclid(width) - first.div_euclid(width) + 1) as usize
}

/// One character per slot: `·` for none, then eight heights scaled to the series' own
/// maximum (the series differ by orders of magnitude; their totals are printed beside them).
pub fn sparkline(counts: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&c| match c {
            0 => '·',
            c => BARS[((c * 8).div_ceil(max) as usize).clamp(1, 8) - 1],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_widen_to_fit_a_phone_and_counts_land_in_their_slot() {
        let t0 = 1_722_375_000; // 2024-07-30T21:30:00Z
        let points = [(t0, 1, 2), (t0 + 3 * 3600, 0, 4), (t0 + 40 * 3600, 0, 1)];
        let t = Timeline::build(3600, ["ok", "failed"], &points).unwrap();
        assert_eq!(t.slot, Duration::hours(2), "41 hourly slots do not fit 24");
        assert_eq!(t.start.to_rfc3339(), "2024-07-30T20:00:00+00:00");
        assert_eq!(t.series[1].1[0], 2);
        assert_eq!(t.series[0].1[2], 4, "00:30 is in the 00:00-02:00 slot");
        assert_eq!(t.series[0].1.iter().sum::<u64>(), 5);
        assert!(t.series[0].1.len() <= MAX_SLOTS);
    }

    #[test]
    fn one_slot_is_not_a_timeline() {
        assert!(Timeline::build(600, ["a", "b"], &[(100, 0, 1), (200, 1, 3)]).is_none());
        assert!(Timeline::build(600, ["a", "b"], &[]).is_none());
    }

    #[test]
    fn sparkline_scales_to_the_series_maximum() {
        assert_eq!(sparkline(&[0, 1, 4, 8, 2]), "·▁▄█▂");
        assert_eq!(sparkline(&[0, 0]), "··");
        assert_eq!(sparkline(&[400, 1]), "█▁", "small but not none");
    }
}
