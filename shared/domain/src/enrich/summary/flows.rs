//! Flow totals of the resource, its traffic with the finding's remote IPs, and when it flowed.

use super::{ContextSummary, FlowTotals, RemoteTraffic, ServicePort, top};
use crate::enrich::context::Context;
use crate::enrich::rows::FlowRow;
use crate::enrich::subjects::Subjects;
use crate::enrich::timeline::Timeline;
use crate::traffic::Direction;
use std::collections::BTreeMap;

/// Flow aggregates are stored per 10 minutes.
const FLOW_BUCKET_SECS: i64 = 600;

impl ContextSummary {
    pub(super) fn summarise_flows(&mut self, context: &Context, subjects: &Subjects) {
        if context.flows.is_empty() {
            return;
        }
        let mut totals = FlowTotals::default();
        let mut by_remote: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_port: BTreeMap<ServicePort, u64> = BTreeMap::new();
        let mut remotes: BTreeMap<&str, RemoteTraffic> = BTreeMap::new();
        for row in &context.flows {
            let port = ServicePort {
                port: row.service_port,
                side: row.service,
            };
            let outbound = row.direction == Direction::Egress;
            *by_port.entry(port).or_default() += row.flows;
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
                r.service_ports.insert(port);
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
        totals.top_ports = top(by_port, 5);
        self.flows = Some(totals);
        self.remotes = remotes.into_values().collect();
        self.flow_timeline = flow_timeline(context, subjects, &self.remotes);
    }
}

/// The finding's own remote IPs tell the story (a brute force, then the session that worked);
/// without them, the resource's whole traffic is the next best thing.
fn flow_timeline(
    context: &Context,
    subjects: &Subjects,
    remotes: &[RemoteTraffic],
) -> Option<(String, Timeline)> {
    let (label, rows): (String, Vec<&FlowRow>) = if remotes.is_empty() {
        (
            "All flows of the resource".into(),
            context.flows.iter().collect(),
        )
    } else {
        let ips: Vec<&str> = remotes.iter().map(|r| r.ip.as_str()).collect();
        (
            format!("Flows with {}", ips.join(", ")),
            context
                .flows
                .iter()
                .filter(|r| subjects.remote_ips.contains(&r.remote))
                .collect(),
        )
    };
    let points: Vec<(i64, usize, u64)> = rows
        .iter()
        .map(|r| (r.first, usize::from(!r.accepted()), r.flows))
        .collect();
    Timeline::build(FLOW_BUCKET_SECS, ["accepted", "rejected"], &points).map(|t| (label, t))
}
