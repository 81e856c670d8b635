//! Aggregation: what triage needs from many records, in a size that grows with distinct
//! activity, not with records.
//!
//! Each usable record is counted, per UTC-aligned time bucket (1 hour by default), under every
//! subject it can be looked up by (each principal key and the source IP, see
//! [`super::principal`]) and per call: (eventSource, eventName, outcome = success or the error
//! code, source IP, user agent, region). An IP subject's aggregate also names the caller (its
//! primary key: the role rather than the session), so "who used this IP" needs no join. Next to
//! the counts: notable events in detail ([`super::notable`]), credential issues
//! ([`super::credentials`]), per-principal baselines ([`super::baseline`]) and a summary.
//!
//! The aggregator is pure and incremental: feed it records from one object or many, then
//! [`Aggregator::finish`].

use super::baseline::Baseline;
use super::credentials::{CredentialIssue, credential_issue};
use super::input::{InputError, ReadOptions, Shape, Skips, for_each_record};
use super::intern::{IdMap, Interner, push_field};
use super::stats::Stats;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use triage_domain::activity as net;
use triage_domain::activity::{self as limits, NAME_MAX, USER_AGENT_MAX};
use triage_domain::activity::{
    EntityKey, EntityKind, KeyRef, PrincipalType, issuer_arn, principal_keys,
};
use triage_domain::activity::{NotableEvent, notable_reasons};
use triage_domain::activity::{ObservationKind, api_name};
use triage_domain::activity::{Record, SkipReason};

/// How records are aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Width of a time bucket; buckets start at multiples of it since the Unix epoch (UTC), so
    /// hourly buckets start on the hour. Less than a second counts as one second.
    pub bucket: TimeDelta,
    /// Most live aggregates (activity counts, assumed-by counts, notable events, credential
    /// issues) held before [`Aggregator::flush_if_full`] hands some over to be written: what
    /// bounds the memory of a streaming read, whatever the object's size. Interned keys may
    /// reach twice as many before everything is flushed. See [`DEFAULT_MAX_LIVE_AGGREGATES`].
    pub max_live_aggregates: usize,
}

/// The default bound on live aggregates: a few tens of MB at most (an activity count is about a
/// hundred bytes with its share of interned keys, a notable event a few hundred), and more than
/// a typical CloudTrail file (a few thousand records) ever reaches, so ordinary files are
/// written in one part, as before the bound existed.
pub const DEFAULT_MAX_LIVE_AGGREGATES: usize = 100_000;

impl Default for Settings {
    fn default() -> Self {
        Self {
            bucket: TimeDelta::hours(1),
            max_live_aggregates: DEFAULT_MAX_LIVE_AGGREGATES,
        }
    }
}

impl Settings {
    fn bucket_seconds(&self) -> i64 {
        self.bucket.num_seconds().max(1)
    }
}

/// The start of the bucket `time` falls in.
pub fn bucket_start(time: DateTime<Utc>, settings: &Settings) -> DateTime<Utc> {
    let width = settings.bucket_seconds();
    let seconds = time.timestamp();
    DateTime::from_timestamp(seconds - seconds.rem_euclid(width), 0).unwrap_or(time)
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Outcome {
    Success,
    /// The error code (`AccessDenied`, `Client.UnauthorizedOperation`; `Failure` for a failed
    /// console sign-in).
    Failure(String),
}

impl Outcome {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Success => "success",
            Self::Failure(code) => code,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was called, how it ended, and from where: the dimensions of an activity aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallKey {
    pub event_source: Option<String>,
    pub event_name: String,
    pub outcome: Outcome,
    /// Canonical address, or the AWS service name CloudTrail put there.
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub region: Option<String>,
}

/// One activity aggregate: a subject's calls of one kind in one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub subject: EntityKey,
    pub bucket_start: DateTime<Utc>,
    pub call: CallKey,
    /// For a source-IP subject: who called (primary key). `None` for principal subjects.
    pub caller: Option<EntityKey>,
    pub stats: Stats,
}

/// What is known of a principal key as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalInfo {
    /// For a role behind sessions, the issuer's type (`Role`); otherwise the caller's type.
    pub principal_type: PrincipalType,
    pub account_id: Option<String>,
    pub stats: Stats,
}

/// Counts for one aggregation run (typically one object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records seen: aggregated + unattributed + skipped.
    pub records_read: u64,
    /// Usable records filed under at least one principal or source IP.
    pub records_aggregated: u64,
    /// Usable records with neither (Insights events, some service events); they can still be
    /// notable.
    pub records_unattributed: u64,
    pub skipped: Skips,
    pub activity_aggregates: usize,
    pub notable_events: usize,
    pub baseline_entries: usize,
    pub credential_issues: usize,
    pub principals: usize,
}

