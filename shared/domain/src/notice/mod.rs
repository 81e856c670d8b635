//! The triage notice: what the on-call engineer reads, and what subscribers filter on.
//!
//! Rendering is pure: it takes the finding, the assessment and the dedupe decision and returns
//! plain strings. Every string that comes from the finding is untrusted and goes through
//! [`crate::text`] before it is placed in the subject, the body or an attribute.

mod attributes;
mod behaviour;
mod body;
mod context;
mod links;
mod next_steps;
mod subject;

/// At most this many evidence lines, remote endpoints and context lines are listed.
const MAX_LINES: usize = 12;

use crate::classify::Assessment;
use crate::dedupe::Change;
use crate::enrich::ContextSummary;
use crate::finding::FindingEvent;
use crate::scope::ScopeWindow;
use chrono::{DateTime, Utc};

pub use attributes::{Attribute, AttributeValue};
pub use subject::SUBJECT_MAX_CHARS;

/// SNS rejects messages over 256 KiB (body and attributes together); we stay well below.
pub const MESSAGE_MAX_BYTES: usize = 240 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind<'a> {
    New,
    Update(&'a [Change]),
}

impl NoticeKind<'_> {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Update(_) => "update",
        }
    }
}

/// Everything a notice is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct NoticeInput<'a> {
    pub event: &'a FindingEvent,
    pub assessment: &'a Assessment,
    pub kind: NoticeKind<'a>,
    /// 1 for the first notice of a finding, then 2, 3...: with the finding ID, the key a
    /// subscriber can dedupe on.
    pub sequence: usize,
    pub scope: ScopeWindow,
    pub triaged_at: DateTime<Utc>,
    /// What enrichment found; `None` when no context source is configured.
    pub context: Option<&'a ContextSummary>,
    /// An earlier delivery of this finding stopped between its claim and its completion, so
    /// this notice may repeat one it sent (same finding ID and sequence).
    pub possible_repeat: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub subject: String,
    pub body: String,
    pub attributes: Vec<Attribute>,
}

pub fn render(input: &NoticeInput<'_>) -> Notice {
    let attributes = attributes::for_notice(input);
    let attributes_size: usize = attributes.iter().map(Attribute::wire_size).sum();
    let body = body::render(input);
    Notice {
        subject: subject::render(input),
        body: fit(body, MESSAGE_MAX_BYTES.saturating_sub(attributes_size)),
        attributes,
    }
}

/// Cut the body at a character boundary so the whole message stays under the SNS limit.
fn fit(mut body: String, max_bytes: usize) -> String {
    const MARK: &str = "\n[notice truncated to fit the SNS size limit]\n";
    if body.len() <= max_bytes {
        return body;
    }
    let mut cut = max_bytes.saturating_sub(MARK.len());
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    body.truncate(cut);
    body.push_str(MARK);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_bodies_are_cut_on_a_character_boundary() {
        let body = "é".repeat(1000);
        let cut = fit(body, 501);
        assert!(cut.len() <= 501);
        assert!(cut.ends_with("size limit]\n"));
    }
}
