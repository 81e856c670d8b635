//! What is new for the principal: the finding's addresses, networks and user agent, the APIs
//! it called and the networks its sensitive calls came from, each checked against the
//! baseline from *before* the window (the window's own activity is in the baseline too).

use super::activity::{notable_api, own_activity};
use super::{CallsFromNewNetwork, ContextSummary};
use crate::context::cloudtrail::{network, parse_ip};
use crate::enrich::rows::Context;
use crate::enrich::subjects::Subjects;
use crate::finding::Finding;
use crate::scope::ScopeWindow;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// At most this many new APIs are listed: past a handful, the count is what matters.
const NEW_APIS_MAX: usize = 5;

/// Notable-event reasons (as stored) that make a successful call sensitive: it changed
/// something, touched identity, audit or keys, or opened a console session.
const SENSITIVE_REASONS: [&str; 4] = [
    "Mutating",
    "SensitiveService",
    "S3PolicyChange",
    "ConsoleSignIn",
];

impl ContextSummary {
    pub(super) fn summarise_behaviour(
        &mut self,
        context: &Context,
        subjects: &Subjects,
        finding: &Finding,
        window: &ScopeWindow,
    ) {
        let first_use = |kind: &str, value: &str| -> Option<DateTime<Utc>> {
            context
                .baseline
                .iter()
                .filter(|b| b.kind == kind && b.value == value && b.first < window.start)
                .map(|b| b.first)
                .min()
        };
        self.history_days = context
            .baseline
            .iter()
            .map(|b| b.first)
            .min()
            .filter(|first| *first < window.start)
            .map(|first| (window.start - first).num_days());
        if self.history_days.is_none() {
            // Without history before the window, "new" would be true of everything.
            return;
        }
        for ip in &subjects.remote_ips {
            match first_use("ip", ip) {
                Some(first) => self
                    .known_ips
                    .push((ip.clone(), (window.start - first).num_days())),
                None => self.new_ips.push(ip.clone()),
            }
            if let Some(net) = parse_ip(ip).map(network)
                && first_use("network", &net).is_none()
                && !self.new_networks.contains(&net)
            {
                self.new_networks.push(net);
            }
        }
        if let Some(ua) = finding_user_agent(finding)
            && first_use("userAgent", &ua).is_none()
        {
            self.new_user_agents.push(ua);
        }
        let mut new_apis: Vec<String> = own_activity(context)
            .into_iter()
            .filter(|r| !r.failed())
            .map(|r| r.api())
            .filter(|api| first_use("api", api).is_none())
            .collect();
        new_apis.sort();
        new_apis.dedup();
        new_apis.truncate(NEW_APIS_MAX);
        self.new_apis = new_apis;

        let mut by_network: BTreeMap<String, CallsFromNewNetwork> = BTreeMap::new();
        for event in &context.notable {
            if event.get("error_code").is_some_and(|c| !c.is_null()) || !is_sensitive(event) {
                continue;
            }
            let Some(net) = event
                .get("source_ip")
                .and_then(|ip| ip.as_str())
                .and_then(parse_ip)
                .map(network)
            else {
                continue; // an AWS service acting for the principal
            };
            if first_use("network", &net).is_some() {
                continue;
            }
            let calls = by_network
                .entry(net.clone())
                .or_insert_with(|| CallsFromNewNetwork {
                    network: net,
                    ..CallsFromNewNetwork::default()
                });
            calls.count += 1;
            calls.calls.extend(notable_api(event));
        }
        self.sensitive_from_new_networks = by_network.into_values().collect();
    }
}

fn is_sensitive(event: &serde_json::Value) -> bool {
    event
        .get("reasons")
        .and_then(|r| r.as_array())
        .is_some_and(|reasons| {
            reasons
                .iter()
                .filter_map(|r| r.as_str())
                .any(|r| SENSITIVE_REASONS.contains(&r))
        })
}

fn finding_user_agent(finding: &Finding) -> Option<String> {
    finding
        .service
        .as_ref()
        .and_then(|s| s.action.as_ref())
        .and_then(|a| a.aws_api_call_action.as_ref())
        .and_then(|c| c.user_agent.clone())
}
