//! The Context section's DNS lines: what the instance resolved in the scope window, told the way
//! an analyst would read the Resolver logs: the flagged name first (was it answered, blocked,
//! then connected to), then everything else it resolved, what was new and what failed. Names
//! and answers come from the logs, that is from whoever controls the name servers asked: every
//! one is sanitised and clipped.

use super::{DnsSummary, DomainLookups};
use crate::text::field;
use std::fmt::Write;

/// Names listed on a line; the counts are always given in full.
const NAMES_LISTED: usize = 5;

pub(super) fn write_dns(out: &mut String, s: &DnsSummary) -> std::fmt::Result {
    writeln!(
        out,
        "  DNS (Route 53 Resolver logs, scope window): {} lookups of {} names",
        s.queries, s.names
    )?;
    if let Some(d) = &s.domain {
        writeln!(out, "    {}", domain_line(d, s.flows_loaded))?;
    }
    let others: Vec<String> = s
        .top_others
        .iter()
        .map(|(name, n)| format!("{} x{n}", field(name, 60)))
        .collect();
    let other_names = s.names - s.domain.as_ref().map_or(0, |d| d.names);
    let mut line = format!("    Other names: {other_names}");
    if !others.is_empty() {
        let _ = write!(line, " (top: {})", others.join(", "));
    }
    match &s.new_names {
        Some((0, _)) => line.push_str("; none newly seen since the first sighting"),
        Some((n, listed)) => {
            let listed: Vec<String> = listed.iter().map(|n| field(n, 60)).collect();
            let _ = write!(
                line,
                "; {n} newly seen since the first sighting: {}",
                listed.join(", ")
            );
        }
        None => line.push_str("; no lookups before the first sighting to tell new names"),
    }
    writeln!(out, "{line}")?;
    if s.nxdomain_names > 0 {
        let listed: Vec<String> = s
            .nxdomain_listed
            .iter()
            .take(NAMES_LISTED)
            .map(|n| field(n, 60))
            .collect();
        writeln!(
            out,
            "    NXDOMAIN: {} lookups of {} names under {} domains, e.g. {}",
            s.nxdomain_queries,
            s.nxdomain_names,
            s.nxdomain_parents,
            listed.join(", ")
        )
    } else {
        writeln!(out, "    NXDOMAIN: none")
    }
}

/// `moneropool.ru: 4 lookups of 2 names (NOERROR 4) -> 1.2.3.4; then 12 accepted flows to
/// 1.2.3.4:3333 (48 KB sent)`, or why nothing can be said of the traffic.
fn domain_line(d: &DomainLookups, flows_loaded: bool) -> String {
    let name = field(&d.domain, 80);
    if d.queries == 0 {
        return format!(
            "{name}: not in this instance's Resolver logs in the window (asked of another resolver, or query logging does not cover it)"
        );
    }
    let codes: Vec<String> = d
        .rcodes
        .iter()
        .map(|(code, n)| format!("{} {n}", field(code, 20)))
        .collect();
    let mut line = format!(
        "{name}: {} lookups of {} name(s) ({})",
        d.queries,
        d.names,
        codes.join(", ")
    );
    if !d.answers.is_empty() {
        let answers: Vec<String> = d
            .answers
            .iter()
            .take(NAMES_LISTED)
            .map(|a| field(a, 60))
            .collect();
        let _ = write!(line, " -> {}", answers.join(", "));
    }
    if let Some((action, n)) = &d.firewall {
        let _ = write!(line, "; DNS Firewall {} on {n}", action);
    }
    let accepted = d.accepted_flows();
    if accepted > 0 {
        let targets: Vec<String> = d
            .reached
            .iter()
            .filter(|t| t.accepted_flows > 0)
            .map(|t| {
                let ports: Vec<String> = t.ports.iter().map(ToString::to_string).collect();
                match ports.as_slice() {
                    [] => field(&t.address, 60),
                    [port] => format!("{}:{port}", field(&t.address, 60)),
                    _ => format!("{}:{{{}}}", field(&t.address, 60), ports.join(",")),
                }
            })
            .collect();
        let sent: u64 = d.reached.iter().map(|t| t.sent_bytes).sum();
        let _ = write!(
            line,
            "; then {accepted} accepted flows to {} ({} sent)",
            targets.join(", "),
            size(sent)
        );
    } else if !flows_loaded {
        line.push_str("; no flow logs loaded to tell whether the instance then connected");
    } else if d.blocked() {
        line.push_str("; no accepted flow to its addresses: contained");
    } else {
        line.push_str("; no accepted flow to its addresses after the lookup");
    }
    line
}

