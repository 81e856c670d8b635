//! What the finding's instance resolved around the finding (Route 53 Resolver query logs): the
//! finding's own domain (how often, what came back, whether DNS Firewall stepped in, and whether
//! the instance then connected to the answer), the other names, the names new in the window and
//! the failed lookups.

use super::{DnsRow, FirewallAction, NXDOMAIN};
use crate::enrich::{FlowRow, top};
use crate::finding::Finding;
use crate::scope::ScopeWindow;
use crate::traffic::{Direction, ServiceSide};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Other names listed by count.
const TOP_NAMES: usize = 5;
/// Names listed as newly seen or failed (the counts are always given).
const LISTED_NAMES: usize = 5;

/// The Resolver's view of the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSummary {
    /// The finding's domain, when it names one (a DNS finding), even if never resolved.
    pub domain: Option<DomainLookups>,
    /// Lookups of every name, and how many distinct names.
    pub queries: u64,
    pub names: usize,
    /// Names other than the finding's domain, by lookups, most first.
    pub top_others: Vec<(String, u64)>,
    /// Names first resolved from the finding's first sighting on, with none of their lookups in
    /// the look-back before it (at most `LISTED_NAMES`), and how many there were. `None` when
    /// the look-back holds no lookup at all: with nothing to compare, every name would look new.
    ///
    /// The look-back (`TRIAGE_LOOKBACK_MINUTES`, an hour by default) is what is already loaded:
    /// an instance resolves the same few names (its mirrors, its APIs, its peers) all day, so an
    /// hour of them shows its habits; a longer history would cost one more Query per DNS key and
    /// read units in proportion to the buckets read, for names rarely resolved less than hourly.
    pub new_names: Option<(usize, Vec<String>)>,
    /// Lookups answered NXDOMAIN, the distinct names, a few of them, and the distinct parent
    /// domains (last two labels) they fall under: a domain-generation algorithm tries many
    /// unregistered names under many domains, a mistyped search suffix many names under one.
    pub nxdomain_queries: u64,
    pub nxdomain_names: usize,
    pub nxdomain_parents: usize,
    pub nxdomain_listed: Vec<String>,
    /// Whether flow rows were loaded: without them "no traffic to the answer" is unknown, not
    /// observed.
    pub flows_loaded: bool,
}

/// What happened to the lookups of the finding's domain and its subdomains (DNS tunnelling and
/// exfiltration query many names under the one domain GuardDuty names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainLookups {
    pub domain: String,
    pub queries: u64,
    /// Distinct names looked up: the domain itself and its subdomains.
    pub names: usize,
    /// Lookups by response code, most first.
    pub rcodes: Vec<(String, u64)>,
    /// A and AAAA answers.
    pub answers: BTreeSet<String>,
    /// The strongest DNS Firewall action on any of its lookups (`BLOCK` over `ALERT` over
    /// `ALLOW`), and how many lookups it was.
    pub firewall: Option<(FirewallAction, u64)>,
    pub first: Option<DateTime<Utc>>,
    /// Traffic the instance started to an answer address after the first lookup.
    pub reached: Vec<AnswerTraffic>,
}

impl DomainLookups {
    /// Whether a lookup of it was blocked by DNS Firewall.
    pub fn blocked(&self) -> bool {
        self.firewall
            .is_some_and(|(a, _)| a == FirewallAction::Block)
    }

    /// Accepted flows to any of its answers after the lookup.
    pub fn accepted_flows(&self) -> u64 {
        self.reached.iter().map(|t| t.accepted_flows).sum()
    }
}

/// Connections from the instance to one answer address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerTraffic {
    pub address: String,
    pub accepted_flows: u64,
    pub rejected_flows: u64,
    /// Bytes the instance sent in accepted flows.
    pub sent_bytes: u64,
    /// The remote ports connected to.
    pub ports: BTreeSet<u16>,
}

