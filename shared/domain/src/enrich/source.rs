//! How a log source takes part in triage, beside CloudTrail and the VPC flow logs.
//!
//! CloudTrail and the flows are the core context: most families' rules read them, and the other
//! sources cross-reference them (a Resolver answer is confirmed by the flows to it). Every other
//! source is a [`LogContext`]: it says which of its keys a finding names, boils its rows down to
//! a summary of its own type, and contributes rules, notice lines and next steps from that
//! summary alone. Its rows and summary stay typed end to end: the registry in
//! [`super::sources`] gives each source a field of its own types, so nothing is looked up by
//! name or downcast.
//!
//! The storage side (partition keys to queries, items to rows) is the AWS adapters' half of the
//! same source (`triage_aws::context_items`).

use super::rows::CoreRows;
use crate::classify::{Evidence, Signal, Verdict};
use crate::finding::{Finding, FindingEvent};
use crate::scope::ScopeWindow;
use std::fmt::{self, Debug};

/// A rule on one source's summary, documented with why it points the way it does. It fires
/// only on what the summary shows: missing context is neutral, never evidence.
pub type SourceRule<S> = fn(&Finding, &S) -> Option<Evidence>;

/// A log source's part in triage. Implemented by a unit type in the source's own module and
/// registered with one line in [`super::sources`].
pub trait LogContext {
    /// The partition keys a finding names for this source.
    type Keys: Clone + Debug + Default + PartialEq + Eq;
    /// Its rows as decoded from the table, for one finding.
    type Rows: Clone + Debug + Default + PartialEq + Eq;
    /// What the rows say about the finding: what its rules, notice lines and steps read.
    type Summary: Clone + Debug + PartialEq + Eq + 'static;

    /// Its rules, in the order their evidence is listed before the weights sort it.
    const RULES: &'static [SourceRule<Self::Summary>];

    /// The keys, from what the finding itself says (nothing it does not name is looked up).
    fn keys(event: &FindingEvent) -> Self::Keys;

    /// How many partitions `keys` asks for: a finding that names none has no context to read.
    fn key_count(keys: &Self::Keys) -> usize;

    /// How many rows were read: "nothing found" is itself worth saying.
    fn row_count(rows: &Self::Rows) -> usize;

    /// The summary, `None` when the rows say nothing about this finding. `core` holds the
    /// CloudTrail and flow rows read for the same finding, for cross-references.
    fn summarise(
        rows: &Self::Rows,
        core: CoreRows<'_>,
        finding: &Finding,
        window: &ScopeWindow,
    ) -> Option<Self::Summary>;

    /// A few words for the subject line when one of this source's signals leads the verdict.
    fn subject_phrase(signal: Signal) -> Option<&'static str>;

    /// Its lines in the notice's Context section, every logged string sanitised.
    fn write_notice(out: &mut String, summary: &Self::Summary) -> fmt::Result;

    /// Adds its steps to "Do next" (the family's steps are already in `steps`), where they
    /// belong in the order.
    fn next_steps(
        finding: &Finding,
        verdict: Verdict,
        summary: &Self::Summary,
        steps: &mut Vec<String>,
    );
}
