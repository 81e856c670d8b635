//! Everything read about a finding's subjects: the core rows and every other source's.

use super::rows::{ActivityRow, BaselineRow, CoreRows, FlowRow};
use super::sources::SourceRows;
use crate::activity::NotableEvent;

/// Everything found about a finding's subjects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub flows: Vec<FlowRow>,
    pub activity: Vec<ActivityRow>,
    pub baseline: Vec<BaselineRow>,
    /// Notable CloudTrail events in the window.
    pub notable: Vec<NotableEvent>,
    /// The rows of every other log source (Resolver, EKS audit...), each typed by its source.
    pub sources: SourceRows,
    /// How many lookups were made: with no rows at all, the notice says context was missing.
    pub lookups: usize,
}

impl Context {
    /// The core rows, for the other sources' summaries.
    pub fn core(&self) -> CoreRows<'_> {
        CoreRows {
            flows: &self.flows,
            activity: &self.activity,
            baseline: &self.baseline,
            notable: &self.notable,
        }
    }

    /// With both CloudTrail paths deployed (EventBridge events within seconds, S3 files within
    /// minutes) a call arrives twice. S3 is complete, live events fill the gap until it
    /// arrives: a live row that an S3 aggregate already covers is dropped, and notable events
    /// are kept once per CloudTrail `eventID`.
    pub fn drop_repeated_events(&mut self) {
        let covered: Vec<bool> = self
            .activity
            .iter()
            .map(|row| row.live && self.activity.iter().any(|other| row.counted_in(other)))
            .collect();
        let mut covered = covered.into_iter();
        self.activity.retain(|_| !covered.next().unwrap_or(false));
        let mut seen = std::collections::HashSet::new();
        self.notable.retain(|event| match &event.event_id {
            Some(id) => seen.insert(id.clone()),
            None => true,
        });
    }
}