impl Summary {
    /// Add another part's counts (the parts of one object, or several objects).
    pub fn absorb(&mut self, other: &Summary) {
        self.records_read += other.records_read;
        self.records_aggregated += other.records_aggregated;
        self.records_unattributed += other.records_unattributed;
        self.skipped.merge(&other.skipped);
        self.activity_aggregates += other.activity_aggregates;
        self.notable_events += other.notable_events;
        self.baseline_entries += other.baseline_entries;
        self.credential_issues += other.credential_issues;
        self.principals += other.principals;
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records read, {} aggregated, {} unattributed, {} skipped",
            self.records_read,
            self.records_aggregated,
            self.records_unattributed,
            self.skipped.total()
        )?;
        if self.skipped.total() > 0 {
            write!(f, " ({})", self.skipped)?;
        }
        write!(
            f,
            "; {} activity aggregates, {} notable events, {} baseline entries, {} credential issues, {} principals",
            self.activity_aggregates,
            self.notable_events,
            self.baseline_entries,
            self.credential_issues,
            self.principals
        )
    }
}

/// The result of aggregation. Activity is sorted by subject, bucket and call.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    pub activity: Vec<Activity>,
    pub baseline: Baseline,
    pub notable: Vec<NotableEvent>,
    pub credentials: Vec<CredentialIssue>,
    pub principals: BTreeMap<EntityKey, PrincipalInfo>,
    pub summary: Summary,
}

/// One object read and aggregated.
#[derive(Debug, Clone)]
pub struct ObjectReport {
    pub shape: Shape,
    pub aggregates: Aggregates,
}

impl ObjectReport {
    pub fn summary(&self) -> &Summary {
        &self.aggregates.summary
    }
}

/// Read one object and aggregate it on its own: all or nothing, so an object that fails is
/// retried or dead-lettered whole and never half-counted. The object is already in memory, so
/// everything is held until the end and `max_live_aggregates` does not apply; streaming readers
/// use [`super::aggregate_stream`].
pub fn aggregate_object(
    bytes: &[u8],
    options: &ReadOptions,
    settings: &Settings,
) -> Result<ObjectReport, InputError> {
    let mut aggregator = Aggregator::new(*settings);
    let shape = for_each_record(bytes, options, |record| aggregator.push(record))?;
    Ok(ObjectReport {
        shape,
        aggregates: aggregator.finish(),
    })
}

/// Sentinel for "no caller" in the interned activity key.
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ActivitySlot {
    subject: u32,
    bucket: i64,
    call: u32,
    caller: u32,
}

/// Incremental aggregation of records.
///
/// Per record it only updates the activity counts (one per subject) and the principals seen;
/// baselines are derived from the activity when finishing, since every baseline dimension
/// (source, user agent, region, API) is part of the call key: the same first / last / count,
/// for a fraction of the work per record.
#[derive(Debug)]
pub struct Aggregator {
    settings: Settings,
    subjects: Interner<EntityKey>,
    calls: Interner<CallKey>,
    values: Interner<Box<str>>,
    activity: IdMap<ActivitySlot, Stats>,
    /// (role subject, value id of who assumed it).
    assumed_by: IdMap<(u32, u32), Stats>,
    principals: IdMap<u32, PrincipalInfo>,
    notable: Vec<NotableEvent>,
    credentials: Vec<CredentialIssue>,
    aggregated: u64,
    unattributed: u64,
    skipped: Skips,
    /// The latest bucket a record fell in: buckets before it are the ones the stream has left
    /// behind, flushed first.
    high_water: i64,
    buf: String,
}

impl Default for Aggregator {
    fn default() -> Self {
        Self::new(Settings::default())
    }
}

