//! The registry of the log sources beyond CloudTrail and the flows: one line per
//! [`LogContext`], from which the keys, rows and summaries of every source get a typed field of
//! their own and the pipeline's steps (summarise, rules, notice, next steps) call each in turn.
//! Adding a source is its module and one line here.

use super::rows::CoreRows;
use super::source::LogContext;
use crate::classify::{Evidence, Signal, Verdict};
use crate::dns::ResolverLogs;
use crate::finding::{Finding, FindingEvent};
use crate::kube::EksAuditLogs;
use crate::scope::ScopeWindow;
use std::fmt;

macro_rules! log_sources {
    ($($(#[$doc:meta])* $field:ident: $source:ty,)+) => {
        /// The partition keys a finding names, per source.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct SourceKeys {
            $($(#[$doc])* pub $field: <$source as LogContext>::Keys,)+
        }

        impl SourceKeys {
            pub fn of(event: &FindingEvent) -> Self {
                Self { $($field: <$source>::keys(event),)+ }
            }

            pub fn count(&self) -> usize {
                0 $(+ <$source>::key_count(&self.$field))+
            }
        }

        /// The rows read for a finding, per source.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct SourceRows {
            $($(#[$doc])* pub $field: <$source as LogContext>::Rows,)+
        }

        impl SourceRows {
            pub fn count(&self) -> usize {
                0 $(+ <$source>::row_count(&self.$field))+
            }
        }

        /// What each source's rows say about the finding (`None`: nothing).
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct SourceSummaries {
            $($(#[$doc])* pub $field: Option<<$source as LogContext>::Summary>,)+
        }

        impl SourceSummaries {
            pub fn of(
                rows: &SourceRows,
                core: CoreRows<'_>,
                finding: &Finding,
                window: &ScopeWindow,
            ) -> Self {
                Self {
                    $($field: <$source>::summarise(&rows.$field, core, finding, window),)+
                }
            }

            /// Every source's rules on its summary, sources in registry order.
            pub fn evidence(&self, finding: &Finding) -> Vec<Evidence> {
                let mut out = Vec::new();
                $(if let Some(summary) = &self.$field {
                    out.extend(
                        <$source>::RULES.iter().filter_map(|rule| rule(finding, summary)),
                    );
                })+
                out
            }

            pub fn subject_phrase(signal: Signal) -> Option<&'static str> {
                None $(.or_else(|| <$source>::subject_phrase(signal)))+
            }

            pub fn write_notice(&self, out: &mut String) -> fmt::Result {
                $(if let Some(summary) = &self.$field {
                    <$source>::write_notice(out, summary)?;
                })+
                Ok(())
            }

            pub fn next_steps(&self, finding: &Finding, verdict: Verdict, steps: &mut Vec<String>) {
                $(if let Some(summary) = &self.$field {
                    <$source>::next_steps(finding, verdict, summary, steps);
                })+
            }
        }
    };
}

log_sources! {
    /// Route 53 Resolver query logs: what the finding's instance resolved.
    dns: ResolverLogs,
    /// EKS audit logs: what the finding's Kubernetes user did, and who else called from its
    /// addresses.
    kube: EksAuditLogs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::parse_event;
    use serde_json::json;

    #[test]
    fn each_source_answers_for_what_its_finding_names_and_nothing_else() {
        let instance = parse_event(json!({"id": "a", "severity": 8,
            "type": "CryptoCurrency:EC2/BitcoinTool.B!DNS",
            "resource": {"instanceDetails": {"instanceId": "i-0abc234",
                "networkInterfaces": [{"privateIpAddress": "10.0.0.5"}]}}}))
        .unwrap();
        let keys = SourceKeys::of(&instance);
        assert_eq!(keys.dns.len(), 2);
        assert_eq!(keys.kube, Default::default(), "no Kubernetes call named");
        assert_eq!(keys.count(), 2);

        let f = &instance.finding;
        let window = ScopeWindow::for_finding(f, chrono::Duration::minutes(60), chrono::Utc::now());
        let core = CoreRows {
            flows: &[],
            activity: &[],
            baseline: &[],
            notable: &[],
        };
        let nothing = SourceSummaries::of(&SourceRows::default(), core, f, &window);
        assert_eq!(nothing, SourceSummaries::default(), "no rows, no summary");
        assert!(nothing.evidence(f).is_empty());
        let mut notice = String::new();
        nothing.write_notice(&mut notice).unwrap();
        assert!(notice.is_empty());
    }

    #[test]
    fn subject_phrases_are_found_through_the_source_that_owns_the_signal() {
        assert_eq!(
            SourceSummaries::subject_phrase(Signal::DnsResolvedThenReached),
            Some("resolved, then connected")
        );
        assert_eq!(
            SourceSummaries::subject_phrase(Signal::KubePermissionProbing),
            Some("permission probing")
        );
        assert_eq!(SourceSummaries::subject_phrase(Signal::Severity), None);
    }
}
