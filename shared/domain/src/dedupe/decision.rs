//! Whether a delivery of a finding deserves a notice: the pure half of deduplication.
//!
//! GuardDuty re-sends the same finding ID as activity repeats, and EventBridge and Lambda may
//! deliver any event more than once. This module compares what a delivery observes with what
//! the finding's record says was last seen and last notified, and nothing else: no clock, no
//! I/O, so every rule is tested with plain values.

use crate::finding::{Finding, SeverityBand};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;

/// What a delivery of a finding tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub band: SeverityBand,
    pub count: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub actors: BTreeSet<String>,
    pub remote_endpoints: BTreeSet<String>,
}

impl Observation {
    pub fn of(finding: &Finding) -> Self {
        Self {
            band: finding.severity.band(),
            count: finding.count(),
            updated_at: finding.updated_at(),
            actors: finding.actors(),
            remote_endpoints: finding.remote_endpoints(),
        }
    }
}

/// What the last notice for the finding said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notified {
    pub band: SeverityBand,
    pub count: i64,
    pub actors: BTreeSet<String>,
    pub remote_endpoints: BTreeSet<String>,
    pub at: DateTime<Utc>,
}

/// The finding's record as the dedupe store keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingRecord {
    pub last_notified: Option<Notified>,
    /// Highest count and newest `updatedAt` seen in any delivery, notified or not.
    pub seen_count: i64,
    pub seen_updated_at: Option<DateTime<Utc>>,
    pub suppressed_updates: i64,
    pub message_ids: Vec<String>,
    /// The last delivery claimed the record and never completed nor released it (it crashed, or
    /// its completion failed after every retry): it may or may not have published. The next
    /// notice says it may repeat one, rather than stay silent and risk losing it.
    pub interrupted: bool,
}

impl FindingRecord {
    pub fn notices_sent(&self) -> usize {
        self.message_ids.len()
    }
}

/// Why an update is worth a new notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    SeverityUp {
        from: SeverityBand,
        to: SeverityBand,
    },
    NewActors(Vec<String>),
    NewRemoteEndpoints(Vec<String>),
    CountJump {
        from: i64,
        to: i64,
    },
    QuietPeriodOver {
        since_last_notice: Duration,
    },
}