/// What `rows` say about the finding, `None` without rows; `flows` are the instance's, to
/// tell whether it connected to what it was given.
pub(super) fn summarise(
    rows: &[DnsRow],
    flows: &[FlowRow],
    finding: &Finding,
    window: &ScopeWindow,
) -> Option<DnsSummary> {
    if rows.is_empty() {
        return None;
    }
    let domain = finding.dns_domain();
    let under_domain = |name: &str| {
        domain.as_deref().is_some_and(|d| {
            name == d || name.strip_suffix(d).is_some_and(|rest| rest.ends_with('.'))
        })
    };
    let mut s = DnsSummary {
        flows_loaded: !flows.is_empty(),
        ..DnsSummary::default()
    };
    let mut by_name: BTreeMap<&str, u64> = BTreeMap::new();
    let mut first_seen: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    let mut nxdomain: BTreeSet<&str> = BTreeSet::new();
    for row in rows {
        s.queries += row.count;
        *by_name.entry(&row.name).or_default() += row.count;
        let first = first_seen.entry(&row.name).or_insert(row.first);
        *first = (*first).min(row.first);
        if row.rcode == NXDOMAIN {
            s.nxdomain_queries += row.count;
            nxdomain.insert(&row.name);
        }
    }
    s.names = by_name.len();
    s.nxdomain_names = nxdomain.len();
    s.nxdomain_parents = nxdomain
        .iter()
        .filter_map(|n| parent(n))
        .collect::<BTreeSet<_>>()
        .len();
    s.nxdomain_listed = nxdomain
        .iter()
        .take(LISTED_NAMES)
        .map(|n| n.to_string())
        .collect();
    s.domain = domain.as_deref().map(|d| {
        let rows: Vec<&DnsRow> = rows.iter().filter(|r| under_domain(&r.name)).collect();
        domain_lookups(d, &rows, flows)
    });
    // The finding's first sighting: the window is the look-back before it and the finding.
    let sighted = window.start + window.look_back;
    if first_seen.values().any(|t| *t < sighted) {
        let new: Vec<&str> = first_seen
            .iter()
            .filter(|(name, t)| **t >= sighted && !under_domain(name))
            .map(|(name, _)| *name)
            .collect();
        s.new_names = Some((
            new.len(),
            new.iter()
                .take(LISTED_NAMES)
                .map(|n| n.to_string())
                .collect(),
        ));
    }
    let others: BTreeMap<String, u64> = by_name
        .into_iter()
        .filter(|(name, _)| !under_domain(name))
        .map(|(name, n)| (name.to_string(), n))
        .collect();
    s.top_others = top(others, TOP_NAMES);
    Some(s)
}

/// The last two labels: where a name is registered, near enough (a public suffix of two labels,
/// `co.uk`, folds its registrants together, which only undercounts).
fn parent(name: &str) -> Option<&str> {
    let mut dots = name.rmatch_indices('.');
    dots.next()?;
    Some(match dots.next() {
        Some((i, _)) => &name[i + 1..],
        None => name,
    })
}

/// Addresses compare as addresses: the Resolver and the flow logs may spell IPv6 differently.
fn same_address(a: &str, b: &str) -> bool {
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.eq_ignore_ascii_case(b),
    }
}

fn domain_lookups(domain: &str, rows: &[&DnsRow], flows: &[FlowRow]) -> DomainLookups {
    let mut out = DomainLookups {
        domain: domain.to_owned(),
        ..DomainLookups::default()
    };
    let mut rcodes: BTreeMap<String, u64> = BTreeMap::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    let mut firewall: BTreeMap<FirewallAction, u64> = BTreeMap::new();
    for row in rows {
        out.queries += row.count;
        names.insert(&row.name);
        *rcodes.entry(row.rcode.clone()).or_default() += row.count;
        out.answers.extend(row.addresses.iter().cloned());
        if let Some(action) = row.firewall_action {
            *firewall.entry(action).or_default() += row.count;
        }
        out.first = Some(out.first.map_or(row.first, |t| t.min(row.first)));
    }
    out.names = names.len();
    out.rcodes = top(rcodes, usize::MAX);
    // The strongest action any lookup met, and how many lookups met it.
    out.firewall = firewall.last_key_value().map(|(a, n)| (*a, *n));
    if let Some(first) = out.first {
        out.reached = answer_traffic(&out.answers, first, flows);
    }
    out
}