impl Aggregator {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            subjects: Interner::default(),
            calls: Interner::default(),
            values: Interner::default(),
            activity: IdMap::default(),
            assumed_by: IdMap::default(),
            principals: IdMap::default(),
            notable: Vec::new(),
            credentials: Vec::new(),
            aggregated: 0,
            unattributed: 0,
            skipped: Skips::default(),
            high_water: i64::MIN,
            buf: String::new(),
        }
    }

    /// A record or the reason it was skipped, as [`for_each_record`] hands them over.
    pub fn push(&mut self, record: Result<Record, SkipReason>) {
        match record {
            Ok(record) => self.add(&record),
            Err(reason) => self.skip(reason),
        }
    }

    pub fn skip(&mut self, reason: SkipReason) {
        self.skipped.add(reason);
    }

    pub fn add(&mut self, record: &Record) {
        let time = record.time();
        let bucket = bucket_start(time, &self.settings).timestamp();
        self.high_water = self.high_water.max(bucket);
        let raw = record.raw();
        let identity = record.user_identity();

        let source = raw
            .source_ip_address
            .as_deref()
            .map(|s| net::normalize_source(limits::bounded(s, NAME_MAX)));
        let is_ip = source.as_deref().and_then(net::parse_ip).is_some();
        let user_agent = raw
            .user_agent
            .as_deref()
            .map(|s| limits::bounded(s, USER_AGENT_MAX));
        let region = raw
            .aws_region
            .as_deref()
            .map(|s| limits::bounded(s, NAME_MAX));
        let event_source = record.event_source().map(|s| limits::bounded(s, NAME_MAX));
        let event_name = limits::bounded(record.event_name(), NAME_MAX);
        let code = record.error_code().map(|s| limits::bounded(s, NAME_MAX));

        let buf = &mut self.buf;
        buf.clear();
        for field in [
            event_source,
            Some(event_name),
            code,
            source.as_deref(),
            user_agent,
            region,
        ] {
            push_field(buf, field);
        }
        let call = self.calls.id(buf, || CallKey {
            event_source: event_source.map(str::to_owned),
            event_name: event_name.to_owned(),
            outcome: code.map_or(Outcome::Success, |c| Outcome::Failure(c.to_owned())),
            source_ip: source.as_deref().map(str::to_owned),
            user_agent: user_agent.map(str::to_owned),
            region: region.map(str::to_owned),
        });

        let keys = principal_keys(identity);
        let issuer = identity.and_then(issuer_arn);
        // The caller named on the IP's aggregate: the issuer role if any, else the first key
        // (the rule of `principal::primary_key`, without building the keys twice).
        let mut caller = NONE;
        for key in &keys {
            let subject = self.subject(key);
            let is_issuer =
                key.kind == EntityKind::Arn && Some(key.id.as_ref()) == issuer.as_deref();
            if caller == NONE || is_issuer {
                caller = subject;
            }
            bump(
                &mut self.activity,
                ActivitySlot {
                    subject,
                    bucket,
                    call,
                    caller: NONE,
                },
                time,
            );
            match self.principals.get_mut(&subject) {
                Some(info) => info.stats.observe(time),
                None => {
                    let info = PrincipalInfo {
                        principal_type: if is_issuer {
                            issuer_type(record)
                        } else {
                            record.principal_type()
                        },
                        account_id: account_of(record, is_issuer),
                        stats: Stats::once(time),
                    };
                    self.principals.insert(subject, info);
                }
            }
        }
        if let (Some(source), true) = (source.as_deref(), is_ip) {
            let key = KeyRef {
                kind: EntityKind::SourceIp,
                id: Cow::Borrowed(source),
            };
            let subject = self.subject(&key);
            bump(
                &mut self.activity,
                ActivitySlot {
                    subject,
                    bucket,
                    call,
                    caller,
                },
                time,
            );
        }
        if keys.is_empty() && !is_ip {
            self.unattributed += 1;
        } else {
            self.aggregated += 1;
        }

        let reasons = notable_reasons(record);
        if !reasons.is_empty() {
            self.notable.push(NotableEvent::new(record, reasons));
        }
        if let Some(issue) = credential_issue(record) {
            if let (Some(role), Some(to)) = (issue.role_arn.as_deref(), issue.issued_to.as_ref()) {
                let role = KeyRef {
                    kind: EntityKind::Arn,
                    id: Cow::Borrowed(role),
                };
                let subject = self.subject(&role);
                let to = to.to_string();
                let value = self.values.id(&to, || to.as_str().into());
                bump(&mut self.assumed_by, (subject, value), time);
            }
            self.credentials.push(issue);
        }
    }

    fn subject(&mut self, key: &KeyRef<'_>) -> u32 {
        key.encode_into(&mut self.buf);
        self.subjects.id(&self.buf, || key.to_owned_key())
    }

    /// Everything aggregated (after the last flush, if any), with the record counts of the
    /// whole run.
    pub fn finish(mut self) -> Aggregates {
        let mut aggregates = self.take_all();
        aggregates.summary.records_aggregated = self.aggregated;
        aggregates.summary.records_unattributed = self.unattributed;
        aggregates.summary.records_read =
            self.aggregated + self.unattributed + self.skipped.total();
        aggregates.summary.skipped = self.skipped;
        aggregates
    }

    /// Live aggregates, as [`Settings::max_live_aggregates`] counts them.
    pub fn live(&self) -> usize {
        self.activity.len() + self.assumed_by.len() + self.notable.len() + self.credentials.len()
    }

    fn interned(&self) -> usize {
        self.subjects.len() + self.calls.len() + self.values.len()
    }

    /// When the live state is over the bound, a part to write now (its summary counts its
    /// aggregates, not records: [`Aggregator::finish`] has those). The buckets the stream has
    /// left behind go first (CloudTrail files are roughly time-ordered, so the bucket being
    /// filled keeps counting in one row); when they would free less than a quarter of the
    /// bound, or the interned keys are over twice the bound, everything goes. A record late for
    /// a flushed bucket starts a new row for it: readers sum the rows of a bucket.
    pub fn flush_if_full(&mut self) -> Option<Aggregates> {
        let max = self.settings.max_live_aggregates;
        let interned_over = self.interned() > max.saturating_mul(2);
        if self.live() <= max && !interned_over {
            return None;
        }
        let cutoff = self.high_water;
        let behind = self.activity.keys().filter(|s| s.bucket < cutoff).count()
            + self.assumed_by.len()
            + self
                .notable
                .iter()
                .filter(|n| n.time.timestamp() < cutoff)
                .count()
            + self
                .credentials
                .iter()
                .filter(|c| c.time.timestamp() < cutoff)
                .count();
        Some(if interned_over || self.live() - behind > max - max / 4 {
            self.take_all()
        } else {
            self.take_before(cutoff)
        })
    }

    /// Everything held, leaving a fresh aggregator (interned keys too) with the run's counts.
    fn take_all(&mut self) -> Aggregates {
        let fresh = Self {
            aggregated: self.aggregated,
            unattributed: self.unattributed,
            skipped: std::mem::take(&mut self.skipped),
            high_water: self.high_water,
            ..Self::new(self.settings)
        };
        let mut old = std::mem::replace(self, fresh);
        let activity = std::mem::take(&mut old.activity);
        let principals = std::mem::take(&mut old.principals);
        let notable = std::mem::take(&mut old.notable);
        let credentials = std::mem::take(&mut old.credentials);
        old.part(activity, principals, notable, credentials)
    }

    /// The aggregates of buckets before `cutoff` (every assumed-by count: they have no bucket);
    /// principals and interned keys stay.
    fn take_before(&mut self, cutoff: i64) -> Aggregates {
        let mut activity = IdMap::default();
        self.activity.retain(|slot, stats| {
            let keep = slot.bucket >= cutoff;
            if !keep {
                activity.insert(*slot, *stats);
            }
            keep
        });
        let (notable, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.notable)
            .into_iter()
            .partition(|n| n.time.timestamp() < cutoff);
        self.notable = kept;
        let (credentials, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.credentials)
            .into_iter()
            .partition(|c| c.time.timestamp() < cutoff);
        self.credentials = kept;
        self.part(activity, IdMap::default(), notable, credentials)
    }

    /// Aggregates of the given state, decoded through the interners; takes the assumed-by
    /// counts.
    fn part(
        &mut self,
        activity: IdMap<ActivitySlot, Stats>,
        principals: IdMap<u32, PrincipalInfo>,
        mut notable: Vec<NotableEvent>,
        mut credentials: Vec<CredentialIssue>,
    ) -> Aggregates {
        let assumed_by = std::mem::take(&mut self.assumed_by);
        let baseline = self.baseline(&activity, &assumed_by);
        let subject = |id: u32| self.subjects.get(id).cloned();
        let mut activity: Vec<Activity> = activity
            .iter()
            .filter_map(|(slot, stats)| {
                Some(Activity {
                    subject: subject(slot.subject)?,
                    bucket_start: DateTime::from_timestamp(slot.bucket, 0)?,
                    call: self.calls.get(slot.call)?.clone(),
                    caller: subject(slot.caller),
                    stats: *stats,
                })
            })
            .collect();
        activity.sort_by(|a, b| {
            (&a.subject, a.bucket_start, &a.call, &a.caller).cmp(&(
                &b.subject,
                b.bucket_start,
                &b.call,
                &b.caller,
            ))
        });
        let principals: BTreeMap<EntityKey, PrincipalInfo> = principals
            .into_iter()
            .filter_map(|(id, info)| Some((subject(id)?, info)))
            .collect();
        notable.sort_by_key(|n| n.time);
        credentials.sort_by_key(|c| c.time);
        let summary = Summary {
            activity_aggregates: activity.len(),
            notable_events: notable.len(),
            baseline_entries: baseline.len(),
            credential_issues: credentials.len(),
            principals: principals.len(),
            ..Summary::default()
        };
        Aggregates {
            activity,
            baseline,
            notable,
            credentials,
            principals,
            summary,
        }
    }

    /// Baselines from the principal subjects' activity: per call, its source, network, user
    /// agent, region and API, merged over buckets and calls.
    fn baseline(
        &mut self,
        activity: &IdMap<ActivitySlot, Stats>,
        assumed_by: &IdMap<(u32, u32), Stats>,
    ) -> Baseline {
        let mut per_call: IdMap<u32, [Option<(ObservationKind, u32)>; 5]> = IdMap::default();
        let mut observed: IdMap<(u32, ObservationKind, u32), Stats> = IdMap::default();
        for (slot, stats) in activity {
            let is_principal = self
                .subjects
                .get(slot.subject)
                .is_some_and(EntityKey::is_principal);
            let Some(call) = self.calls.get(slot.call).filter(|_| is_principal) else {
                continue;
            };
            let values = &mut self.values;
            let observations = per_call
                .entry(slot.call)
                .or_insert_with(|| observations(call, values));
            for &(kind, value) in observations.iter().flatten() {
                merge(&mut observed, (slot.subject, kind, value), stats);
            }
        }
        for (&(subject, value), stats) in assumed_by {
            merge(
                &mut observed,
                (subject, ObservationKind::AssumedBy, value),
                stats,
            );
        }
        let mut baseline = Baseline::default();
        for ((subject, kind, value), stats) in observed {
            if let (Some(principal), Some(value)) =
                (self.subjects.get(subject), self.values.get(value))
            {
                baseline.insert(principal.clone(), kind, value.to_string(), stats);
            }
        }
        baseline
    }
}

