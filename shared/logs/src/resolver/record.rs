//! One Route 53 Resolver query log entry, as the Route 53 Developer Guide documents it ("Values
//! that appear in VPC Resolver query logs"), read tolerantly: every field optional, so an entry
//! that lacks one is a counted skip with a reason rather than a failed object.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use triage_domain::activity::{NAME_MAX, bounded, parse_event_time};
use triage_domain::dns::FirewallAction;
use triage_domain::lenient;

/// An entry as written: only what triage reads is modelled; other fields are ignored. Text is
/// borrowed from the line when it has no escapes, so parsing allocates little.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueryLogEntry<'a> {
    #[serde(default, borrow)]
    pub query_timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub query_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub query_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub rcode: Option<Cow<'a, str>>,
    /// A list as AWS writes it; some exports flatten a single answer to an object. Read without
    /// buffering the entry (an untagged enum would, for every entry).
    #[serde(default, borrow, deserialize_with = "lenient::list")]
    pub answers: Vec<Answer<'a>>,
    #[serde(default, borrow)]
    pub srcaddr: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub srcids: SourceIds<'a>,
    /// `BLOCK`, `ALERT` or `ALLOW` when a DNS Firewall rule matched the query.
    #[serde(default, borrow)]
    pub firewall_rule_action: Option<Cow<'a, str>>,
}

/// What made the query: an instance, or a Resolver inbound endpoint (traffic from outside the
/// VPC, on premises).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceIds<'a> {
    #[serde(default, borrow)]
    pub instance: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub resolver_endpoint: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Answer<'a> {
    #[serde(default, rename = "Rdata", borrow)]
    pub rdata: Option<Cow<'a, str>>,
    #[serde(default, rename = "Type", borrow)]
    pub kind: Option<Cow<'a, str>>,
}

/// Why an entry was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Not a JSON object.
    NotAnObject,
    MissingTime,
    InvalidTime,
    MissingQueryName,
    /// Neither an instance nor a source address: nothing to file the query under.
    MissingSource,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::NotAnObject => "not a JSON object",
            SkipReason::MissingTime => "no query_timestamp",
            SkipReason::InvalidTime => "unreadable query_timestamp",
            SkipReason::MissingQueryName => "no query_name",
            SkipReason::MissingSource => "neither srcids.instance nor srcaddr",
        })
    }
}

/// A usable query: when, who asked, what, and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub time: DateTime<Utc>,
    /// The instance that asked, else the source address (an inbound endpoint's client).
    pub source: Source,
    /// Lower case, without the final dot, cut to a bound: `moneropool.ru`.
    pub name: String,
    pub query_type: String,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`...; `-` when absent.
    pub rcode: String,
    /// Addresses answered (A and AAAA records), which flow logs can confirm were then reached.
    pub addresses: Vec<String>,
    pub firewall_action: Option<FirewallAction>,
}

/// Whom a query is filed under: triage looks an instance up by its ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Instance(String),
    Address(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Instance(id) => f.write_str(id),
            Source::Address(ip) => f.write_str(ip),
        }
    }
}

/// A name as stored: case-insensitive in DNS, the root's final dot dropped.
pub fn normalize_name(raw: &str) -> String {
    let name = raw.trim().trim_end_matches('.');
    bounded(name, NAME_MAX).to_ascii_lowercase()
}

impl Query {
    pub fn from_entry(entry: QueryLogEntry<'_>) -> Result<Self, SkipReason> {
        let raw_time = entry.query_timestamp.ok_or(SkipReason::MissingTime)?;
        let time = parse_event_time(&raw_time).ok_or(SkipReason::InvalidTime)?;
        let name = entry
            .query_name
            .as_deref()
            .map(normalize_name)
            .filter(|n| !n.is_empty())
            .ok_or(SkipReason::MissingQueryName)?;
        let text = |s: Option<Cow<'_, str>>| {
            s.filter(|s| !s.is_empty())
                .map(|s| bounded(&s, NAME_MAX).to_owned())
        };
        let source = match (text(entry.srcids.instance), text(entry.srcaddr)) {
            (Some(instance), _) => Source::Instance(instance),
            (None, Some(address)) => Source::Address(address),
            (None, None) => return Err(SkipReason::MissingSource),
        };
        let addresses = entry
            .answers
            .iter()
            .filter(|a| matches!(a.kind.as_deref(), Some("A" | "AAAA")))
            .filter_map(|a| a.rdata.as_deref())
            .filter_map(|ip| triage_domain::activity::parse_ip(ip).map(|ip| ip.to_string()))
            .collect();
        Ok(Query {
            time,
            source,
            name,
            query_type: text(entry.query_type).unwrap_or_else(|| "-".into()),
            rcode: text(entry.rcode).unwrap_or_else(|| "-".into()),
            addresses,
            firewall_action: entry
                .firewall_rule_action
                .as_deref()
                .and_then(FirewallAction::parse),
        })
    }
}
