//! One finding through the whole pipeline: dedupe claim -> decide -> classify -> render ->
//! publish -> complete. The Lambda handler and `triage-cli replay` both call [`Triage::handle`],
//! so what is replayed locally is what runs in production.

use crate::classify::{Assessment, classify, classify_with};
use crate::dedupe::{
    ClaimOutcome, Decision, DedupePolicy, DedupeStore, Lease, Notified, Observation, RecordLabels,
    Seen, StoreError, decide,
};
use crate::enrich::{ContextSource, ContextSummary, subjects};
use crate::finding::{FindingEvent, InputError};
use crate::notice::{Notice, NoticeInput, NoticeKind, render};
use crate::publish::{NoticePublisher, PublishError};
use crate::scope::ScopeWindow;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::sync::Arc;

/// Retrying the completion of a published notice: first pause, longest pause, and the time left
/// before the invocation's deadline at which it gives up (the function must still return).
const COMPLETE_FIRST_PAUSE: Duration = Duration::milliseconds(100);
const COMPLETE_MAX_PAUSE: Duration = Duration::seconds(1);
const COMPLETE_MARGIN: Duration = Duration::seconds(2);

/// The knobs of the pipeline, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriageSettings {
    pub policy: DedupePolicy,
    /// How long a finding's record is kept after its last delivery (DynamoDB TTL).
    pub record_ttl: Duration,
    /// How far before the first sighting the scope window starts.
    pub look_back: Duration,
    /// Less CloudTrail history than this before the window, and nothing is called new for the
    /// principal: a week covers the weekly rhythm of people and jobs.
    pub min_history: Duration,
}

impl Default for TriageSettings {
    fn default() -> Self {
        Self {
            policy: DedupePolicy::default(),
            record_ttl: Duration::days(90),
            look_back: Duration::minutes(60),
            min_history: Duration::days(7),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("invalid event: {0}")]
    Input(#[from] InputError),
    #[error("finding is being triaged by another invocation until {until}; retry later")]
    InProgress { until: DateTime<Utc> },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl TriageError {
    /// Whether the same event can succeed later. A non-retryable error means the event itself
    /// is at fault and belongs in the dead-letter queue.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Input(_) => false,
            Self::InProgress { .. } => true,
            Self::Store(e) => e.is_retryable(),
            Self::Publish(e) => e.is_retryable(),
        }
    }

    /// The error type reported to Lambda, visible in logs, metrics and the DLQ message.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Input(_) => "InvalidEvent",
            Self::InProgress { .. } => "Retryable.InProgress",
            Self::Store(e) if e.is_retryable() => "Retryable.DedupeStore",
            Self::Store(_) => "DedupeStore",
            Self::Publish(e) if e.is_retryable() => "Retryable.Publish",
            Self::Publish(_) => "Publish",
        }
    }
}

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Disposition {
    Published {
        message_id: String,
        update: bool,
        sequence: usize,
    },
    /// A genuine repeat with nothing material: counted on the record.
    Suppressed,
    /// The same delivery again (or an older one): nothing to do.
    Duplicate,
    /// Archived findings (suppression rules, or archived by hand) get no notice.
    Archived,
}

impl Disposition {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Published { update: false, .. } => "published: new finding",
            Self::Published { update: true, .. } => "published: material change",
            Self::Suppressed => "not published: repeat with nothing material changed",
            Self::Duplicate => "not published: already triaged (duplicate delivery)",
            Self::Archived => "not published: finding is archived",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub assessment: Assessment,
    pub notice: Option<Notice>,
    pub disposition: Disposition,
}

/// The assessment and the notice a finding would get if it were new, with no I/O.
pub fn preview(
    event: &FindingEvent,
    settings: &TriageSettings,
    now: DateTime<Utc>,
) -> (Assessment, Notice) {
    preview_with(event, settings, now, None)
}