/// The baseline observations of a call, as interned values.
fn observations(
    call: &CallKey,
    values: &mut Interner<Box<str>>,
) -> [Option<(ObservationKind, u32)>; 5] {
    let mut value = |v: &str| values.id(v, || v.into());
    let source = call.source_ip.as_deref();
    let network = source.and_then(net::parse_ip).map(net::network);
    [
        source.map(|s| (ObservationKind::SourceIp, value(s))),
        network.map(|n| (ObservationKind::Network, value(&n))),
        call.user_agent
            .as_deref()
            .map(|a| (ObservationKind::UserAgent, value(a))),
        call.region
            .as_deref()
            .map(|r| (ObservationKind::Region, value(r))),
        Some((
            ObservationKind::Api,
            value(&api_name(call.event_source.as_deref(), &call.event_name)),
        )),
    ]
}

fn merge<K: std::hash::Hash + Eq>(map: &mut IdMap<K, Stats>, key: K, stats: &Stats) {
    map.entry(key)
        .and_modify(|s| s.merge(stats))
        .or_insert(*stats);
}

fn bump<K: std::hash::Hash + Eq>(map: &mut IdMap<K, Stats>, key: K, time: DateTime<Utc>) {
    map.entry(key)
        .and_modify(|s| s.observe(time))
        .or_insert_with(|| Stats::once(time));
}

