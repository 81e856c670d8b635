//! Rules on what the finding's instance resolved (Route 53 Resolver query logs). They read DNS
//! findings of the command-and-control and mining families (`Backdoor:EC2/C&CActivity.B!DNS`,
//! `CryptoCurrency:EC2/BitcoinTool.B!DNS`, `Trojan:EC2/*`, `Impact:EC2/*DomainRequest*`): the
//! finding is raised on the lookup, so what matters is what came of it. None of them weighs
//! toward false positive: a name not seen in the logs, or seen without traffic, is an absence of
//! evidence (query logging may not cover the VPC, the flows may not be ingested), never a sign
//! that nothing happened.

use super::{DnsSummary, DomainLookups};
use crate::classify::{Evidence, Signal, ev};
use crate::finding::{Family, Finding};
use crate::text::field;

/// Distinct parent domains failing with NXDOMAIN in the window that read as a DGA's guessing.
pub const NXDOMAIN_PARENTS_MIN: usize = 10;
/// Distinct names under the finding's domain that read as data carried in the names.
pub const NAMES_UNDER_DOMAIN_MIN: usize = 20;

/// The families a DNS finding falls in: command and control, and mining.
pub(super) fn dns_family(f: &Finding) -> bool {
    matches!(f.family(), Family::CommandAndControl | Family::CryptoMining)
}

fn domain<'a>(f: &Finding, s: &'a DnsSummary) -> Option<&'a DomainLookups> {
    dns_family(f).then_some(())?;
    s.domain.as_ref()
}

/// The lookup says a process on the instance wanted to reach a C&C, malware or mining name;
/// accepted connections from the instance to the address it got back, after the lookup, say it
/// did: the implant has its channel, the miner its pool. That is the step from intent to
/// contact, so it raises the finding toward true positive; how much was sent is
/// `data_sent_to_remote`'s to weigh when GuardDuty names the address.
pub fn resolved_then_reached(f: &Finding, s: &DnsSummary) -> Option<Evidence> {
    let d = domain(f, s)?;
    let t = d
        .reached
        .iter()
        .filter(|t| t.accepted_flows > 0)
        .max_by_key(|t| t.accepted_flows)?;
    let ports: Vec<String> = t.ports.iter().map(ToString::to_string).collect();
    let target = match ports.as_slice() {
        [] => field(&t.address, 60),
        [port] => format!("{}:{port}", field(&t.address, 60)),
        _ => format!("{} (ports {})", field(&t.address, 60), ports.join(", ")),
    };
    ev(
        Signal::DnsResolvedThenReached,
        format!(
            "resolved {} {}x, then {} accepted flow(s) from the instance to its answer {target}",
            field(&d.domain, 80),
            d.queries,
            d.accepted_flows()
        ),
        20,
    )
}

/// DNS Firewall blocked the lookup and the flow logs show no accepted connection to any
/// address the name was given: the attempt was stopped at the resolver. It does not clear the
/// instance, whatever asked for the name is still there and will try again (the finding
/// stays real), and GuardDuty's own report of a block already weighs as `blocked`: this weighs
/// nothing and tells the reader it was contained. Said only when flow rows were loaded: without
/// them, "no traffic" is unknown.
pub fn lookup_contained(f: &Finding, s: &DnsSummary) -> Option<Evidence> {
    let d = domain(f, s)?;
    (d.blocked() && s.flows_loaded && d.accepted_flows() == 0).then_some(())?;
    let blocked = d.firewall.as_ref().map_or(0, |(_, n)| *n);
    ev(
        Signal::DnsLookupContained,
        format!(
            "DNS Firewall blocked {blocked} of {} lookup(s) of {} and no accepted flow reached any of its addresses: contained, but something on the instance asked for it",
            d.queries,
            field(&d.domain, 80)
        ),
        0,
    )
}

/// ATT&CK T1568.002 (Dynamic Resolution: Domain Generation Algorithms): DGA malware computes
/// many candidate names and tries them until one its operator registered answers, so most fail
/// with NXDOMAIN, each under a different domain. Everyday failures (a typo, a search suffix
/// appended, `name.ec2.internal`, Kubernetes' `ndots` retries) are many names under one or two
/// parents; failures under [`NXDOMAIN_PARENTS_MIN`] distinct parent domains in the window are
/// the machine-generated shape. C&C family only: that is what the algorithm is for.
pub fn nxdomain_burst(f: &Finding, s: &DnsSummary) -> Option<Evidence> {
    (f.family() == Family::CommandAndControl).then_some(())?;
    (s.nxdomain_parents >= NXDOMAIN_PARENTS_MIN).then_some(())?;
    let listed: Vec<String> = s.nxdomain_listed.iter().map(|n| field(n, 60)).collect();
    ev(
        Signal::NxdomainBurst,
        format!(
            "{} names under {} domains failed with NXDOMAIN in the window (T1568.002, domain generation), e.g. {}",
            s.nxdomain_names,
            s.nxdomain_parents,
            listed.join(", ")
        ),
        15,
    )
}

