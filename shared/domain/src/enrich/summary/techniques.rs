//! Attacker behaviours and benign explanations read from the window's calls (see
//! [`crate::behaviour`]): these need no history, only the window.

use super::ContextSummary;
use crate::activity::NotableEvent;
use crate::behaviour::{Claim, WindowCalls, observe, read_benign};
use crate::enrich::context::Context;
use crate::enrich::rows::ActivityRow;
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
        let in_window: Vec<&NotableEvent> = context
            .notable
            .iter()
            .filter(|e| window.start <= e.time && e.time <= end)
            .collect();
        // Notable events are filed under the role, so a shared role (an Identity Center
        // permission set, a CI role) brings every session's calls. When the finding names its
        // access key and the window has calls made with it, calls made with other keys are
        // someone else's (calls without a key, console sign-ins, stay).
        let key = finding
            .resource
            .as_ref()
            .and_then(|r| r.access_key_details.as_ref())
            .and_then(|k| k.access_key_id.as_deref());
        // The key's own activity rows (every call, reads too) say whether it was used.
        let key_used = key.is_some()
            && (own.iter().any(|r| r.subject.starts_with("CT#accessKey#"))
                || in_window.iter().any(|e| e.access_key_id.as_deref() == key));
        let events: Vec<&NotableEvent> = in_window
            .into_iter()
            .filter(|e| !key_used || e.access_key_id.is_none() || e.access_key_id.as_deref() == key)
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
        // An anomaly finding names the API it flagged and files it under a tactic.
        let claim = finding
            .finding_type
            .split_once(':')
            .zip(finding.flagged_api())
            .map(|((tactic, _), api)| Claim { tactic, api });
        self.benign = read_benign(&calls, &subjects.remote_ips, claim.as_ref());
    }
}