fn issuer_type(record: &Record) -> PrincipalType {
    let issuer = record.user_identity().and_then(|i| {
        i.session_context
            .as_ref()?
            .session_issuer
            .as_ref()?
            .issuer_type
            .clone()
    });
    issuer.map_or(PrincipalType::Other("Role".into()), PrincipalType::from)
}

fn account_of(record: &Record, issuer: bool) -> Option<String> {
    let identity = record.user_identity()?;
    let account = if issuer {
        identity
            .session_context
            .as_ref()?
            .session_issuer
            .as_ref()?
            .account_id
            .as_deref()
    } else {
        None
    };
    account
        .or(identity.account_id.as_deref())
        .map(|a| limits::bounded(a, NAME_MAX).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_utc_aligned_and_never_narrower_than_a_second() {
        let t = "2024-07-30T21:31:15.250Z".parse::<DateTime<Utc>>().unwrap();
        let at = |bucket: TimeDelta| {
            let settings = Settings {
                bucket,
                ..Settings::default()
            };
            bucket_start(t, &settings).to_rfc3339()
        };
        assert_eq!(at(TimeDelta::hours(1)), "2024-07-30T21:00:00+00:00");
        assert_eq!(at(TimeDelta::minutes(5)), "2024-07-30T21:30:00+00:00");
        assert_eq!(at(TimeDelta::days(1)), "2024-07-30T00:00:00+00:00");
        assert_eq!(at(TimeDelta::zero()), "2024-07-30T21:31:15+00:00");
        assert_eq!(at(TimeDelta::hours(-1)), "2024-07-30T21:31:15+00:00");
    }
}
