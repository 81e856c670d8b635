//! Attacker behaviours and benign explanations read from the window's calls (see
//! [`crate::behaviour`]): these need no history, only the window.

use super::ContextSummary;
use crate::behaviour::{WindowCalls, observe, read_benign};
use crate::context::cloudtrail::NotableEvent;
use crate::enrich::rows::{ActivityRow, Context};
use crate::enrich::subjects::Subjects;
use crate::finding::Finding;
use crate::scope::ScopeWindow;
use chrono::Duration;

/// Calls made this long after the finding's last sighting still belong to it: GuardDuty
/// publishes a finding about five minutes after the activity, and the intruder goes on.
const AFTER_LAST_SEEN_MINUTES: i64 = 15;

impl ContextSummary {
    pub(super) fn recognise_techniques(
        &mut self,
        context: &Context,
        own: &[&ActivityRow],
        subjects: &Subjects,
        finding: &Finding,
        window: &ScopeWindow,
    ) {
        let end = window.end + Duration::minutes(AFTER_LAST_SEEN_MINUTES);
        let events: Vec<&NotableEvent> = context
            .notable
            .iter()
            .filter(|e| window.start <= e.time && e.time <= end)
            .collect();
        let activity: Vec<&ActivityRow> = own
            .iter()
            .copied()
            .filter(|r| r.last >= window.start && r.first <= end)
            .collect();
        if events.is_empty() && activity.is_empty() {
            return;
        }
        let calls = WindowCalls {
            events: &events,
            activity: &activity,
            account: finding.account_id.as_deref(),
        };
        self.behaviours = observe(&calls);
        self.benign = read_benign(&calls, &subjects.remote_ips);
    }
}