/// [`preview`] with the finding's context, loaded beforehand with [`load_context`].
pub fn preview_with(
    event: &FindingEvent,
    settings: &TriageSettings,
    now: DateTime<Utc>,
    context: Option<&ContextSummary>,
) -> (Assessment, Notice) {
    let assessment = classify_with(&event.finding, context);
    let notice = render(&NoticeInput {
        event,
        assessment: &assessment,
        kind: NoticeKind::New,
        sequence: 1,
        scope: ScopeWindow::for_finding(&event.finding, settings.look_back, now),
        triaged_at: now,
        context,
        possible_repeat: false,
    });
    (assessment, notice)
}

/// Load and summarise a finding's context in its scope window; a failure is logged and
/// triage goes on without it, because a notice without context beats no notice (which then
/// says that the lookup failed).
pub async fn load_context(
    source: &dyn ContextSource,
    event: &FindingEvent,
    window: &ScopeWindow,
    min_history: Duration,
) -> Option<ContextSummary> {
    let subjects = subjects(event);
    if subjects.is_empty() {
        return None;
    }
    match source.load(&subjects, window).await {
        Ok(context) => Some(ContextSummary::of(
            &context,
            &subjects,
            &event.finding,
            window,
            min_history,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "context lookup failed; triaging without it");
            Some(ContextSummary::unavailable(e.to_string()))
        }
    }
}

pub struct Triage<S, P> {
    store: S,
    publisher: P,
    settings: TriageSettings,
    context: Option<Arc<dyn ContextSource>>,
}

impl<S: DedupeStore, P: NoticePublisher> Triage<S, P> {
    pub fn new(store: S, publisher: P, settings: TriageSettings) -> Self {
        Self {
            store,
            publisher,
            settings,
            context: None,
        }
    }

    /// Enrich every finding from `source` (CloudTrail and flow-log context).
    pub fn with_context(mut self, source: impl ContextSource + 'static) -> Self {
        self.context = Some(Arc::new(source));
        self
    }

    async fn context_for(
        &self,
        event: &FindingEvent,
        window: &ScopeWindow,
    ) -> Option<ContextSummary> {
        load_context(
            self.context.as_deref()?,
            event,
            window,
            self.settings.min_history,
        )
        .await
    }

