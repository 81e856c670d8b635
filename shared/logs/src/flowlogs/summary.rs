//! What happened to the lines of one object: the closing line of a backfill, the log line of an
//! ingest function, and the proof that nothing was dropped silently.

use super::error::SkipReason;
use std::collections::BTreeMap;
use std::fmt;

/// How many skipped lines are remembered by number, so a summary can point at examples.
pub const SKIP_EXAMPLES: usize = 8;

/// Counts for one object. Every line after the header is counted exactly once:
/// `records == aggregated + nodata + skipdata + skipped_total()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read after the header.
    pub records: u64,
    /// Records added to an aggregate.
    pub aggregated: u64,
    /// `NODATA` records: no traffic on the interface during the interval.
    pub nodata: u64,
    /// `SKIPDATA` records: AWS dropped records during the interval (capacity), so the
    /// aggregates of that interval undercount.
    pub skipdata: u64,
    /// Lines not used, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// The first [`SKIP_EXAMPLES`] skipped lines, by line number (the header is line 1).
    pub first_skips: Vec<SkippedLine>,
    /// Aggregated records whose direction could not be decided (see
    /// [`direction`](super::direction), rule 5).
    pub unknown_direction: u64,
    /// Rows written: distinct aggregates, plus one for each key of a bucket flushed more than
    /// once (see [`Limits`](super::Limits)).
    pub aggregates: usize,
    /// Buckets flushed before the end of the object, because the stream had left them behind or
    /// memory was at its limit.
    pub flushes: u64,
    /// Records counted into a bucket that had already been flushed (late records, or records
    /// after an early flush): each adds at most one row, never a second count.
    pub late_records: u64,
}

/// One skipped line, for pointing a reader at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedLine {
    pub line: u64,
    pub reason: SkipReason,
}

impl Summary {
    /// Lines skipped for any reason.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Aggregated records per aggregate: how many records each write stands for.
    pub fn records_per_aggregate(&self) -> f64 {
        if self.aggregates == 0 {
            0.0
        } else {
            self.aggregated as f64 / self.aggregates as f64
        }
    }

    pub(super) fn skip(&mut self, line: u64, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
        if self.first_skips.len() < SKIP_EXAMPLES {
            self.first_skips.push(SkippedLine { line, reason });
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records: {} aggregated into {} aggregates, {} NODATA, {} SKIPDATA, {} skipped",
            self.records,
            self.aggregated,
            self.aggregates,
            self.nodata,
            self.skipdata,
            self.skipped_total()
        )?;
        if !self.skipped.is_empty() {
            let reasons: Vec<String> = self
                .skipped
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect();
            write!(f, " ({})", reasons.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flowlogs::field::Field;

    #[test]
    fn skips_are_counted_by_reason_with_a_few_examples() {
        let mut summary = Summary {
            records: 20,
            aggregated: 8,
            aggregates: 2,
            ..Summary::default()
        };
        for line in 2..14 {
            summary.skip(line, SkipReason::WrongFieldCount);
        }
        summary.skip(14, SkipReason::BadNumber(Field::Bytes));
        assert_eq!(summary.skipped_total(), 13);
        assert_eq!(summary.first_skips.len(), SKIP_EXAMPLES);
        assert_eq!(summary.first_skips[0].line, 2);
        assert_eq!(summary.records_per_aggregate(), 4.0);
        assert_eq!(
            summary.to_string(),
            "20 records: 8 aggregated into 2 aggregates, 0 NODATA, 0 SKIPDATA, 13 skipped \
             (12 wrong number of fields, 1 bytes is not a number in range)"
        );
    }
}
