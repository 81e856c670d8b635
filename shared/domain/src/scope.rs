//! The scope window: the time range an investigation of a finding looks at, pinned from the
//! finding's first and last sighting like Amazon Detective's scope time, so every query about
//! the finding (and the reader of the notice) uses the same range.

use crate::finding::Finding;
use chrono::{DateTime, Duration, Utc};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub look_back: Duration,
}

impl ScopeWindow {
    /// From `first seen - look_back` to `last seen`. Findings without times fall back on
    /// `updatedAt`, then on `now`, so a window always exists.
    pub fn for_finding(finding: &Finding, look_back: Duration, now: DateTime<Utc>) -> Self {
        let anchor = finding.updated_at().unwrap_or(now);
        let last = finding.last_seen().unwrap_or(anchor);
        let first = finding.first_seen().unwrap_or(last).min(last);
        Self {
            start: first - look_back,
            end: last,
            look_back,
        }
    }
}

impl fmt::Display for ScopeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end_format = if self.start.date_naive() == self.end.date_naive() {
            "%H:%M"
        } else {
            "%Y-%m-%d %H:%M"
        };
        write!(
            f,
            "{} - {} UTC (look-back {} min)",
            self.start.format("%Y-%m-%d %H:%M"),
            self.end.format(end_format),
            self.look_back.num_minutes()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn window_runs_from_first_seen_minus_look_back_to_last_seen() {
        let f: Finding = serde_json::from_value(json!({"id": "a", "type": "X", "severity": 2,
            "service": {"eventFirstSeen": "2026-03-02T02:00:00Z",
                "eventLastSeen": "2026-03-02T03:10:00Z"}}))
        .unwrap();
        let w = ScopeWindow::for_finding(&f, Duration::minutes(45), Utc::now());
        assert_eq!(
            w.to_string(),
            "2026-03-02 01:15 - 03:10 UTC (look-back 45 min)"
        );
    }

    #[test]
    fn a_finding_without_times_gets_a_window_ending_now() {
        let f: Finding =
            serde_json::from_value(json!({"id": "a", "type": "X", "severity": 2})).unwrap();
        let now = Utc::now();
        let w = ScopeWindow::for_finding(&f, Duration::minutes(60), now);
        assert_eq!(w.end, now);
        assert_eq!(w.start, now - Duration::minutes(60));
    }
}