/// DNS tunnelling and exfiltration (T1071.004, T1048) carry data in the query names, so every
/// chunk is a new name under the one domain the attacker's name server answers for; an
/// application resolves the same few names of a domain over and over. At least
/// [`NAMES_UNDER_DOMAIN_MIN`] distinct names under the domain GuardDuty flagged is that shape.
pub fn names_under_domain(f: &Finding, s: &DnsSummary) -> Option<Evidence> {
    let d = domain(f, s)?;
    (d.names >= NAMES_UNDER_DOMAIN_MIN).then_some(())?;
    ev(
        Signal::DnsNamesUnderDomain,
        format!(
            "{} distinct names looked up under {} ({} lookups): data carried in the names looks like this",
            d.names,
            field(&d.domain, 80),
            d.queries
        ),
        15,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{AnswerTraffic, FirewallAction};
    use serde_json::json;

    fn finding(t: &str) -> Finding {
        serde_json::from_value(json!({"id": "a", "type": t, "severity": 8})).unwrap()
    }

    fn lookups(firewall: Option<FirewallAction>, reached: u64) -> DomainLookups {
        DomainLookups {
            domain: "moneropool.ru".into(),
            queries: 4,
            names: 2,
            rcodes: vec![("NOERROR".into(), 4)],
            answers: ["1.2.3.4".to_string()].into(),
            firewall: firewall.map(|a| (a, 4)),
            first: None,
            reached: (reached > 0)
                .then(|| AnswerTraffic {
                    address: "1.2.3.4".into(),
                    accepted_flows: reached,
                    rejected_flows: 0,
                    sent_bytes: 1_000,
                    ports: [3333].into(),
                })
                .into_iter()
                .collect(),
        }
    }

    fn summary(d: DomainLookups, flows_loaded: bool) -> DnsSummary {
        DnsSummary {
            domain: Some(d),
            flows_loaded,
            ..DnsSummary::default()
        }
    }

    #[test]
    fn a_lookup_then_traffic_to_the_answer_raises_and_its_absence_weighs_nothing() {
        let f = finding("CryptoCurrency:EC2/BitcoinTool.B!DNS");
        let e = resolved_then_reached(&f, &summary(lookups(None, 12), true)).unwrap();
        assert_eq!((e.signal, e.weight), (Signal::DnsResolvedThenReached, 20));
        assert!(e.sentence.contains(
            "resolved moneropool.ru 4x, then 12 accepted flow(s) from the instance to its answer 1.2.3.4:3333"
        ));
        assert!(resolved_then_reached(&f, &summary(lookups(None, 0), true)).is_none());
        assert!(
            resolved_then_reached(
                &finding("Recon:EC2/PortProbeUnprotectedPort"),
                &summary(lookups(None, 12), true)
            )
            .is_none(),
            "not a DNS family"
        );
    }

    #[test]
    fn a_blocked_lookup_without_traffic_is_contained_at_weight_zero_and_only_with_flows() {
        let f = finding("Backdoor:EC2/C&CActivity.B!DNS");
        let e =
            lookup_contained(&f, &summary(lookups(Some(FirewallAction::Block), 0), true)).unwrap();
        assert_eq!((e.signal, e.weight), (Signal::DnsLookupContained, 0));
        assert!(
            lookup_contained(&f, &summary(lookups(Some(FirewallAction::Block), 0), false))
                .is_none()
        );
        assert!(
            lookup_contained(&f, &summary(lookups(Some(FirewallAction::Alert), 0), true)).is_none()
        );
        assert!(
            lookup_contained(&f, &summary(lookups(Some(FirewallAction::Block), 3), true)).is_none(),
            "blocked, yet the address was reached"
        );
    }

    #[test]
    fn failures_under_many_domains_support_a_dga_and_under_one_do_not() {
        let f = finding("Trojan:EC2/DGADomainRequest.B");
        let c = |parents: usize| DnsSummary {
            nxdomain_names: 40,
            nxdomain_parents: parents,
            nxdomain_listed: vec!["a.example".into()],
            ..DnsSummary::default()
        };
        assert_eq!(nxdomain_burst(&f, &c(12)).unwrap().weight, 15);
        assert!(nxdomain_burst(&f, &c(1)).is_none(), "a search suffix");
        assert!(nxdomain_burst(&finding("CryptoCurrency:EC2/BitcoinTool.B!DNS"), &c(12)).is_none());
    }

    #[test]
    fn many_names_under_the_flagged_domain_read_as_tunnelling() {
        let f = finding("Trojan:EC2/DNSDataExfiltration");
        let many = DomainLookups {
            names: 120,
            ..lookups(None, 0)
        };
        assert_eq!(
            names_under_domain(&f, &summary(many, false))
                .unwrap()
                .signal,
            Signal::DnsNamesUnderDomain
        );
        assert!(names_under_domain(&f, &summary(lookups(None, 0), false)).is_none());
    }
}
