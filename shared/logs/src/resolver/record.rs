//! One Route 53 Resolver query log entry, as the Route 53 Developer Guide documents it ("Values
//! that appear in VPC Resolver query logs"), read tolerantly: every field optional, so an entry
//! that lacks one is a counted skip with a reason rather than a failed object.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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

/// A usable query: when, who asked, what, and what came back. Its text is borrowed from the
/// entry (itself borrowed from the line), so a query of an aggregate that already exists costs
/// no allocation: the aggregator copies the text only for a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<'a> {
    pub time: DateTime<Utc>,
    /// The instance that asked, else the source address (an inbound endpoint's client).
    pub source: Asker<'a>,
    /// Lower case, without the final dot, cut to a bound: `moneropool.ru`.
    pub name: Cow<'a, str>,
    pub query_type: Cow<'a, str>,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`...; `-` when absent.
    pub rcode: Cow<'a, str>,
    /// The answers as written; [`Query::addresses`] reads the A and AAAA ones.
    pub answers: Vec<Answer<'a>>,
    pub firewall_action: Option<FirewallAction>,
}

/// [`Source`], borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asker<'a> {
    Instance(Cow<'a, str>),
    Address(Cow<'a, str>),
}

impl Asker<'_> {
    pub fn to_source(&self) -> Source {
        match self {
            Asker::Instance(id) => Source::Instance(id.to_string()),
            Asker::Address(ip) => Source::Address(ip.to_string()),
        }
    }
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
    normalized(Cow::Borrowed(raw)).into_owned()
}

/// [`normalize_name`], copying only when the name is not already in its stored form (a name in
/// capitals, or one cut to the bound from an owned string).
fn normalized(raw: Cow<'_, str>) -> Cow<'_, str> {
    let needs_lowering = |s: &str| s.bytes().any(|b| b.is_ascii_uppercase());
    match raw {
        Cow::Borrowed(raw) => {
            let name = bounded(raw.trim().trim_end_matches('.'), NAME_MAX);
            if needs_lowering(name) {
                Cow::Owned(name.to_ascii_lowercase())
            } else {
                Cow::Borrowed(name)
            }
        }
        Cow::Owned(raw) => {
            Cow::Owned(bounded(raw.trim().trim_end_matches('.'), NAME_MAX).to_ascii_lowercase())
        }
    }
}

/// Text of a field, cut to the bound; empty is absent.
fn text(s: Option<Cow<'_, str>>) -> Option<Cow<'_, str>> {
    match s.filter(|s| !s.is_empty())? {
        Cow::Borrowed(s) => Some(Cow::Borrowed(bounded(s, NAME_MAX))),
        Cow::Owned(s) => Some(Cow::Owned(bounded(&s, NAME_MAX).to_owned())),
    }
}

impl<'a> Query<'a> {
    pub fn from_entry(entry: QueryLogEntry<'a>) -> Result<Self, SkipReason> {
        let raw_time = entry.query_timestamp.ok_or(SkipReason::MissingTime)?;
        let time = parse_event_time(&raw_time).ok_or(SkipReason::InvalidTime)?;
        let name = entry
            .query_name
            .map(normalized)
            .filter(|n| !n.is_empty())
            .ok_or(SkipReason::MissingQueryName)?;
        let source = match (text(entry.srcids.instance), text(entry.srcaddr)) {
            (Some(instance), _) => Asker::Instance(instance),
            (None, Some(address)) => Asker::Address(address),
            (None, None) => return Err(SkipReason::MissingSource),
        };
        Ok(Query {
            time,
            source,
            name,
            query_type: text(entry.query_type).unwrap_or(Cow::Borrowed("-")),
            rcode: text(entry.rcode).unwrap_or(Cow::Borrowed("-")),
            answers: entry.answers,
            firewall_action: entry
                .firewall_rule_action
                .as_deref()
                .and_then(FirewallAction::parse),
        })
    }

    /// Addresses answered (A and AAAA records), which flow logs can confirm were then reached.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.answers
            .iter()
            .filter(|a| matches!(a.kind.as_deref(), Some("A" | "AAAA")))
            .filter_map(|a| a.rdata.as_deref())
            .filter_map(triage_domain::activity::parse_ip)
    }
}
