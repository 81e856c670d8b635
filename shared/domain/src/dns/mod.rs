//! Route 53 Resolver query logs in triage: the vocabulary the Resolver reader (`triage-logs`)
//! writes and enrichment reads back (one definition, so that a value spelled differently on one
//! side cannot silently stop matching), the rows as stored, and the source's part in triage
//! ([`ResolverLogs`]: keys, `summary`, `rules`, notice lines).

mod notice;
mod rules;
mod source;
mod summary;

pub use source::ResolverLogs;
pub use summary::{AnswerTraffic, DnsSummary, DomainLookups};

use chrono::{DateTime, Utc};
use std::fmt;

/// The partition of what one asker resolved: the instance the query log names, else the address
/// that asked. The Resolver ingest files its rows here and a DNS finding's lookups read them, so
/// both sides spell it through this one function.
pub fn asker_subject(asker: impl fmt::Display) -> String {
    format!("DNS#{asker}")
}

/// The response code of a failed lookup of a name that does not exist: what a
/// domain-generation algorithm's guesses mostly get.
pub const NXDOMAIN: &str = "NXDOMAIN";

/// What one instance (or address) resolved in one ten-minute bucket: a name, its type and
/// response code, how often, and the addresses it got back (to match against flows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRow {
    /// Lower case, without the final dot.
    pub name: String,
    pub query_type: String,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`...
    pub rcode: String,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// A and AAAA answers (at most a few).
    pub addresses: Vec<String>,
    /// What a DNS Firewall rule did at worst (`BLOCK`, `ALERT`, `ALLOW`), if one matched.
    pub firewall_action: Option<FirewallAction>,
}

/// What a Route 53 Resolver DNS Firewall rule did to a query (`firewall_rule_action` in the
/// query log). Ordered by how much it stopped: where lookups of one name met several rules,
/// the strongest is what is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FirewallAction {
    Allow,
    /// Let through and logged: someone flagged the name, nothing stopped it.
    Alert,
    /// Not answered (or answered with the rule's override): the instance did not get an address.
    Block,
}

impl FirewallAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "ALLOW",
            Self::Alert => "ALERT",
            Self::Block => "BLOCK",
        }
    }

    /// The documented values, in any case; anything else is not an action we can read (absent).
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Allow, Self::Alert, Self::Block]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for FirewallAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_as_written_and_order_by_what_they_stopped() {
        for a in [
            FirewallAction::Allow,
            FirewallAction::Alert,
            FirewallAction::Block,
        ] {
            assert_eq!(FirewallAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(
            FirewallAction::parse(" block "),
            Some(FirewallAction::Block)
        );
        assert_eq!(FirewallAction::parse("DROP"), None);
        assert!(FirewallAction::Block > FirewallAction::Alert);
        assert!(FirewallAction::Alert > FirewallAction::Allow);
    }
}
