//! The EKS audit logs' part in triage: a Kubernetes finding names its user and addresses, and
//! what that user did around the finding feeds the Kubernetes rules, the notice and "Do next".

use super::{KubeRows, KubeSummary, notice, rules, summary};
use crate::classify::{Signal, Verdict};
use crate::enrich::{CoreRows, LogContext, SourceRule};
use crate::finding::{Family, Finding, FindingEvent};
use crate::scope::ScopeWindow;
use std::collections::BTreeSet;
use std::fmt;

/// EKS audit logs, every aggregate stored under its user and under its address.
pub struct EksAuditLogs;

/// The partitions a Kubernetes finding names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeKeys {
    /// `K8S#<cluster>#user#...`: the finding's user in its cluster (none for an anonymous call:
    /// `system:anonymous` is every unauthenticated caller at once).
    pub users: BTreeSet<String>,
    /// `K8S#<cluster>#ip#...`: the addresses the finding's call came from.
    pub addresses: BTreeSet<String>,
}

impl LogContext for EksAuditLogs {
    type Keys = KubeKeys;
    type Rows = KubeRows;
    type Summary = KubeSummary;

    const RULES: &'static [SourceRule<KubeSummary>] = &[
        rules::further_techniques,
        rules::further_techniques_refused,
        rules::permission_probing,
    ];

    fn keys(event: &FindingEvent) -> KubeKeys {
        let Some(call) = event.finding.kube_call() else {
            return KubeKeys::default();
        };
        KubeKeys {
            users: call.user_subject().into_iter().collect(),
            addresses: call.address_subjects().collect(),
        }
    }

    fn key_count(keys: &KubeKeys) -> usize {
        keys.users.len() + keys.addresses.len()
    }

    fn row_count(rows: &KubeRows) -> usize {
        rows.rows.len() + rows.callers.len()
    }

    fn summarise(
        rows: &KubeRows,
        _core: CoreRows<'_>,
        finding: &Finding,
        _window: &ScopeWindow,
    ) -> Option<KubeSummary> {
        summary::summarise(rows, finding)
    }

    fn subject_phrase(signal: Signal) -> Option<&'static str> {
        Some(match signal {
            Signal::KubeFurtherTechniques => "further techniques",
            Signal::KubeFurtherTechniquesRefused => "further attempts refused",
            Signal::KubePermissionProbing => "permission probing",
            _ => return None,
        })
    }

    fn write_notice(out: &mut String, summary: &KubeSummary) -> fmt::Result {
        notice::write_kube(out, summary)
    }

    /// The audit log names what the user did after the finding's call: undoing it comes first.
    fn next_steps(
        finding: &Finding,
        verdict: Verdict,
        summary: &KubeSummary,
        steps: &mut Vec<String>,
    ) {
        if finding.family() == Family::Kubernetes && verdict != Verdict::LikelyFalsePositive {
            steps.splice(0..0, notice::next_steps(summary));
        }
    }
}
