//! The verdict: a pure function from a finding to "likely true positive", "likely false
//! positive" or "needs review", with a confidence and the evidence it rests on.
//!
//! Each rule in `rules` looks at one thing and returns a weighted piece of evidence: positive
//! weights point to a real incident, negative ones to noise. The verdict is the sum against two
//! thresholds, so a reader can check any verdict by adding up the numbers printed in the notice.

mod context_rules;
mod rules;
mod scanners;
mod signal;

use crate::enrich::{ContextSummary, SourceSummaries};
use crate::finding::Finding;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use scanners::known_scanner;
pub use signal::Signal;

pub(crate) use context_rules::ev;

/// At or above this score the finding is called likely true positive.
pub const TRUE_POSITIVE_AT: i32 = 30;
/// At or below this score the finding is called likely false positive.
pub const FALSE_POSITIVE_AT: i32 = -20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    LikelyTruePositive,
    LikelyFalsePositive,
    NeedsReview,
}

impl Verdict {
    /// The machine name, used in JSON output and SNS message attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LikelyTruePositive => "likely_true_positive",
            Self::LikelyFalsePositive => "likely_false_positive",
            Self::NeedsReview => "needs_review",
        }
    }

    /// The short tag that leads a notice subject.
    pub fn tag(self) -> &'static str {
        match self {
            Self::LikelyTruePositive => "LIKELY TP",
            Self::LikelyFalsePositive => "LIKELY FP",
            Self::NeedsReview => "REVIEW",
        }
    }

    pub fn headline(self) -> &'static str {
        match self {
            Self::LikelyTruePositive => "LIKELY TRUE POSITIVE",
            Self::LikelyFalsePositive => "LIKELY FALSE POSITIVE",
            Self::NeedsReview => "NEEDS REVIEW",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One observation and how much it moved the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// A stable name for the rule, for filtering and tests.
    pub signal: Signal,
    /// One sentence saying what was observed (built from untrusted finding fields: the notice
    /// sanitises it).
    pub sentence: String,
    pub weight: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub verdict: Verdict,
    /// 0-100: how sure we are of the verdict.
    pub confidence: u8,
    pub score: i32,
    /// Strongest evidence first.
    pub evidence: Vec<Evidence>,
}

impl Assessment {
    /// The strongest context signal that agrees with the verdict, in a few words for the
    /// subject line (see `context_rules::subject_phrase`).
    pub fn subject_phrase(&self) -> Option<&'static str> {
        let agrees = |e: &&Evidence| match self.verdict {
            Verdict::LikelyTruePositive => e.weight > 0,
            Verdict::LikelyFalsePositive => e.weight < 0,
            Verdict::NeedsReview => e.weight != 0,
        };
        self.evidence
            .iter()
            .filter(agrees)
            .filter_map(|e| Some((e.weight.abs(), subject_phrase(e.signal)?)))
            .max_by_key(|(weight, _)| *weight)
            .map(|(_, phrase)| phrase)
    }
}

/// The subject line's words for a signal, from the core rules or the source that owns it.
fn subject_phrase(signal: Signal) -> Option<&'static str> {
    context_rules::subject_phrase(signal).or_else(|| SourceSummaries::subject_phrase(signal))
}

/// Classify a finding from its own fields.
pub fn classify(finding: &Finding) -> Assessment {
    classify_with(finding, None)
}

/// Classify a finding from its own fields and, when there is any, its context.
pub fn classify_with(finding: &Finding, context: Option<&ContextSummary>) -> Assessment {
    let mut evidence: Vec<Evidence> = rules::ALL.iter().filter_map(|rule| rule(finding)).collect();
    if let Some(context) = context {
        evidence.extend(
            context_rules::ALL
                .iter()
                .filter_map(|rule| rule(finding, context)),
        );
        evidence.extend(context.sources.evidence(finding));
        evidence.extend(context_rules::behaviour_evidence(finding, context));
        // The caller's network, new or known, is one observation: the principal's own history
        // (the context) says it more precisely than GuardDuty's account-wide profile.
        let network_from_context = evidence.iter().any(|e| {
            matches!(
                e.signal,
                Signal::NewIpForPrincipal
                    | Signal::SensitiveCallsFromNewNetwork
                    | Signal::KnownIpForPrincipal
            )
        });
        if network_from_context {
            evidence.retain(|e| !rules::ACCOUNT_NETWORK_SIGNALS.contains(&e.signal));
        }
    }
    evidence.sort_by_key(|e| std::cmp::Reverse(e.weight.abs()));
    if let Some(sample) = evidence.iter().find(|e| e.signal == rules::SAMPLE) {
        // A sample finding is a fact, not a lean: nothing else in it describes real activity.
        let sample = sample.clone();
        return Assessment {
            verdict: Verdict::LikelyFalsePositive,
            confidence: 99,
            score: sample.weight,
            evidence: vec![sample],
        };
    }
    let score: i32 = evidence.iter().map(|e| e.weight).sum();
    let (verdict, confidence) = verdict_for(score);
    Assessment {
        verdict,
        confidence,
        score,
        evidence,
    }
}

/// Map a score to a verdict and a confidence. Confidence grows with the distance past the
/// threshold; for "needs review" it is highest when the evidence is balanced.
fn verdict_for(score: i32) -> (Verdict, u8) {
    let clamp = |c: i32| c.clamp(0, 100) as u8;
    if score >= TRUE_POSITIVE_AT {
        (Verdict::LikelyTruePositive, clamp((50 + score / 2).min(95)))
    } else if score <= FALSE_POSITIVE_AT {
        (
            Verdict::LikelyFalsePositive,
            clamp((50 + -score / 2).min(95)),
        )
    } else {
        (Verdict::NeedsReview, clamp(60 - score.abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_network_counts_once_from_the_context_when_it_says_so() {
        let f: Finding = serde_json::from_value(serde_json::json!({"id": "a", "severity": 5,
            "type": "Persistence:IAMUser/AnomalousBehavior",
            "service": {"additionalInfo": {"value":
                "{\"unusualBehavior\":{\"unusualASNsForAccount\":\"AS-CHOOPA\"}}"}}}))
        .unwrap();
        let signals = |c: Option<&ContextSummary>| -> Vec<Signal> {
            classify_with(&f, c)
                .evidence
                .iter()
                .map(|e| e.signal)
                .collect()
        };
        assert!(signals(None).contains(&Signal::NetworkUnseenInAccount));
        let new_ip = ContextSummary {
            new_ips: vec!["198.51.100.7".into()],
            new_networks: vec!["198.51.100.0/24".into()],
            history_days: Some(30),
            history_sufficient: true,
            ..ContextSummary::default()
        };
        let with_context = signals(Some(&new_ip));
        assert!(with_context.contains(&Signal::NewIpForPrincipal));
        assert!(!with_context.contains(&Signal::NetworkUnseenInAccount));
    }

    #[test]
    fn thresholds_split_the_score_into_three_verdicts() {
        assert_eq!(verdict_for(30).0, Verdict::LikelyTruePositive);
        assert_eq!(verdict_for(29).0, Verdict::NeedsReview);
        assert_eq!(verdict_for(-19).0, Verdict::NeedsReview);
        assert_eq!(verdict_for(-20).0, Verdict::LikelyFalsePositive);
        assert_eq!(verdict_for(0), (Verdict::NeedsReview, 60));
        assert_eq!(verdict_for(200).1, 95);
        assert!(verdict_for(60).1 > verdict_for(30).1);
    }
}
