//! The facts the context rules and the notice use, computed once from the rows.

mod activity;
mod behaviour;
mod flows;
mod techniques;

use super::context::Context;
use super::sources::SourceSummaries;
use super::subjects::Subjects;
use super::timeline::Timeline;
use crate::behaviour::{BenignReading, Observation};
use crate::finding::Finding;
use crate::scope::ScopeWindow;
use crate::traffic::ServiceSide;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A port that was connected to, and on which side: "we were reached on 22" and "we reached
/// out to their 4444" call for different next steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePort {
    pub port: u16,
    pub side: ServiceSide,
}

impl fmt::Display for ServicePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.side {
            ServiceSide::Local => write!(f, "{} (local)", self.port),
            ServiceSide::Remote => write!(f, "{} (remote)", self.port),
            ServiceSide::Neither => write!(f, "{}", self.port),
        }
    }
}

/// Traffic between the finding's resource and one of the finding's remote IPs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteTraffic {
    pub ip: String,
    pub accepted_flows: u64,
    pub rejected_flows: u64,
    /// Bytes of accepted flows, both directions.
    pub accepted_bytes: u64,
    /// Bytes the resource sent to the remote in accepted flows.
    pub sent_bytes: u64,
    /// The ports connected to, on whichever side listened.
    pub service_ports: BTreeSet<ServicePort>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowTotals {
    pub accepted_flows: u64,
    pub rejected_flows: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Remote IPs by bytes exchanged, largest first (at most 5).
    pub top_remotes: Vec<(String, u64)>,
    /// Service ports by flows (accepted or not), most first (at most 5): what was reached or
    /// connected to, or tried.
    pub top_ports: Vec<(ServicePort, u64)>,
}

/// Successful sensitive calls made from one network the principal had never used before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallsFromNewNetwork {
    pub network: String,
    /// `service:Api` names.
    pub calls: BTreeSet<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextSummary {
    /// Why the context could not be read (the table throttled, timed out...): the notice says
    /// so, rather than pass a failed lookup off as an absence of activity.
    pub unavailable: Option<String>,
    /// Lookups made and rows found: "no context" is itself worth saying.
    pub lookups: usize,
    pub rows: usize,
    pub flows: Option<FlowTotals>,
    pub remotes: Vec<RemoteTraffic>,
    /// Accepted vs rejected flows over time: with the finding's remote IPs when there are
    /// any, else all flows of the resource (the title says which).
    pub flow_timeline: Option<(String, Timeline)>,
    pub api_calls: u64,
    pub api_failures: u64,
    /// `service:Api` by count, largest first (at most 5).
    pub top_apis: Vec<(String, u64)>,
    /// Successful vs failed calls of the principal over time.
    pub api_timeline: Option<Timeline>,
    /// A source IP whose failed calls were followed by successful ones in the window.
    pub failures_then_success: Option<String>,
    /// Notable calls in the window, `service:Api` with the error code if any (at most 8).
    pub notable_calls: Vec<String>,
    /// The finding's remote IPs, their networks and its user agent that the principal had
    /// never used before the window.
    pub new_ips: Vec<String>,
    pub new_networks: Vec<String>,
    pub new_user_agents: Vec<String>,
    /// APIs the principal called successfully in the window and never before (at most 5).
    pub new_apis: Vec<String>,
    /// Sensitive calls in the window from networks the principal had never used before.
    pub sensitive_from_new_networks: Vec<CallsFromNewNetwork>,
    /// The finding's remote IPs the principal had used before the window, with days of use.
    pub known_ips: Vec<(String, i64)>,
    /// Days between the principal's oldest baseline entry and the window start.
    pub history_days: Option<i64>,
    /// Whether that history is long enough to call anything new (the `min_history` setting).
    pub history_sufficient: bool,
    /// Refused calls (AccessDenied, UnauthorizedOperation, bad credentials) of the principal:
    /// unlike NotFound or a conflict, these say the caller lacked the right.
    pub api_denied: u64,
    /// Sensitive calls (changes, secret reads, console sign-ins) in the window.
    pub sensitive_calls: u64,
    /// Attacker behaviours the window's calls show, strongest first.
    pub behaviours: Vec<Observation>,
    /// Benign explanations the window's calls support.
    pub benign: Vec<BenignReading>,
    /// What every other log source says (what the instance resolved, what the finding's
    /// Kubernetes user did...), when its logs cover the finding.
    pub sources: SourceSummaries,
}

/// The `n` largest counts, largest first, ties in key order.
pub(crate) fn top<K: Ord>(counts: BTreeMap<K, u64>, n: usize) -> Vec<(K, u64)> {
    let mut all: Vec<(K, u64)> = counts.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

impl ContextSummary {
    pub fn of(
        context: &Context,
        subjects: &Subjects,
        finding: &Finding,
        window: &ScopeWindow,
        min_history: chrono::Duration,
    ) -> Self {
        let mut s = Self {
            lookups: context.lookups,
            rows: context.flows.len()
                + context.activity.len()
                + context.baseline.len()
                + context.notable.len()
                + context.sources.count(),
            ..Self::default()
        };
        s.summarise_flows(context, subjects);
        s.sources = SourceSummaries::of(&context.sources, context.core(), finding, window);
        let own = activity::own_activity(context);
        s.summarise_activity(context, &own);
        s.summarise_behaviour(context, &own, subjects, finding, window, min_history);
        s.recognise_techniques(context, &own, subjects, finding, window);
        s
    }

    /// The summary of a lookup that failed: no rows, and the reason.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            unavailable: Some(reason.into()),
            ..Self::default()
        }
    }

    /// Whether anything at all was found.
    pub fn found_anything(&self) -> bool {
        self.rows > 0
    }
}
