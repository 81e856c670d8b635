//! Attacker behaviour recognised in the scope window itself, with no history needed.
//!
//! Most context rules compare the window with the principal's past; a principal with no past (a
//! new account, a role created an hour ago, logs not yet backfilled) then gets no reading at all.
//! Yet much of what intruders do is recognisable on its own: trails stopped, snapshots shared
//! with another account, access keys minted for other users, dozens of secrets read in a minute.
//! This module is that catalogue ([`catalogue`]), each entry a MITRE ATT&CK technique with the
//! calls that show it, and the benign explanations an analyst checks before calling it an
//! intrusion ([`benign`]). Both are pure functions of the window's calls.

pub mod benign;
mod calls;
pub mod catalogue;
pub mod claims;

pub use benign::read_benign;
pub use calls::{is_read_only, tool_of_user_agent};
pub use catalogue::{Observation, observe};
pub use claims::Claim;

use crate::activity::NotableEvent;
use crate::classify::Signal;
use crate::enrich::ActivityRow;
use chrono::{DateTime, Utc};

/// One benign explanation that the window's calls support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenignReading {
    pub signal: Signal,
    pub sentence: String,
    pub weight: i32,
}

/// An ATT&CK technique as the notice names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Technique {
    /// ATT&CK ID (`T1562.008`).
    pub id: &'static str,
    pub name: &'static str,
    pub tactic: &'static str,
    /// The evidence signal its observation is filed under.
    pub signal: Signal,
}

/// One call that shows a behaviour, as the notice lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRef {
    pub time: DateTime<Utc>,
    /// `service:Api`.
    pub api: String,
    /// What it acted on or granted, if the record says.
    pub target: Option<String>,
    /// Refused by IAM: an attempt, not an effect.
    pub denied: bool,
}

/// The principal's calls in the scope window: notable events in full, and every call (reads
/// included) as hourly aggregates.
#[derive(Debug, Clone, Copy)]
pub struct WindowCalls<'a> {
    pub events: &'a [&'a NotableEvent],
    pub activity: &'a [&'a ActivityRow],
    /// The account the principal belongs to: grants to any other account leave it.
    pub account: Option<&'a str>,
}
