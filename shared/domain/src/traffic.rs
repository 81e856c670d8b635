//! What a flow is, as the flow-log ingest stores it and enrichment reads it back: one vocabulary
//! for both sides, so a renamed value is a compile error, not a silent mismatch.

use std::fmt;

/// Whether the security groups and network ACLs let the traffic through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Accept,
    Reject,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "ACCEPT",
            Action::Reject => "REJECT",
        }
    }

    /// The field as flow logs write it (and as [`Self::as_str`] spells it).
    pub fn parse(token: &str) -> Option<Self> {
        match token {
            "ACCEPT" => Some(Action::Accept),
            "REJECT" => Some(Action::Reject),
            _ => None,
        }
    }
}

/// Direction of a flow with respect to the monitored interface. Records carry only `Ingress`
/// and `Egress` (the v5 `flow-direction` field); `Unknown` is for aggregates whose direction
/// could not be decided (the flow-log ingest decides it from the addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Ingress,
    Egress,
    Unknown,
}

impl Direction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
            Direction::Unknown => "unknown",
        }
    }

    /// As [`Self::as_str`] spells it; the v5 `flow-direction` field has only the first two.
    pub fn parse(token: &str) -> Option<Self> {
        match token {
            "ingress" => Some(Direction::Ingress),
            "egress" => Some(Direction::Egress),
            "unknown" => Some(Direction::Unknown),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which side of an aggregate the service is on, once the local side is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceSide {
    /// The local interface listens: traffic reached it.
    Local,
    /// The remote address listens: the interface reached out to it.
    Remote,
    /// No ports, or the same port at both ends.
    Neither,
}

impl ServiceSide {
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceSide::Local => "local",
            ServiceSide::Remote => "remote",
            ServiceSide::Neither => "neither",
        }
    }
}
