//! What is new for the principal: the finding's addresses, networks and user agent, the APIs
//! it called and the networks its sensitive calls came from, each checked against the
//! baseline from *before* the window (the window's own activity is in the baseline too).

use super::{CallsFromNewNetwork, ContextSummary};
use crate::activity::{NotableReason, ObservationKind, network, parse_ip};
use crate::enrich::context::Context;
use crate::enrich::rows::ActivityRow;
use crate::enrich::subjects::Subjects;
use crate::finding::Finding;
use crate::scope::ScopeWindow;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// At most this many new APIs are listed: past a handful, the count is what matters.
const NEW_APIS_MAX: usize = 5;

/// Why a successful call is sensitive: it changed something (identity, audit, keys, access
/// policies included), read a secret, or opened a console session. A plain read of IAM or STS
/// (`GetCallerIdentity`, `ListUsers`) is kept in detail but is not sensitive: every tool and
/// console page makes them.
pub(super) const SENSITIVE_REASONS: [NotableReason; 4] = [
    NotableReason::Mutating,
    NotableReason::S3PolicyChange,
    NotableReason::ConsoleSignIn,
    NotableReason::SecretRead,
];

/// Whether a notable event is a sensitive call (see [`SENSITIVE_REASONS`]).
pub(super) fn is_sensitive(event: &crate::activity::NotableEvent) -> bool {
    event.reasons.iter().any(|r| SENSITIVE_REASONS.contains(r))
}

impl ContextSummary {
    pub(super) fn summarise_behaviour(
        &mut self,
        context: &Context,
        own: &[&ActivityRow],
        subjects: &Subjects,
        finding: &Finding,
        window: &ScopeWindow,
        min_history: chrono::Duration,
    ) {
        // First use of each (kind, value) before the window: every object the principal
        // appears in stores its own baseline rows, so one value has many.
        let mut known: HashMap<(ObservationKind, &str), DateTime<Utc>> = HashMap::new();
        for b in context.baseline.iter().filter(|b| b.first < window.start) {
            known
                .entry((b.kind, b.value.as_str()))
                .and_modify(|first| *first = (*first).min(b.first))
                .or_insert(b.first);
        }
        let first_use = |kind: ObservationKind, value: &str| known.get(&(kind, value)).copied();
        self.history_days = known
            .values()
            .min()
            .map(|first| (window.start - *first).num_days());
        if self
            .history_days
            .is_none_or(|days| days < min_history.num_days())
        {
            // Without enough history before the window, "new" would be true of everything.
            return;
        }
        self.history_sufficient = true;
        for ip in &subjects.remote_ips {
            match first_use(ObservationKind::SourceIp, ip) {
                Some(first) => self
                    .known_ips
                    .push((ip.clone(), (window.start - first).num_days())),
                None => self.new_ips.push(ip.clone()),
            }
            if let Some(net) = parse_ip(ip).map(network)
                && first_use(ObservationKind::Network, &net).is_none()
                && !self.new_networks.contains(&net)
            {
                self.new_networks.push(net);
            }
        }
        if let Some(ua) = finding_user_agent(finding)
            && first_use(ObservationKind::UserAgent, &ua).is_none()
        {
            self.new_user_agents.push(ua);
        }
        let mut new_apis: Vec<String> = own
            .iter()
            .filter(|r| !r.failed())
            .map(|r| r.api())
            .filter(|api| first_use(ObservationKind::Api, api).is_none())
            .collect();
        new_apis.sort();
        new_apis.dedup();
        new_apis.truncate(NEW_APIS_MAX);
        self.new_apis = new_apis;

        let mut by_network: BTreeMap<String, CallsFromNewNetwork> = BTreeMap::new();
        for event in &context.notable {
            if event.error_code.is_some() || !is_sensitive(event) {
                continue;
            }
            let Some(net) = event.source_ip.as_deref().and_then(parse_ip).map(network) else {
                continue; // an AWS service acting for the principal
            };
            if first_use(ObservationKind::Network, &net).is_some() {
                continue;
            }
            let calls = by_network
                .entry(net.clone())
                .or_insert_with(|| CallsFromNewNetwork {
                    network: net,
                    ..CallsFromNewNetwork::default()
                });
            calls.count += 1;
            calls.calls.insert(event.api());
        }
        self.sensitive_from_new_networks = by_network.into_values().collect();
    }
}

fn finding_user_agent(finding: &Finding) -> Option<String> {
    finding
        .service
        .as_ref()
        .and_then(|s| s.action.as_ref())
        .and_then(|a| a.aws_api_call_action.as_ref())
        .and_then(|c| c.user_agent.clone())
}
