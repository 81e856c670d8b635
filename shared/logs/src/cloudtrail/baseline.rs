//! Behaviour baselines: what each principal has been seen doing, so "is this new for the
//! principal?" is one lookup.
//!
//! For every principal key of a record (see [`super::principal`]) we observe: the source (the
//! canonical IP, or the AWS service name CloudTrail puts there), its network (/24, /48), the user
//! agent, the region and the API (`iam:CreateUser`). For a role whose credentials were issued by
//! STS we also observe who assumed it ([`ObservationKind::AssumedBy`]). Each observation keeps
//! first seen, last seen and count; ASNs would need a lookup table we do not ship, so networks
//! stand in for them.

use super::stats::Stats;
use triage_domain::activity::{EntityKey, ObservationKind};

use std::collections::BTreeMap;

/// One baseline entry, for listing and writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaselineEntry<'a> {
    pub principal: &'a EntityKey,
    pub kind: ObservationKind,
    pub value: &'a str,
    pub stats: &'a Stats,
}

/// Observations per principal, per kind, per value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeMap<EntityKey, BTreeMap<ObservationKind, BTreeMap<String, Stats>>>,
    len: usize,
}

impl Baseline {
    /// Record an observation (merging with what is already known).
    pub fn insert(
        &mut self,
        principal: EntityKey,
        kind: ObservationKind,
        value: String,
        stats: Stats,
    ) {
        let values = self
            .entries
            .entry(principal)
            .or_default()
            .entry(kind)
            .or_default();
        match values.get_mut(&value) {
            Some(known) => known.merge(&stats),
            None => {
                values.insert(value, stats);
                self.len += 1;
            }
        }
    }

    /// What is known of `value` for `principal`; `None` means never seen. Values are spelled as
    /// the baseline spells them: canonical IPs ([`normalize_source`](triage_domain::activity::normalize_source)),
    /// networks ([`network`](triage_domain::activity::network)), APIs
    /// ([`api_name`](triage_domain::activity::api_name)).
    pub fn get(&self, principal: &EntityKey, kind: ObservationKind, value: &str) -> Option<&Stats> {
        self.entries.get(principal)?.get(&kind)?.get(value)
    }

    /// Every value of `kind` seen for `principal`, in value order.
    pub fn values(
        &self,
        principal: &EntityKey,
        kind: ObservationKind,
    ) -> impl Iterator<Item = (&str, &Stats)> {
        self.entries
            .get(principal)
            .and_then(|kinds| kinds.get(&kind))
            .into_iter()
            .flatten()
            .map(|(value, stats)| (value.as_str(), stats))
    }

    pub fn principals(&self) -> impl Iterator<Item = &EntityKey> {
        self.entries.keys()
    }

    pub fn iter(&self) -> impl Iterator<Item = BaselineEntry<'_>> {
        self.entries.iter().flat_map(|(principal, kinds)| {
            kinds.iter().flat_map(move |(kind, values)| {
                values.iter().map(move |(value, stats)| BaselineEntry {
                    principal,
                    kind: *kind,
                    value,
                    stats,
                })
            })
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    #[test]
    fn every_kind_reads_back_from_its_stored_spelling() {
        for kind in ObservationKind::ALL {
            assert_eq!(ObservationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ObservationKind::parse("IP"), None);
    }

    #[test]
    fn lookup_is_per_principal_kind_and_value() {
        let t = "2024-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let alice = EntityKey::arn("arn:aws:iam::1:user/alice");
        let mut baseline = Baseline::default();
        baseline.insert(
            alice.clone(),
            ObservationKind::SourceIp,
            "192.0.2.1".into(),
            Stats::once(t),
        );
        baseline.insert(
            alice.clone(),
            ObservationKind::SourceIp,
            "192.0.2.1".into(),
            Stats::once(t),
        );
        assert_eq!(baseline.len(), 1);
        assert_eq!(
            baseline
                .get(&alice, ObservationKind::SourceIp, "192.0.2.1")
                .unwrap()
                .count,
            2
        );
        assert!(
            baseline
                .get(&alice, ObservationKind::Network, "192.0.2.1")
                .is_none()
        );
        assert!(
            baseline
                .get(&EntityKey::arn("x"), ObservationKind::SourceIp, "192.0.2.1")
                .is_none()
        );
    }
}