    pub fn settings(&self) -> &TriageSettings {
        &self.settings
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// Triage one delivery. `lease_until` is when this invocation will be gone (the Lambda
    /// deadline): another delivery of the same finding waits for us until then, not longer.
    pub async fn handle(
        &self,
        event: &FindingEvent,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, TriageError> {
        let finding = &event.finding;
        if finding.is_archived() {
            return Ok(Outcome {
                assessment: classify(finding),
                notice: None,
                disposition: Disposition::Archived,
            });
        }
        let scope = ScopeWindow::for_finding(finding, self.settings.look_back, now);
        let lease = Lease {
            token: uuid::Uuid::new_v4().to_string(),
            until: lease_until,
        };
        let labels = RecordLabels {
            finding_type: finding.finding_type.clone(),
            account: event.account().map(str::to_owned),
            region: event.region().map(str::to_owned),
        };
        let expires_at = now + self.settings.record_ttl;
        // The context lookup runs beside the claim: enrichment adds no round trip of latency.
        let (claim, context) = tokio::join!(
            self.store
                .claim(&finding.id, &lease, &labels, now, expires_at),
            self.context_for(event, &scope)
        );
        let assessment = classify_with(finding, context.as_ref());
        let previous = match claim? {
            ClaimOutcome::Claimed { previous } => previous,
            ClaimOutcome::Busy { until } => return Err(TriageError::InProgress { until }),
        };
        let observation = Observation::of(finding);
        // The record keeps the highest count and newest update ever seen, so a late, older
        // delivery cannot move it backwards.
        let seen = Seen {
            count: previous
                .as_ref()
                .map_or(observation.count, |r| r.seen_count.max(observation.count)),
            updated_at: previous
                .as_ref()
                .and_then(|r| r.seen_updated_at)
                .max(observation.updated_at),
        };
        let decision = decide(previous.as_ref(), &observation, now, self.settings.policy);
        let changes = match &decision {
            Decision::New => None,
            Decision::Update(changes) => Some(changes.as_slice()),
            Decision::Suppress | Decision::Duplicate => {
                let repeat = decision == Decision::Suppress;
                self.store
                    .complete_silent(&finding.id, &lease, &seen, repeat)
                    .await?;
                return Ok(Outcome {
                    assessment,
                    notice: None,
                    disposition: if repeat {
                        Disposition::Suppressed
                    } else {
                        Disposition::Duplicate
                    },
                });
            }
        };
        let sequence = previous.as_ref().map_or(0, |r| r.notices_sent()) + 1;
        let notice = render(&NoticeInput {
            event,
            assessment: &assessment,
            kind: changes.map_or(NoticeKind::New, NoticeKind::Update),
            sequence,
            scope,
            triaged_at: now,
            context: context.as_ref(),
            possible_repeat: previous.as_ref().is_some_and(|r| r.interrupted),
        });
        let message_id = match self.publisher.publish(&notice).await {
            Ok(id) => id,
            Err(e) => {
                // Hand the lease back so the retry does not wait for it to expire.
                if let Err(release) = self.store.release(&finding.id, &lease).await {
                    tracing::warn!(error = %release, "could not release the lease after a failed publish");
                }
                return Err(e.into());
            }
        };
        let notified = Notified {
            band: observation.band,
            count: observation.count,
            actors: observation.actors,
            remote_endpoints: observation.remote_endpoints,
            at: now,
        };
        // The notice is out: the record must say so, or a later delivery notifies again. Keep
        // trying while the invocation has time; failing the invocation would make its retry
        // publish again, which is worse than a record that misses this notice.
        let mut pause = COMPLETE_FIRST_PAUSE;
        loop {
            let result = self
                .store
                .complete_notified(&finding.id, &lease, &notified, &seen, &message_id)
                .await;
            match result {
                Ok(()) => break,
                Err(e)
                    if e.is_retryable() && Utc::now() + pause + COMPLETE_MARGIN < lease.until =>
                {
                    tracing::warn!(error = %e, finding_id = %finding.id, "completing the finding record failed; trying again");
                    tokio::time::sleep(pause.to_std().unwrap_or_default()).await;
                    pause = (pause * 2).min(COMPLETE_MAX_PAUSE);
                }
                Err(e) => {
                    tracing::error!(error = %e, finding_id = %finding.id, %message_id,
                        "notice published but the finding record was not completed; a later delivery may notify again");
                    break;
                }
            }
        }
        Ok(Outcome {
            assessment,
            notice: Some(notice),
            disposition: Disposition::Published {
                message_id,
                update: changes.is_some(),
                sequence,
            },
        })
    }
}

/// A delivery as the handler sees it: raw JSON in, outcome (with what it was about) out.
#[derive(Debug, Clone)]
pub struct Triaged {
    pub finding_id: String,
    pub finding_type: String,
    pub outcome: Outcome,
}

impl<S: DedupeStore, P: NoticePublisher> Triage<S, P> {
    /// Parse and triage a raw event: the whole Lambda handler, minus the runtime.
    pub async fn handle_raw(
        &self,
        raw: serde_json::Value,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Triaged, TriageError> {
        let event = crate::finding::parse_event(raw)?;
        let outcome = self.handle(&event, lease_until, now).await?;
        Ok(Triaged {
            finding_id: event.finding.id.to_string(),
            finding_type: event.finding.finding_type,
            outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Signal;
    use crate::dedupe::memory::MemoryStore;
    use crate::dedupe::{ClaimOutcome, FindingRecord, Lease, RecordLabels, Seen, StoreError};
    use crate::finding::{FindingId, parse_event};
    use crate::publish::RecordingPublisher;
    use serde_json::json;

    fn event(id: &str, count: i64, updated: &str) -> FindingEvent {
        parse_event(
            json!({"id": id, "type": "UnauthorizedAccess:EC2/SSHBruteForce",
            "severity": 5, "accountId": "123456789012", "region": "us-east-1",
            "updatedAt": updated,
            "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0abc"}},
            "service": {"count": count, "resourceRole": "TARGET", "action": {
                "networkConnectionAction": {"connectionDirection": "INBOUND",
                    "remoteIpDetails": {"ipAddressV4": "198.51.100.1"}}}}}),
        )
        .unwrap()
    }

    /// A store whose first `failures` completions are throttled.
    struct ThrottledCompletes {
        inner: MemoryStore,
        failures: std::sync::atomic::AtomicUsize,
    }

    #[async_trait::async_trait]
    impl DedupeStore for ThrottledCompletes {
        async fn claim(
            &self,
            id: &FindingId,
            lease: &Lease,
            labels: &RecordLabels,
            now: DateTime<Utc>,
            expires_at: DateTime<Utc>,
        ) -> Result<ClaimOutcome, StoreError> {
            self.inner.claim(id, lease, labels, now, expires_at).await
        }

        async fn complete_notified(
            &self,
            id: &FindingId,
            lease: &Lease,
            notified: &Notified,
            seen: &Seen,
            message_id: &str,
        ) -> Result<(), StoreError> {
            let left = self.failures.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                self.failures
                    .store(left - 1, std::sync::atomic::Ordering::SeqCst);
                return Err(StoreError::Throttled("test".into()));
            }
            self.inner
                .complete_notified(id, lease, notified, seen, message_id)
                .await
        }

        async fn complete_silent(
            &self,
            id: &FindingId,
            lease: &Lease,
            seen: &Seen,
            repeat: bool,
        ) -> Result<(), StoreError> {
            self.inner.complete_silent(id, lease, seen, repeat).await
        }

        async fn release(&self, id: &FindingId, lease: &Lease) -> Result<(), StoreError> {
            self.inner.release(id, lease).await
        }

        async fn get(&self, id: &FindingId) -> Result<Option<FindingRecord>, StoreError> {
            self.inner.get(id).await
        }
    }

    #[tokio::test]
    async fn a_throttled_completion_is_retried_while_the_invocation_has_time() {
        let pipeline = Triage::new(
            ThrottledCompletes {
                inner: MemoryStore::new(),
                failures: 4.into(),
            },
            RecordingPublisher::default(),
            TriageSettings::default(),
        );
        let e = event("throttled", 1, "2026-01-01T00:00:00Z");
        let now = Utc::now();
        let first = pipeline.handle(&e, later(now), now).await.unwrap();
        assert!(matches!(first.disposition, Disposition::Published { .. }));
        let again = pipeline.handle(&e, later(now), Utc::now()).await.unwrap();
        assert_eq!(
            again.disposition,
            Disposition::Duplicate,
            "the record was completed"
        );
    }

    fn triage() -> Triage<MemoryStore, RecordingPublisher> {
        Triage::new(
            MemoryStore::new(),
            RecordingPublisher::default(),
            TriageSettings::default(),
        )
    }

    fn later(now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::seconds(30)
    }

    /// A context table that is down: throttled on every query.
    struct Unreachable;

    #[async_trait::async_trait]
    impl ContextSource for Unreachable {
        async fn load(
            &self,
            _: &crate::enrich::Subjects,
            _: &ScopeWindow,
        ) -> Result<crate::enrich::Context, StoreError> {
            Err(StoreError::Throttled("context queries throttled".into()))
        }
    }

    #[tokio::test]
    async fn a_context_failure_costs_the_context_not_the_notice() {
        let t = triage().with_context(Unreachable);
        let now = Utc::now();
        let out = t
            .handle(&event("f0", 1, "2026-03-02T01:00:00Z"), later(now), now)
            .await
            .unwrap();
        assert!(matches!(out.disposition, Disposition::Published { .. }));
        let body = &t.publisher().notices()[0].body;
        assert!(
            body.contains("Context used: none, the lookup failed (triage table throttled the request: context queries throttled)"),
            "{body}"
        );
        assert!(
            out.assessment
                .evidence
                .iter()
                .all(|e| e.signal != Signal::UsualBehaviour),
            "a failed lookup is no evidence"
        );
    }

    #[tokio::test]
    async fn a_new_finding_is_published_once_and_its_repeats_are_counted() {
        let t = triage();
        let now = Utc::now();
        let first = event("f1", 1, "2026-03-02T01:00:00Z");
        let out = t.handle(&first, later(now), now).await.unwrap();
        assert!(matches!(
            out.disposition,
            Disposition::Published {
                update: false,
                sequence: 1,
                ..
            }
        ));
        let again = t.handle(&first, later(now), now).await.unwrap();
        assert_eq!(again.disposition, Disposition::Duplicate);
        let repeat = event("f1", 3, "2026-03-02T01:15:00Z");
        let out = t.handle(&repeat, later(now), now).await.unwrap();
        assert_eq!(out.disposition, Disposition::Suppressed);

        assert_eq!(t.publisher().notices().len(), 1);
        let record = t.store().get(&first.finding.id).await.unwrap().unwrap();
        assert_eq!(record.suppressed_updates, 1);
        assert_eq!(record.seen_count, 3);
        assert_eq!(record.message_ids, ["memory-1"]);
    }

    #[tokio::test]
    async fn a_material_change_sends_an_update_marked_as_such() {
        let t = triage();
        let now = Utc::now();
        t.handle(&event("f2", 1, "2026-03-02T01:00:00Z"), later(now), now)
            .await
            .unwrap();
        let out = t
            .handle(&event("f2", 10, "2026-03-02T02:00:00Z"), later(now), now)
            .await
            .unwrap();
        assert!(matches!(
            out.disposition,
            Disposition::Published {
                update: true,
                sequence: 2,
                ..
            }
        ));
        let notice = out.notice.unwrap();
        assert!(notice.subject.starts_with("[UPDATE "), "{}", notice.subject);
        assert!(notice.body.contains("What changed since the last notice"));
        let record = t
            .store()
            .get(&event("f2", 1, "").finding.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.message_ids.len(), 2);
    }

    #[tokio::test]
    async fn a_live_lease_is_reported_as_retryable_and_an_expired_one_is_taken_over() {
        let t = triage();
        let now = Utc::now();
        let e = event("f3", 1, "2026-03-02T01:00:00Z");
        // Simulate an invocation that claimed and then crashed before publishing.
        let lease = Lease {
            token: "crashed".into(),
            until: later(now),
        };
        t.store()
            .claim(
                &e.finding.id,
                &lease,
                &RecordLabels::default(),
                now,
                later(now),
            )
            .await
            .unwrap();
        let busy = t.handle(&e, later(now), now).await.unwrap_err();
        assert!(matches!(busy, TriageError::InProgress { .. }));
        assert!(busy.is_retryable());
        let after_expiry = later(now) + Duration::seconds(1);
        let out = t
            .handle(&e, later(after_expiry), after_expiry)
            .await
            .unwrap();
        assert!(matches!(out.disposition, Disposition::Published { .. }));
    }

    #[tokio::test]
    async fn a_failed_publish_releases_the_lease_so_the_retry_publishes() {
        let t = triage();
        let now = Utc::now();
        let e = event("f4", 1, "2026-03-02T01:00:00Z");
        *t.publisher().fail_with.lock().unwrap() =
            Some(PublishError::Throttled("slow down".into()));
        let err = t.handle(&e, later(now), now).await.unwrap_err();
        assert_eq!(err.error_type(), "Retryable.Publish");
        *t.publisher().fail_with.lock().unwrap() = None;
        let out = t.handle(&e, later(now), now).await.unwrap();
        assert!(matches!(out.disposition, Disposition::Published { .. }));
        assert_eq!(t.publisher().notices().len(), 1);
    }

    #[tokio::test]
    async fn archived_findings_and_bad_events_publish_nothing() {
        let t = triage();
        let now = Utc::now();
        let mut archived = event("f5", 1, "2026-03-02T01:00:00Z");
        archived.finding.service.as_mut().unwrap().archived = true;
        let out = t.handle(&archived, later(now), now).await.unwrap();
        assert_eq!(out.disposition, Disposition::Archived);
        let bad = t
            .handle_raw(json!({"source": "aws.ec2"}), later(now), now)
            .await
            .unwrap_err();
        assert!(!bad.is_retryable());
        assert_eq!(bad.error_type(), "InvalidEvent");
        assert!(t.publisher().notices().is_empty());
    }
}
