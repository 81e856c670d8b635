//! What the finding's Kubernetes user did around the finding (EKS audit logs), the way an
//! analyst reads the audit log in Detective: how much and from where, which verbs on which
//! resources, the finding's own call, the other notable calls (exec into a pod, secrets read,
//! privileged or host-namespace pods, RBAC changes, tokens minted) one by one, and who else
//! called from the finding's addresses.

use super::{
    KubeRow, KubeRows, NotableCall, NotableKind, NotableKinds, creates_pods_for_others,
    is_anonymous,
};
use crate::enrich::top;
use crate::finding::{Finding, KubeFindingCall};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Verbs, resources, addresses and other users listed by count.
const TOP: usize = 5;
/// The name the reader counts the overflow of a row's verbs, resources and refusals under.
const OVERFLOW: &str = "(other)";
/// Notable calls listed one by one (the counts are always whole).
const CALLS_LISTED: usize = 8;

/// The audit log's view of the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeSummary {
    pub cluster: String,
    /// The finding's user's calls in the window, from any address; `None` when the log has none
    /// of them (or the finding names no user).
    pub user: Option<KubeUserActivity>,
    /// Other users calling from the finding's addresses, by calls, most first: (user, calls,
    /// refused).
    pub others_from_addresses: Vec<(String, u64, u64)>,
    /// How many other users called from those addresses.
    pub other_users: usize,
}

/// What one Kubernetes user did in the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeUserActivity {
    pub username: String,
    pub calls: u64,
    /// Refused by authentication or authorization (401, 403).
    pub denied: u64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// Addresses by calls, most first (calls logged without one are not listed).
    pub addresses: Vec<(String, u64)>,
    pub user_agents: BTreeSet<String>,
    pub top_verbs: Vec<(String, u64)>,
    pub top_resources: Vec<(String, u64)>,
    /// Refused actions (`list secrets`) by calls, most first, and how many distinct ones (the
    /// reader's overflow name not counted).
    pub top_refused: Vec<(String, u64)>,
    pub refused_actions: usize,
    /// Notable calls per kind, all of them, the finding's own included.
    pub notable_counts: BTreeMap<NotableKind, u64>,
    /// The finding's own call, when the log has it.
    pub own_call: Option<NotableCall>,
    /// The other notable calls, in time order (at most `CALLS_LISTED`), and how many the
    /// reader kept in all.
    pub other_calls: Vec<NotableCall>,
    pub other_calls_kept: usize,
    /// Kinds of the other notable calls that were let through, beyond what the finding's own
    /// call already was: the techniques the audit log adds to the finding.
    pub further_kinds: NotableKinds,
    /// The same, for calls that were refused.
    pub further_kinds_refused: NotableKinds,
}

/// What `rows` say about the finding's user and addresses, `None` without rows or when the
/// finding names no Kubernetes call.
pub(super) fn summarise(logs: &KubeRows, finding: &Finding) -> Option<KubeSummary> {
    if logs.rows.is_empty() && logs.callers.is_empty() {
        return None;
    }
    let call = finding.kube_call()?;
    let mine = |row: &KubeRow| {
        row.cluster == call.cluster && call.username.as_deref() == Some(row.username.as_str())
    };
    let mut others: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let callers = logs
        .rows
        .iter()
        .filter(|r| !mine(r))
        .map(|r| (&r.username, r.calls, r.denied))
        .chain(
            logs.callers
                .iter()
                .filter(|c| {
                    c.cluster != call.cluster
                        || call.username.as_deref() != Some(c.username.as_str())
                })
                .map(|c| (&c.username, c.calls, c.denied)),
        );
    for (user, calls, denied) in callers {
        let entry = others.entry(user).or_default();
        entry.0 += calls;
        entry.1 += denied;
    }
    let mut others: Vec<(String, u64, u64)> = others
        .into_iter()
        .map(|(user, (calls, denied))| (user.to_owned(), calls, denied))
        .collect();
    others.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let other_users = others.len();
    others.truncate(TOP);
    let rows: Vec<&KubeRow> = logs.rows.iter().filter(|r| mine(r)).collect();
    Some(KubeSummary {
        cluster: call.cluster.clone(),
        user: (!rows.is_empty()).then(|| user_activity(&rows, &call)),
        others_from_addresses: others,
        other_users,
    })
}

fn user_activity(rows: &[&KubeRow], call: &KubeFindingCall) -> KubeUserActivity {
    let mut out = KubeUserActivity {
        username: rows[0].username.clone(),
        ..KubeUserActivity::default()
    };
    let mut addresses: BTreeMap<String, u64> = BTreeMap::new();
    let mut verbs: BTreeMap<String, u64> = BTreeMap::new();
    let mut resources: BTreeMap<String, u64> = BTreeMap::new();
    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
    let mut notable: Vec<&NotableCall> = Vec::new();
    for row in rows {
        out.calls += row.calls;
        out.denied += row.denied;
        out.first = Some(out.first.map_or(row.first, |t| t.min(row.first)));
        out.last = Some(out.last.map_or(row.last, |t| t.max(row.last)));
        if let Some(ip) = row.source_ip {
            *addresses.entry(ip.to_string()).or_default() += row.calls;
        }
        out.user_agents.extend(row.user_agents.iter().cloned());
        for (verb, n) in &row.verbs {
            *verbs.entry(verb.clone()).or_default() += n;
        }
        for (resource, n) in &row.resources {
            *resources.entry(resource.clone()).or_default() += n;
        }
        for (action, n) in &row.refused {
            *refused.entry(action.clone()).or_default() += n;
        }
        for (kind, n) in &row.notable_counts {
            *out.notable_counts.entry(*kind).or_default() += n;
        }
        notable.extend(&row.notable);
    }
    notable.sort_by_key(|c| c.time);
    let own = (0..notable.len())
        .filter(|i| call.is_own(notable[*i]))
        .min_by_key(|i| call.time.map(|t| (notable[*i].time - t).abs()));
    out.own_call = own.map(|i| notable[i].clone());
    let own_kinds = out.own_call.as_ref().map(|c| c.kinds).unwrap_or_default();
    let others: Vec<&NotableCall> = notable
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != own)
        .map(|(_, c)| *c)
        .collect();
    let for_others = creates_pods_for_others(&out.username);
    for c in &others {
        let further = c
            .kinds
            .iter()
            // Who called, not what was done: every call of an anonymous user has it.
            .filter(|k| *k != NotableKind::Anonymous && !own_kinds.contains(*k))
            // A controller's pods are as their owners specified them.
            .filter(|k| !(for_others && k.of_pod_spec()));
        for kind in further {
            if c.denied {
                out.further_kinds_refused.insert(kind);
            } else {
                out.further_kinds.insert(kind);
            }
        }
    }
    out.other_calls_kept = others.len();
    out.other_calls = others.into_iter().take(CALLS_LISTED).cloned().collect();
    out.addresses = top(addresses, TOP);
    out.top_verbs = top(verbs, TOP);
    out.top_resources = top(resources, TOP);
    out.refused_actions = refused.keys().filter(|a| *a != OVERFLOW).count();
    out.top_refused = top(refused, TOP);
    out
}

impl KubeUserActivity {
    /// Whether the user is the API server's anonymous caller.
    pub fn anonymous(&self) -> bool {
        is_anonymous(&self.username)
    }
}
