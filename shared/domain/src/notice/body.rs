//! The plain-text body, laid out for a phone: verdict and reasons first, details below.

use super::context::write_context;
use super::{MAX_LINES, NoticeInput, NoticeKind, behaviour, links, next_steps};
use crate::classify::Verdict;
use crate::finding::{Finding, RemoteIpDetails, ResourceRole};
use crate::text::{FIELD_MAX, field};
use std::fmt::Write;

pub fn render(input: &NoticeInput<'_>) -> String {
    let mut out = String::with_capacity(2048);
    // Writing to a String cannot fail.
    let _ = write_body(&mut out, input);
    out
}

fn write_body(out: &mut String, input: &NoticeInput<'_>) -> std::fmt::Result {
    let f = &input.event.finding;
    let a = input.assessment;
    let kind = match input.kind {
        NoticeKind::New => "new finding".to_owned(),
        NoticeKind::Update(_) => format!("UPDATE (notice {} for this finding)", input.sequence),
    };
    writeln!(
        out,
        "{} (confidence {}/100) - {kind}",
        a.verdict.headline(),
        a.confidence
    )?;
    writeln!(
        out,
        "{}, GuardDuty severity {} {}, seen {} time{}",
        field(&f.finding_type, FIELD_MAX),
        f.severity,
        f.severity.band(),
        f.count(),
        if f.count() == 1 { "" } else { "s" }
    )?;
    if input.possible_repeat {
        writeln!(
            out,
            "Possible repeat: an earlier delivery of this finding stopped before recording its notice. If you already have notice {} of this finding, this is the same one.",
            input.sequence
        )?;
    }
    if let Some(title) = &f.title {
        writeln!(out, "{}", field(title, FIELD_MAX))?;
    }
    writeln!(out, "{}", resource_line(f))?;

    if let NoticeKind::Update(changes) = input.kind {
        writeln!(out, "\nWhat changed since the last notice")?;
        for change in changes {
            writeln!(out, "  * {}", field(&change.describe(), FIELD_MAX))?;
        }
    }

    writeln!(
        out,
        "\n{}",
        match a.verdict {
            Verdict::LikelyTruePositive => "Why we think it is real",
            Verdict::LikelyFalsePositive => "Why we think it is benign",
            Verdict::NeedsReview => "What we weighed (not enough to decide)",
        }
    )?;
    if a.evidence.is_empty() {
        writeln!(
            out,
            "  (no rule applies to this finding type yet: judge it from the details below)"
        )?;
    }
    for e in a.evidence.iter().take(MAX_LINES) {
        let sign = if e.weight >= 0 { '+' } else { '-' };
        writeln!(
            out,
            "  {sign} {}   ({:+})",
            field(&e.sentence, FIELD_MAX),
            e.weight
        )?;
    }
    // The printed lines must still add up to the score.
    if let Some(rest) = a.evidence.get(MAX_LINES..).filter(|r| !r.is_empty()) {
        let weight: i32 = rest.iter().map(|e| e.weight).sum();
        writeln!(
            out,
            "  ~ {} weaker pieces of evidence   ({weight:+})",
            rest.len()
        )?;
    }
    writeln!(out, "  = score {:+}", a.score)?;
    behaviour::write_behaviour(out, input.context)?;

    writeln!(out, "\nWhat happened")?;
    if let Some(description) = &f.description {
        writeln!(out, "  {}", field(description, 2 * FIELD_MAX))?;
    }
    for line in action_lines(f) {
        writeln!(out, "  {line}")?;
    }
    let actors: Vec<String> = f.actors().iter().map(|a| field(a, 80)).collect();
    if !actors.is_empty() {
        writeln!(out, "  Actor: {}", actors.join(", "))?;
    }
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    writeln!(
        out,
        "  Seen {} time(s), first {}, last {}",
        f.count(),
        when(f.first_seen()),
        when(f.last_seen())
    )?;
    writeln!(out, "\nScope window used: {}", input.scope)?;
    match input.context {
        Some(context) => write_context(out, context)?,
        None => writeln!(
            out,
            "Context used: the finding's own fields only (no CloudTrail or flow-log context configured)."
        )?,
    }

    writeln!(out, "\nDo next")?;
    for (i, step) in next_steps::for_finding(f, a, input.context)
        .iter()
        .enumerate()
    {
        writeln!(out, "  {}. {step}", i + 1)?;
    }

    let (guardduty, detective) = links::for_finding(input.event);
    writeln!(out, "\nGuardDuty: {guardduty}")?;
    writeln!(out, "Detective: {detective}")?;
    writeln!(
        out,
        "Finding ID {} | account {} | region {} | triaged {} | notice {}",
        field(f.id.as_str(), FIELD_MAX),
        field(input.event.account().unwrap_or("unknown"), 40),
        field(input.event.region().unwrap_or("unknown"), 40),
        input.triaged_at.format("%Y-%m-%d %H:%M:%S UTC"),
        input.sequence
    )
}

/// `Instance i-0abc (web-1), TARGET of 198.51.100.23 (AS64500 ExampleHost, Netherlands)`
fn resource_line(f: &Finding) -> String {
    let r = f.resource_summary();
    let mut line = field(&r.kind, 40);
    if let Some(id) = &r.id {
        line.push(' ');
        line.push_str(&field(id, 120));
    }
    if let Some(name) = &r.name {
        let _ = write!(line, " ({})", field(name, 80));
    }
    let role = match f.resource_role() {
        Some(ResourceRole::Actor) => Some("ACTOR against"),
        Some(ResourceRole::Target) => Some("TARGET of"),
        _ => None,
    };
    let remotes = f.remote_ip_details();
    if let (Some(role), Some(first)) = (role, remotes.first()) {
        let _ = write!(line, ", {role} {}", describe_remote(first));
        if remotes.len() > 1 {
            let _ = write!(line, " and {} more", remotes.len() - 1);
        }
    }
    line
}