/// What the Resolver logs add to "Do next" for a DNS finding: a lookup names no address to block,
/// the logs do; a blocked lookup with nothing reached leaves the asking process to find, which
/// will try the next name on its list.
pub(super) fn next_steps(s: &DnsSummary) -> Vec<String> {
    let Some(d) = s.domain.as_ref().filter(|d| d.queries > 0) else {
        return Vec::new();
    };
    let name = field(&d.domain, 80);
    if d.blocked() && s.flows_loaded && d.accepted_flows() == 0 {
        return vec![format!(
            "DNS Firewall blocked {name} and nothing reached its addresses: find the process on the instance that asked for it (it will try other names) before closing this."
        )];
    }
    if d.answers.is_empty() {
        return Vec::new();
    }
    let answers: Vec<String> = d
        .answers
        .iter()
        .take(NAMES_LISTED)
        .map(|a| field(a, 60))
        .collect();
    vec![format!(
        "Block {name} in DNS Firewall and {} at the network firewall; search the Resolver and flow logs for other instances that resolved or reached them.",
        answers.join(", ")
    )]
}

fn size(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{} KB", bytes.div_ceil(1_000))
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{AnswerTraffic, FirewallAction};

    /// The Panther records' figures (`dns::summary` reads them), with 12 constructed
    /// flows to the answer; the names a hostile name server could choose carry line breaks.
    fn summary() -> DnsSummary {
        DnsSummary {
            domain: Some(DomainLookups {
                domain: "moneropool.ru".into(),
                queries: 4,
                names: 2,
                rcodes: vec![("NOERROR".into(), 4)],
                answers: ["1.2.3.4".to_string()].into(),
                firewall: None,
                first: None,
                reached: vec![AnswerTraffic {
                    address: "1.2.3.4".into(),
                    accepted_flows: 12,
                    rejected_flows: 0,
                    sent_bytes: 48_000,
                    ports: [3333].into(),
                }],
            }),
            queries: 8,
            names: 4,
            top_others: vec![
                ("dynamodb.us-west-2.amazonaws.com".into(), 2),
                ("webservicepag.webhop.net\nFAKE LINE".into(), 2),
            ],
            new_names: Some((1, vec!["15.3.4.32.in-addr.arpa".into()])),
            flows_loaded: true,
            ..DnsSummary::default()
        }
    }

    #[test]
    fn the_flagged_name_then_the_rest_on_short_sanitised_lines() {
        let mut out = String::new();
        write_dns(&mut out, &summary()).unwrap();
        assert_eq!(
            out,
            "  DNS (Route 53 Resolver logs, scope window): 8 lookups of 4 names\n\
             \x20   moneropool.ru: 4 lookups of 2 name(s) (NOERROR 4) -> 1.2.3.4; then 12 accepted flows to 1.2.3.4:3333 (48 KB sent)\n\
             \x20   Other names: 2 (top: dynamodb.us-west-2.amazonaws.com x2, webservicepag.webhop.net FAKE LINE x2); 1 newly seen since the first sighting: 15.3.4.32.in-addr.arpa\n\
             \x20   NXDOMAIN: none\n"
        );
    }

    #[test]
    fn next_steps_name_the_answers_to_block_or_the_process_to_find() {
        assert_eq!(
            next_steps(&summary()),
            [
                "Block moneropool.ru in DNS Firewall and 1.2.3.4 at the network firewall; search the Resolver and flow logs for other instances that resolved or reached them."
            ]
        );
        let mut contained = summary();
        let d = contained.domain.as_mut().unwrap();
        d.reached.clear();
        d.firewall = Some((FirewallAction::Block, 4));
        assert!(next_steps(&contained)[0].starts_with("DNS Firewall blocked moneropool.ru"));
        contained.domain.as_mut().unwrap().queries = 0;
        assert!(
            next_steps(&contained).is_empty(),
            "not looked up: nothing to add"
        );
    }

    #[test]
    fn what_cannot_be_told_is_said_and_a_block_without_traffic_reads_contained() {
        let mut d = summary().domain.unwrap();
        d.reached.clear();
        d.firewall = Some((FirewallAction::Block, 4));
        assert!(
            domain_line(&d, true)
                .ends_with("DNS Firewall BLOCK on 4; no accepted flow to its addresses: contained")
        );
        assert!(domain_line(&d, false).ends_with("to tell whether the instance then connected"));
        d.queries = 0;
        assert!(domain_line(&d, true).contains("not in this instance's Resolver logs"));
    }
}