/// Connections the instance started to an answer after the first lookup. A flow-log record
/// covers a capture interval of up to ten minutes, so the record holding the connection that
/// followed the lookup may start before it: what cannot have followed is a record that ended
/// before it. Connections the answer started (the instance listening) are not "reaching" it.
fn answer_traffic(
    answers: &BTreeSet<String>,
    first: DateTime<Utc>,
    flows: &[FlowRow],
) -> Vec<AnswerTraffic> {
    let mut out: BTreeMap<&str, AnswerTraffic> = BTreeMap::new();
    for row in flows {
        if row.last < first.timestamp() || row.service == ServiceSide::Local {
            continue;
        }
        let Some(answer) = answers.iter().find(|a| same_address(a, &row.remote)) else {
            continue;
        };
        let t = out.entry(answer).or_insert_with(|| AnswerTraffic {
            address: answer.clone(),
            ..AnswerTraffic::default()
        });
        if row.service == ServiceSide::Remote {
            t.ports.insert(row.service_port);
        }
        if row.accepted() {
            t.accepted_flows += row.flows;
            if row.direction == Direction::Egress {
                t.sent_bytes += row.bytes;
            }
        } else {
            t.rejected_flows += row.flows;
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::Action;
    use chrono::Duration;
    use serde_json::{Value, json};

    /// The fixture's records as stored rows, one per record (the ingest would sum identical
    /// ones; the summary sums them anyway): name, type, code, time, A/AAAA answers, firewall
    /// action, as `triage_logs::resolver` reads them.
    fn rows(file: &str) -> Vec<DnsRow> {
        let path = format!(
            "{}/../../tests/fixtures/resolver/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let records: Vec<Value> = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(all)) => all,
            Ok(one) => vec![one],
            Err(_) => text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        };
        records
            .iter()
            .map(|r| {
                let time = r["query_timestamp"].as_str().unwrap().replace(' ', "T");
                let time = format!("{}Z", time.trim_end_matches('Z'));
                let time: DateTime<Utc> = time.parse().unwrap();
                DnsRow {
                    name: r["query_name"]
                        .as_str()
                        .unwrap()
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                    query_type: r["query_type"].as_str().unwrap().into(),
                    rcode: r["rcode"].as_str().unwrap().into(),
                    count: 1,
                    first: time,
                    last: time,
                    addresses: r["answers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|a| matches!(a["Type"].as_str(), Some("A" | "AAAA")))
                        .map(|a| a["Rdata"].as_str().unwrap().into())
                        .collect(),
                    firewall_action: r["firewall_rule_action"]
                        .as_str()
                        .and_then(FirewallAction::parse),
                }
            })
            .collect()
    }

    fn finding(domain: &str, first_seen: &str) -> Finding {
        serde_json::from_value(
            json!({"id": "a", "type": "CryptoCurrency:EC2/BitcoinTool.B!DNS",
            "severity": 8, "service": {"eventFirstSeen": first_seen, "eventLastSeen": first_seen,
            "action": {"actionType": "DNS_REQUEST",
                "dnsRequestAction": {"domain": domain, "protocol": "UDP", "blocked": false}}}}),
        )
        .unwrap()
    }

    fn window(f: &Finding) -> ScopeWindow {
        ScopeWindow::for_finding(f, Duration::minutes(60), Utc::now())
    }

    /// A connection the instance made (the remote listened on `port`): constructed, the
    /// fixtures have no flow to the Panther records' answer.
    fn flow(remote: &str, port: u16, action: Action, at: &str, flows: u64) -> FlowRow {
        let t: DateTime<Utc> = at.parse().unwrap();
        FlowRow {
            remote: remote.into(),
            local: "10.0.0.5".into(),
            service_port: port,
            service: ServiceSide::Remote,
            protocol: 6,
            direction: Direction::Egress,
            action,
            packets: 10 * flows,
            bytes: 4_000 * flows,
            flows,
            first: t.timestamp(),
            last: t.timestamp() + 60,
        }
    }

    /// The rows a test reads.
    #[derive(Default)]
    struct Logs {
        dns: Vec<DnsRow>,
        flows: Vec<FlowRow>,
    }

    fn summary(logs: &Logs, f: &Finding) -> DnsSummary {
        summarise(&logs.dns, &logs.flows, f, &window(f)).unwrap()
    }

    #[test]
    fn the_findings_domain_and_its_subdomains_are_counted_and_the_rest_listed() {
        let context = Logs {
            dns: rows("panther-vpcdns.ndjson"),
            ..Logs::default()
        };
        let f = finding("moneropool.ru.", "2022-06-25T00:27:53Z");
        let s = summary(&context, &f);
        let d = s.domain.as_ref().unwrap();
        assert_eq!(
            (d.domain.as_str(), d.queries, d.names),
            ("moneropool.ru", 4, 2)
        );
        assert_eq!(d.rcodes, [("NOERROR".to_string(), 4)]);
        assert_eq!(d.answers, ["1.2.3.4".to_string()].into());
        assert_eq!(d.firewall, None);
        assert!(d.reached.is_empty(), "no flows loaded");
        assert!(!s.flows_loaded);
        assert_eq!((s.queries, s.names), (8, 4));
        assert_eq!(
            s.top_others,
            [
                ("dynamodb.us-west-2.amazonaws.com".to_string(), 2),
                ("webservicepag.webhop.net".to_string(), 2)
            ]
        );
        assert_eq!(s.nxdomain_names, 0);
        assert_eq!(
            s.new_names, None,
            "every lookup is at the first sighting: no look-back to compare with"
        );
    }

    #[test]
    fn a_lookup_followed_by_accepted_connections_to_its_answer_is_traffic_to_it() {
        let context = Logs {
            dns: rows("panther-vpcdns.ndjson"),
            flows: vec![
                flow("1.2.3.4", 3333, Action::Accept, "2022-06-25T00:28:10Z", 12),
                flow("1.2.3.4", 3333, Action::Reject, "2022-06-25T00:29:00Z", 2),
                // Ended before the lookup: cannot have followed it.
                flow("1.2.3.4", 443, Action::Accept, "2022-06-25T00:20:00Z", 5),
                // Another address.
                flow(
                    "198.51.100.7",
                    443,
                    Action::Accept,
                    "2022-06-25T00:28:10Z",
                    9,
                ),
            ],
        };
        let s = summary(&context, &finding("moneropool.ru", "2022-06-25T00:27:53Z"));
        let d = s.domain.unwrap();
        assert_eq!(
            d.reached,
            [AnswerTraffic {
                address: "1.2.3.4".into(),
                accepted_flows: 12,
                rejected_flows: 2,
                sent_bytes: 48_000,
                ports: [3333].into(),
            }]
        );
        assert_eq!(d.accepted_flows(), 12);
        assert!(s.flows_loaded);
    }

    #[test]
    fn a_lookup_blocked_by_dns_firewall_says_so() {
        let context = Logs {
            dns: rows("awsdocs-example.json"),
            ..Logs::default()
        };
        let f = finding("15.3.4.32.in-addr.arpa", "2021-02-04T17:51:55Z");
        let d = summary(&context, &f).domain.unwrap();
        assert!(d.blocked());
        assert_eq!(d.firewall, Some((FirewallAction::Block, 1)));
        assert!(
            d.answers.is_empty(),
            "a PTR answer is a name, not an address"
        );
    }

    #[test]
    fn names_new_since_the_first_sighting_need_lookups_before_it() {
        // The Panther records as the look-back, the documentation's record an hour later as
        // the finding's time (times shifted, as an instance's habits then a new name).
        let mut dns = rows("panther-vpcdns.ndjson");
        let mut later = rows("awsdocs-example.json");
        for row in &mut later {
            row.first = "2022-06-25T01:00:00Z".parse().unwrap();
            row.last = row.first;
        }
        dns.extend(later);
        let context = Logs {
            dns,
            ..Logs::default()
        };
        let s = summary(&context, &finding("moneropool.ru", "2022-06-25T01:00:00Z"));
        assert_eq!(
            s.new_names,
            Some((1, vec!["15.3.4.32.in-addr.arpa".to_string()]))
        );
        assert_eq!(s.domain.unwrap().queries, 4, "looked up in the look-back");
    }

    #[test]
    fn failed_lookups_are_counted_by_name_and_parent_domain() {
        // The Panther records answered NXDOMAIN instead (the code varied, nothing else).
        let dns: Vec<DnsRow> = rows("panther-vpcdns.ndjson")
            .into_iter()
            .map(|r| DnsRow {
                rcode: "NXDOMAIN".into(),
                addresses: vec![],
                ..r
            })
            .collect();
        let context = Logs {
            dns,
            ..Logs::default()
        };
        let s = summary(&context, &finding("example.org", "2022-06-25T00:27:53Z"));
        assert_eq!((s.nxdomain_queries, s.nxdomain_names), (8, 4));
        assert_eq!(
            s.nxdomain_parents, 3,
            "amazonaws.com, moneropool.ru, webhop.net"
        );
        let d = s.domain.unwrap();
        assert_eq!((d.queries, d.first), (0, None), "never looked up");
    }

    #[test]
    fn parents_are_the_last_two_labels() {
        assert_eq!(parent("a.b.moneropool.ru"), Some("moneropool.ru"));
        assert_eq!(parent("moneropool.ru"), Some("moneropool.ru"));
        assert_eq!(parent("localhost"), None);
        assert!(same_address("2001:DB8::1", "2001:db8:0::1"));
    }
}
