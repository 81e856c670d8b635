//! The notice's Context section: what the ingested CloudTrail, flow and other logs say about
//! the finding's entities in the scope window, when it happened, what is new for the principal,
//! and how much history that judgement rests on (a thin baseline must be visible).

use super::MAX_LINES;
use crate::enrich::{ContextSummary, Timeline, sparkline};
use crate::text::field;
use std::fmt::Write;

/// What the ingested CloudTrail and flow logs say, and how much history that rests on.
pub(super) fn write_context(out: &mut String, c: &ContextSummary) -> std::fmt::Result {
    if let Some(reason) = &c.unavailable {
        return writeln!(
            out,
            "Context used: none, the lookup failed ({}). Check CloudTrail and the flow logs for these entities by hand.",
            field(reason, 200)
        );
    }
    if !c.found_anything() {
        return writeln!(
            out,
            "Context used: none found ({} lookups): the ingested CloudTrail, flow, Resolver and EKS audit logs do not cover these entities in the window.",
            c.lookups
        );
    }
    writeln!(
        out,
        "\nContext (ingested CloudTrail, VPC Flow, Resolver and EKS audit logs, scope window)"
    )?;
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
    for r in c.remotes.iter().take(MAX_LINES) {
        let ports: Vec<String> = r.service_ports.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "  Traffic with {}: {} accepted flows ({}, {} sent), {} rejected; port(s) {}",
            field(&r.ip, 60),
            r.accepted_flows,
            mb(r.accepted_bytes),
            mb(r.sent_bytes),
            r.rejected_flows,
            field(&ports.join(", "), 60)
        )?;
    }
    if let Some((label, timeline)) = &c.flow_timeline {
        write_timeline(out, label, timeline)?;
    }
    if let Some(f) = &c.flows {
        let top: Vec<String> = f
            .top_remotes
            .iter()
            .map(|(ip, bytes)| format!("{} ({})", field(ip, 60), mb(*bytes)))
            .collect();
        let ports: Vec<String> = f
            .top_ports
            .iter()
            .map(|(port, flows)| format!("{port}: {flows} flows"))
            .collect();
        writeln!(
            out,
            "  All flows of the resource: {} accepted, {} rejected, {} in, {} out; top remotes: {}; top ports: {}",
            f.accepted_flows,
            f.rejected_flows,
            mb(f.bytes_in),
            mb(f.bytes_out),
            if top.is_empty() {
                "none".into()
            } else {
                top.join(", ")
            },
            ports.join(", ")
        )?;
    }
    c.sources.write_notice(out)?;
    if c.api_calls > 0 {
        let top: Vec<String> = c
            .top_apis
            .iter()
            .map(|(api, n)| format!("{} x{n}", field(api, 60)))
            .collect();
        writeln!(
            out,
            "  API calls: {} ({} failed); top: {}",
            c.api_calls,
            c.api_failures,
            top.join(", ")
        )?;
    }
    if let Some(timeline) = &c.api_timeline {
        write_timeline(out, "API calls", timeline)?;
    }
    if !c.notable_calls.is_empty() {
        let calls: Vec<String> = c.notable_calls.iter().map(|n| field(n, 80)).collect();
        writeln!(
            out,
            "  Notable calls (changes, errors, identity, audit and key services): {}",
            calls.join(", ")
        )?;
    }
    for n in c.sensitive_from_new_networks.iter().take(MAX_LINES) {
        let calls: Vec<String> = n.calls.iter().map(|a| field(a, 60)).collect();
        writeln!(
            out,
            "  Sensitive calls from new network {}: {} ({})",
            field(&n.network, 60),
            calls.join(", "),
            n.count
        )?;
    }
    let new: Vec<String> = c
        .new_ips
        .iter()
        .map(|ip| format!("IP {}", field(ip, 60)))
        .chain(
            c.new_networks
                .iter()
                .map(|n| format!("network {}", field(n, 60))),
        )
        .chain(
            c.new_user_agents
                .iter()
                .map(|ua| format!("user agent {:?}", field(ua, 80))),
        )
        .chain((!c.new_apis.is_empty()).then(|| {
            let apis: Vec<String> = c.new_apis.iter().map(|a| field(a, 60)).collect();
            format!("API {}", apis.join(", "))
        }))
        .collect();
    if !new.is_empty() {
        writeln!(out, "  New for this principal: {}", new.join(", "))?;
    }
    for (ip, days) in &c.known_ips {
        writeln!(
            out,
            "  Known to this principal: IP {} (first used {days} days before)",
            field(ip, 60)
        )?;
    }
    // The baseline is CloudTrail's: about a finding known only by its flows it has nothing
    // to say, and saying "none" there would read as a gap.
    let cloudtrail_found = c.api_calls > 0 || !c.notable_calls.is_empty();
    match c.history_days {
        Some(days) => writeln!(
            out,
            "  History available: {days} days of CloudTrail baseline before the window"
        )?,
        None if cloudtrail_found => writeln!(
            out,
            "  History available: no CloudTrail baseline before the window (too thin to call anything new)"
        )?,
        None => {}
    }
    Ok(())
}

/// `  API calls per 1 h, 2024-07-30 21:00 - 23:00 UTC:` then one sparkline per series with
/// its total, labels aligned so the slots line up.
fn write_timeline(out: &mut String, title: &str, t: &Timeline) -> std::fmt::Result {
    let start = t.start.format("%Y-%m-%d %H:%M");
    let end = t.end();
    let end = if end.date_naive() == t.start.date_naive() {
        end.format("%H:%M")
    } else {
        end.format("%Y-%m-%d %H:%M")
    };
    let minutes = t.slot.num_minutes();
    let slot = match minutes {
        m if m % 1440 == 0 => format!("{} d", m / 1440),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{m} min"),
    };
    writeln!(
        out,
        "  {} per {slot}, {start} - {end} UTC:",
        field(title, 80)
    )?;
    let width = t
        .series
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    for (label, counts) in &t.series {
        writeln!(
            out,
            "    {label:<width$}  {}  {}",
            sparkline(counts),
            counts.iter().sum::<u64>()
        )?;
    }
    Ok(())
}
