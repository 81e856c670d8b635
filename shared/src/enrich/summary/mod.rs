//! The facts the context rules and the notice use, computed once from the rows.

use super::rows::Context;
use super::subjects::Subjects;
use crate::finding::Finding;
use crate::scope::ScopeWindow;
use std::collections::{BTreeMap, BTreeSet};

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
    pub local_ports: BTreeSet<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowTotals {
    pub accepted_flows: u64,
    pub rejected_flows: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Remote IPs by bytes exchanged, largest first (at most 5).
    pub top_remotes: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextSummary {
    /// Lookups made and rows found: "no context" is itself worth saying.
    pub lookups: usize,
    pub rows: usize,
    pub flows: Option<FlowTotals>,
    pub remotes: Vec<RemoteTraffic>,
    pub api_calls: u64,
    pub api_failures: u64,
    /// `service:Api` by count, largest first (at most 5).
    pub top_apis: Vec<(String, u64)>,
    /// A source IP whose failed calls were followed by successful ones in the window.
    pub failures_then_success: Option<String>,
    /// Notable calls in the window, `service:Api` with the error code if any (at most 8).
    pub notable_calls: Vec<String>,
    /// The finding's remote IPs and user agents the principal had never used before the window.
    pub new_ips: Vec<String>,
    pub new_user_agents: Vec<String>,
    /// The finding's remote IPs the principal had used before the window, with days of use.
    pub known_ips: Vec<(String, i64)>,
    /// Days between the principal's oldest baseline entry and the window start.
    pub history_days: Option<i64>,
}

fn top(counts: BTreeMap<String, u64>, n: usize) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = counts.into_iter().collect();
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
    ) -> Self {
        let mut s = Self {
            lookups: context.lookups,
            rows: context.flows.len()
                + context.activity.len()
                + context.baseline.len()
                + context.notable.len(),
            ..Self::default()
        };
        s.summarise_flows(context, subjects);
        s.summarise_activity(context);
        s.summarise_baseline(context, subjects, finding, window);
        s
    }

    fn summarise_flows(&mut self, context: &Context, subjects: &Subjects) {
        if context.flows.is_empty() {
            return;
        }
        let mut totals = FlowTotals::default();
        let mut by_remote: BTreeMap<String, u64> = BTreeMap::new();
        let mut remotes: BTreeMap<&str, RemoteTraffic> = BTreeMap::new();
        for row in &context.flows {
            let outbound = row.direction == "egress";
            if row.accepted() {
                totals.accepted_flows += row.flows;
                if outbound {
                    totals.bytes_out += row.bytes;
                } else {
                    totals.bytes_in += row.bytes;
                }
                *by_remote.entry(row.remote.clone()).or_default() += row.bytes;
            } else {
                totals.rejected_flows += row.flows;
            }
            if subjects.remote_ips.contains(&row.remote) {
                let r = remotes.entry(&row.remote).or_insert_with(|| RemoteTraffic {
                    ip: row.remote.clone(),
                    ..RemoteTraffic::default()
                });
                r.local_ports.insert(row.local_port);
                if row.accepted() {
                    r.accepted_flows += row.flows;
                    r.accepted_bytes += row.bytes;
                    if outbound {
                        r.sent_bytes += row.bytes;
                    }
                } else {
                    r.rejected_flows += row.flows;
                }
            }
        }
        totals.top_remotes = top(by_remote, 5);
        self.flows = Some(totals);
        self.remotes = remotes.into_values().collect();
    }

    /// The principal's own calls: under its access key when the finding names one (the exact
    /// credentials), else under its ARN. Calls filed under the remote IP are other principals'
    /// too and are not summed in.
    fn summarise_activity(&mut self, context: &Context) {
        let subject = ["CT#accessKey#", "CT#arn#"].into_iter().find(|prefix| {
            context
                .activity
                .iter()
                .any(|r| r.subject.starts_with(prefix))
        });
        let own: Vec<&super::rows::ActivityRow> = context
            .activity
            .iter()
            .filter(|r| subject.is_some_and(|prefix| r.subject.starts_with(prefix)))
            .collect();
        let mut apis: BTreeMap<String, u64> = BTreeMap::new();
        let mut first_failure: BTreeMap<&str, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
        for row in own.iter().copied() {
            self.api_calls += row.count;
            let service = row.event_source.trim_end_matches(".amazonaws.com");
            *apis
                .entry(format!("{service}:{}", row.event_name))
                .or_default() += row.count;
            if row.failed() {
                self.api_failures += row.count;
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
        self.notable_calls = context
            .notable
            .iter()
            .filter_map(|e| {
                let name = e.get("event_name")?.as_str()?;
                let service = e
                    .get("event_source")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .trim_end_matches(".amazonaws.com");
                Some(match e.get("error_code").and_then(|v| v.as_str()) {
                    Some(code) => format!("{service}:{name} ({code})"),
                    None => format!("{service}:{name}"),
                })
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .take(8)
            .collect();
    }

    fn summarise_baseline(
        &mut self,
        context: &Context,
        subjects: &Subjects,
        finding: &Finding,
        window: &ScopeWindow,
    ) {
        let before = |kind: &str, value: &str| {
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
            match before("ip", ip) {
                Some(first) => self
                    .known_ips
                    .push((ip.clone(), (window.start - first).num_days())),
                None => self.new_ips.push(ip.clone()),
            }
        }
        let user_agent = finding
            .service
            .as_ref()
            .and_then(|s| s.action.as_ref())
            .and_then(|a| a.aws_api_call_action.as_ref())
            .and_then(|c| c.user_agent.clone());
        if let Some(ua) = user_agent
            && before("userAgent", &ua).is_none()
        {
            self.new_user_agents.push(ua);
        }
    }

    /// Whether anything at all was found.
    pub fn found_anything(&self) -> bool {
        self.rows > 0
    }
}
