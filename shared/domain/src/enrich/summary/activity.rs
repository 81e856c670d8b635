//! The principal's API calls in the window: how many, which, failed or not, and when.

use super::behaviour::is_sensitive;
use super::{ContextSummary, top};
use crate::activity::is_auth_error;
use crate::enrich::context::Context;
use crate::enrich::rows::ActivityRow;
use crate::enrich::timeline::Timeline;
use std::collections::{BTreeMap, BTreeSet};

/// Activity aggregates are stored per hour.
const ACTIVITY_BUCKET_SECS: i64 = 3600;

/// The principal's own calls: under its access key when the finding names one (the exact
/// credentials), else under its ARN. Calls filed under the remote IP are other principals'
/// too and are not summed in.
pub(super) fn own_activity(context: &Context) -> Vec<&ActivityRow> {
    let subject = ["CT#accessKey#", "CT#arn#"].into_iter().find(|prefix| {
        context
            .activity
            .iter()
            .any(|r| r.subject.starts_with(prefix))
    });
    context
        .activity
        .iter()
        .filter(|r| subject.is_some_and(|prefix| r.subject.starts_with(prefix)))
        .collect()
}

impl ContextSummary {
    pub(super) fn summarise_activity(&mut self, context: &Context, own: &[&ActivityRow]) {
        let mut apis: BTreeMap<String, u64> = BTreeMap::new();
        let mut first_failure: BTreeMap<&str, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
        for row in own.iter().copied() {
            self.api_calls += row.count;
            *apis.entry(row.api()).or_default() += row.count;
            if row.failed() {
                self.api_failures += row.count;
            }
            // Only refusals: NotFound and conflicts are the everyday noise of the console and
            // of infrastructure-as-code refreshes, not someone testing what keys may do.
            if is_auth_error(&row.outcome) {
                self.api_denied += row.count;
                let t = first_failure.entry(&row.source_ip).or_insert(row.first);
                *t = (*t).min(row.first);
            }
        }
        self.top_apis = top(apis, 5);
        self.failures_then_success = own
            .iter()
            .filter(|r| !r.failed())
            .find(|r| {
                first_failure
                    .get(r.source_ip.as_str())
                    .is_some_and(|t| r.last > *t)
            })
            .map(|r| r.source_ip.clone());
        let points: Vec<(i64, usize, u64)> = own
            .iter()
            .map(|r| (r.first.timestamp(), usize::from(r.failed()), r.count))
            .collect();
        self.api_timeline = Timeline::build(ACTIVITY_BUCKET_SECS, ["ok", "failed"], &points);
        self.sensitive_calls = context
            .notable
            .iter()
            .filter(|e| e.error_code.is_none() && is_sensitive(e))
            .count() as u64;
        self.notable_calls = context
            .notable
            .iter()
            .map(|e| match &e.error_code {
                Some(code) => format!("{} ({code})", e.api()),
                None => e.api(),
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .take(8)
            .collect();
    }
}