fn describe_remote(r: &RemoteIpDetails) -> String {
    let mut parts = Vec::new();
    if let Some(org) = &r.organization {
        let asn = org.asn.as_deref().filter(|a| !a.starts_with('-'));
        let name = org.asn_org.as_deref().or(org.org.as_deref());
        match (asn, name) {
            (Some(asn), Some(name)) => parts.push(format!("AS{asn} {name}")),
            (None, Some(name)) => parts.push(name.to_owned()),
            (Some(asn), None) => parts.push(format!("AS{asn}")),
            (None, None) => {}
        }
    }
    if let Some(country) = r.country.as_ref().and_then(|c| c.country_name.as_deref()) {
        parts.push(country.to_owned());
    }
    let ip = r.ip().unwrap_or("unknown IP");
    if parts.is_empty() {
        field(ip, 60)
    } else {
        format!("{} ({})", field(ip, 60), field(&parts.join(", "), 120))
    }
}

/// One line per thing the action says happened.
fn action_lines(f: &Finding) -> Vec<String> {
    let Some(action) = f.service.as_ref().and_then(|s| s.action.as_ref()) else {
        return vec!["No network or API action: detected on the resource itself (malware scan, runtime monitoring or correlation).".into()];
    };
    let mut lines = Vec::new();
    if let Some(n) = &action.network_connection_action {
        let port = |p: &Option<crate::finding::PortDetails>| {
            p.as_ref()
                .and_then(|p| p.port)
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into())
        };
        lines.push(format!(
            "{} {} connection, local port {}, remote {} port {}{}",
            field(
                n.connection_direction
                    .as_deref()
                    .unwrap_or("unknown-direction"),
                20
            ),
            field(n.protocol.as_deref().unwrap_or(""), 10),
            port(&n.local_port_details),
            n.remote_ip_details
                .as_ref()
                .map(describe_remote)
                .unwrap_or_else(|| "unknown".into()),
            port(&n.remote_port_details),
            if n.blocked { ", BLOCKED" } else { "" }
        ));
    }
    if let Some(p) = &action.port_probe_action {
        let mut ports: Vec<i64> = p
            .port_probe_details
            .iter()
            .filter_map(|d| d.local_port_details.as_ref()?.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        let ports: Vec<String> = ports.iter().map(i64::to_string).collect();
        lines.push(format!(
            "Port probe of port(s) {} from {} source(s){}",
            field(&ports.join(", "), 80),
            p.port_probe_details.len(),
            if p.blocked { ", BLOCKED" } else { "" }
        ));
        for d in p.port_probe_details.iter().take(MAX_LINES) {
            if let Some(r) = &d.remote_ip_details {
                lines.push(format!("  from {}", describe_remote(r)));
            }
        }
    }
    if let Some(d) = &action.dns_request_action {
        lines.push(format!(
            "DNS query for {} ({}){}",
            field(d.domain.as_deref().unwrap_or("unknown domain"), 120),
            field(d.protocol.as_deref().unwrap_or("?"), 10),
            if d.blocked { ", BLOCKED" } else { "" }
        ));
    }
    if let Some(c) = &action.aws_api_call_action {
        let mut line = format!(
            "API call {}:{}",
            field(c.service_name.as_deref().unwrap_or("?"), 60),
            field(c.api.as_deref().unwrap_or("?"), 80)
        );
        if let Some(r) = &c.remote_ip_details {
            let _ = write!(line, " from {}", describe_remote(r));
        }
        if let Some(ua) = &c.user_agent {
            let _ = write!(line, ", user agent {:?}", field(ua, 120));
        }
        if let Some(code) = &c.error_code {
            let _ = write!(line, ", failed with {}", field(code, 60));
        }
        lines.push(line);
    }
    if let Some(r) = &action.rds_login_attempt_action {
        let mut line = "Database logins".to_owned();
        if let Some(remote) = &r.remote_ip_details {
            let _ = write!(line, " from {}", describe_remote(remote));
        }
        lines.push(line);
        for l in r.login_attributes.iter().take(MAX_LINES) {
            lines.push(format!(
                "  user {}: {} failed, {} successful",
                field(l.user.as_deref().unwrap_or("?"), 60),
                l.failed_login_attempts.unwrap_or(0),
                l.successful_login_attempts.unwrap_or(0)
            ));
        }
    }
    if let Some(k) = &action.kubernetes_api_call_action {
        let mut line = format!(
            "Kubernetes API {} {}",
            field(k.verb.as_deref().unwrap_or("?"), 20),
            field(k.request_uri.as_deref().unwrap_or("?"), 120)
        );
        if let Some(r) = &k.remote_ip_details {
            let _ = write!(line, " from {}", describe_remote(r));
        }
        if let Some(code) = k.status_code {
            let _ = write!(line, ", status {code}");
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(format!(
            "Action {}",
            field(
                action
                    .action_type
                    .as_ref()
                    .map(|a| a.as_str())
                    .unwrap_or("of unknown type"),
                60
            )
        ));
    }
    lines
}
