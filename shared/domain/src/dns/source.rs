//! The Resolver query logs' part in triage: a finding's instance names its keys, and what it
//! resolved around the finding feeds the DNS rules, the notice and "Do next".

use super::{DnsRow, DnsSummary, asker_subject, notice, rules, summary};
use crate::classify::{Signal, Verdict};
use crate::enrich::{CoreRows, LogContext, SourceRule};
use crate::finding::{Finding, FindingEvent};
use crate::scope::ScopeWindow;
use std::collections::BTreeSet;
use std::fmt;

/// Route 53 Resolver query logs, stored per asker (`DNS#<instance id or source address>`).
pub struct ResolverLogs;

impl LogContext for ResolverLogs {
    /// `DNS#...` keys: the instance and its private IPs. The Resolver ingest files a query under
    /// the instance that asked when the log names one, else under the asking address (queries
    /// from a peered VPC, a container's own interface, an on-premises forwarder).
    type Keys = BTreeSet<String>;
    type Rows = Vec<DnsRow>;
    type Summary = DnsSummary;

    const RULES: &'static [SourceRule<DnsSummary>] = &[
        rules::resolved_then_reached,
        rules::lookup_contained,
        rules::nxdomain_burst,
        rules::names_under_domain,
    ];

    fn keys(event: &FindingEvent) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        let Some(instance) =
            (event.finding.resource.as_ref()).and_then(|r| r.instance_details.as_ref())
        else {
            return keys;
        };
        if let Some(id) = instance.instance_id.as_deref().filter(|i| !i.is_empty()) {
            keys.insert(asker_subject(id));
        }
        for ip in (instance.network_interfaces.iter()).filter_map(|e| e.private_ip_address.as_ref())
        {
            keys.insert(asker_subject(ip));
        }
        keys
    }

    fn key_count(keys: &BTreeSet<String>) -> usize {
        keys.len()
    }

    fn row_count(rows: &Vec<DnsRow>) -> usize {
        rows.len()
    }

    fn summarise(
        rows: &Vec<DnsRow>,
        core: CoreRows<'_>,
        finding: &Finding,
        window: &ScopeWindow,
    ) -> Option<DnsSummary> {
        summary::summarise(rows, core.flows, finding, window)
    }

    fn subject_phrase(signal: Signal) -> Option<&'static str> {
        Some(match signal {
            Signal::DnsResolvedThenReached => "resolved, then connected",
            Signal::NxdomainBurst => "NXDOMAIN burst",
            Signal::DnsNamesUnderDomain => "many names under domain",
            _ => return None,
        })
    }

    fn write_notice(out: &mut String, summary: &DnsSummary) -> fmt::Result {
        notice::write_dns(out, summary)
    }

    /// The Resolver logs name what a DNS finding's lookup got: the addresses to block, or, when
    /// the lookup was stopped, the process still to find. After the family's first step.
    fn next_steps(
        finding: &Finding,
        verdict: Verdict,
        summary: &DnsSummary,
        steps: &mut Vec<String>,
    ) {
        if rules::dns_family(finding) && verdict != Verdict::LikelyFalsePositive {
            let at = steps.len().min(1);
            steps.splice(at..at, notice::next_steps(summary));
        }
    }
}