impl Change {
    /// One line for the notice's "what changed" section (values are untrusted: rendered
    /// through the notice's sanitiser).
    pub fn describe(&self) -> String {
        match self {
            Self::SeverityUp { from, to } => format!("severity band went up from {from} to {to}"),
            Self::NewActors(who) => format!("new actor(s): {}", who.join(", ")),
            Self::NewRemoteEndpoints(ips) => format!("new remote endpoint(s): {}", ips.join(", ")),
            Self::CountJump { from, to } => {
                format!("seen {to} times, more than 10x the {from} of the last notice")
            }
            Self::QuietPeriodOver { since_last_notice } => format!(
                "still active {} h after the last notice",
                since_last_notice.num_hours()
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Never notified: send the first notice.
    New,
    /// Notified before and something material changed: send an update notice.
    Update(Vec<Change>),
    /// A genuine repeat with nothing material: count it, send nothing.
    Suppress,
    /// The same delivery again, or an older one arriving late: nothing to count or send.
    Duplicate,
}

/// How long a finding may repeat without a new notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupePolicy {
    pub quiet_period: Duration,
}

impl Default for DedupePolicy {
    fn default() -> Self {
        Self {
            quiet_period: Duration::hours(24),
        }
    }
}

/// Decide what a delivery deserves, given the finding's record before it (if any).
pub fn decide(
    record: Option<&FindingRecord>,
    obs: &Observation,
    now: DateTime<Utc>,
    policy: DedupePolicy,
) -> Decision {
    let Some(record) = record else {
        return Decision::New;
    };
    let Some(notified) = &record.last_notified else {
        // A record without a notice is a claim whose holder crashed before publishing.
        return Decision::New;
    };
    let newer = match (obs.updated_at, record.seen_updated_at) {
        (Some(now_seen), Some(before)) => now_seen > before,
        _ => false,
    } || obs.count > record.seen_count;
    if !newer {
        return Decision::Duplicate;
    }
    let mut changes = Vec::new();
    if obs.band > notified.band {
        changes.push(Change::SeverityUp {
            from: notified.band,
            to: obs.band,
        });
    }
    let new_actors: Vec<String> = obs.actors.difference(&notified.actors).cloned().collect();
    if !new_actors.is_empty() {
        changes.push(Change::NewActors(new_actors));
    }
    let new_remotes: Vec<String> = obs
        .remote_endpoints
        .difference(&notified.remote_endpoints)
        .cloned()
        .collect();
    if !new_remotes.is_empty() {
        changes.push(Change::NewRemoteEndpoints(new_remotes));
    }
    if obs.count >= notified.count.saturating_mul(10) {
        changes.push(Change::CountJump {
            from: notified.count,
            to: obs.count,
        });
    }
    let since = now - notified.at;
    if since >= policy.quiet_period {
        changes.push(Change::QuietPeriodOver {
            since_last_notice: since,
        });
    }
    if changes.is_empty() {
        Decision::Suppress
    } else {
        Decision::Update(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0).unwrap()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn obs(count: i64, updated: u32) -> Observation {
        Observation {
            band: SeverityBand::Medium,
            count,
            updated_at: Some(t(updated)),
            actors: set(&["alice"]),
            remote_endpoints: set(&["198.51.100.1"]),
        }
    }

    fn record_after_notice(count: i64, at: u32) -> FindingRecord {
        FindingRecord {
            last_notified: Some(Notified {
                band: SeverityBand::Medium,
                count,
                actors: set(&["alice"]),
                remote_endpoints: set(&["198.51.100.1"]),
                at: t(at),
            }),
            seen_count: count,
            seen_updated_at: Some(t(at)),
            suppressed_updates: 0,
            message_ids: vec!["m-1".into()],
            interrupted: false,
        }
    }

    const POLICY: DedupePolicy = DedupePolicy {
        quiet_period: Duration::hours(24),
    };

    #[test]
    fn first_delivery_and_a_crashed_claim_both_notify() {
        assert_eq!(decide(None, &obs(1, 1), t(1), POLICY), Decision::New);
        let crashed = FindingRecord::default();
        assert_eq!(
            decide(Some(&crashed), &obs(1, 1), t(1), POLICY),
            Decision::New
        );
    }

    #[test]
    fn the_same_delivery_again_is_a_duplicate_not_a_repeat() {
        let record = record_after_notice(3, 1);
        assert_eq!(
            decide(Some(&record), &obs(3, 1), t(2), POLICY),
            Decision::Duplicate
        );
        // An older delivery arriving late is no news either.
        assert_eq!(
            decide(Some(&record), &obs(2, 0), t(2), POLICY),
            Decision::Duplicate
        );
    }

    #[test]
    fn a_repeat_with_nothing_material_is_suppressed() {
        let record = record_after_notice(3, 1);
        assert_eq!(
            decide(Some(&record), &obs(5, 2), t(2), POLICY),
            Decision::Suppress
        );
    }

    #[test]
    fn each_material_change_makes_an_update() {
        let record = record_after_notice(3, 1);
        let mut higher = obs(4, 2);
        higher.band = SeverityBand::High;
        assert!(matches!(
            decide(Some(&record), &higher, t(2), POLICY),
            Decision::Update(c) if c == [Change::SeverityUp { from: SeverityBand::Medium, to: SeverityBand::High }]
        ));
        let mut lower = obs(4, 2);
        lower.band = SeverityBand::Low;
        assert_eq!(
            decide(Some(&record), &lower, t(2), POLICY),
            Decision::Suppress
        );

        let mut actor = obs(4, 2);
        actor.actors.insert("mallory".into());
        assert!(matches!(decide(Some(&record), &actor, t(2), POLICY),
            Decision::Update(c) if c == [Change::NewActors(vec!["mallory".into()])]));

        let mut remote = obs(4, 2);
        remote.remote_endpoints.insert("203.0.113.9".into());
        assert!(matches!(decide(Some(&record), &remote, t(2), POLICY),
            Decision::Update(c) if c == [Change::NewRemoteEndpoints(vec!["203.0.113.9".into()])]));

        assert_eq!(
            decide(Some(&record), &obs(29, 2), t(2), POLICY),
            Decision::Suppress
        );
        assert!(matches!(decide(Some(&record), &obs(30, 2), t(2), POLICY),
            Decision::Update(c) if c == [Change::CountJump { from: 3, to: 30 }]));
    }

    #[test]
    fn the_quiet_period_is_configurable() {
        let record = record_after_notice(3, 0);
        let later = t(0) + Duration::hours(25);
        assert!(matches!(
            decide(Some(&record), &obs(4, 1), later, POLICY),
            Decision::Update(c) if matches!(c[..], [Change::QuietPeriodOver { .. }])
        ));
        let patient = DedupePolicy {
            quiet_period: Duration::hours(48),
        };
        assert_eq!(
            decide(Some(&record), &obs(4, 1), later, patient),
            Decision::Suppress
        );
    }
}
