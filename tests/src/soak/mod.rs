//! The soak: thousands of findings through the real triage path, against the local stack, through
//! a fault-injecting proxy, then a check that every notice arrived exactly once.
//!
//! Deliveries are what EventBridge and Lambda produce: every finding once, some again (duplicate
//! deliveries race the first), and later a material update of some (the count ten times higher,
//! as GuardDuty re-emits a finding whose activity grew), each delivery retried like an
//! asynchronous Lambda invocation (two retries, with back-off) when it fails. Then the notice
//! queue is drained directly from the server (not through the proxy) and compared with what
//! must have been sent.

pub mod proxy;
mod workload;

use crate::{LocalStack, Pipeline, take_batch};
use chrono::{Duration as Span, Utc};
use proxy::{Fault, FaultPlan, FaultProxy};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use triage_aws::{DynamoDedupeStore, SnsPublisher, sdk_config};
use triage_domain::pipeline::{Triage, TriageSettings};
pub use workload::{Delivery, Workload};

/// Lambda retries a failed asynchronous invocation twice.
const ATTEMPTS: usize = 3;
/// How long an invocation may run: its lease ends then, and it is stopped then, as Lambda stops
/// a function at its timeout. Shorter than the template's 30 s, to keep the soak short.
const INVOCATION: Duration = Duration::from_secs(10);
/// Lambda waits about a minute, then two, before retrying: always longer than the function's
/// timeout, so a lease left by a stopped attempt has expired when the retry comes. Scaled down
/// with the invocation, in the same order.
const BACKOFF: [Duration; 2] = [Duration::from_secs(12), Duration::from_secs(24)];

#[derive(Debug, Clone, Copy)]
pub struct SoakSettings {
    pub findings: usize,
    pub duplicates: f64,
    pub updates: f64,
    pub concurrency: usize,
    pub seed: u64,
    pub plan: FaultPlan,
}

/// What one run saw.
#[derive(Debug, Default)]
pub struct SoakReport {
    pub findings: usize,
    pub deliveries: usize,
    pub attempts: usize,
    /// Failed attempts by the function's error type (each retried, while attempts remain).
    pub errors: BTreeMap<String, usize>,
    /// Deliveries that failed every attempt: they would be in the dead-letter queue.
    pub failed_inputs: usize,
    /// Failed attempts whose error type says "do not retry": none is expected, the workload has
    /// no malformed event, so each would be a fault misread as a rejection.
    pub non_retryable: usize,
    /// `Retryable.InProgress` while no other delivery of the finding was in flight: the lease in
    /// the way was this delivery's own (a claim whose response was lost, not recognised).
    pub in_progress_alone: usize,
    pub expected_notices: usize,
    pub received_notices: usize,
    /// Expected notices that never arrived.
    pub missing: usize,
    /// Copies beyond the first of a notice (same finding, same sequence).
    pub doubled: usize,
    /// Notices nobody expected (a finding or sequence not in the plan).
    pub unexpected: usize,
    /// Publish requests whose response the proxy dropped after SNS accepted them: each may
    /// double one notice, since SNS standard topics have no idempotency.
    pub lost_publish_responses: u64,
    /// Finding records still holding a lease after every delivery finished.
    pub leases_held: usize,
    pub faults: BTreeMap<(String, Fault), u64>,
    pub elapsed: Duration,
}

impl SoakReport {
    /// The contract: nothing lost, no lease left, no input given up on, and a notice doubled
    /// only where a Publish response was lost.
    pub fn violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.missing > 0 {
            out.push(format!("{} expected notices never arrived", self.missing));
        }
        if self.unexpected > 0 {
            out.push(format!("{} notices nobody expected", self.unexpected));
        }
        if self.failed_inputs > 0 {
            out.push(format!(
                "{} deliveries failed every attempt (dead-letter queue)",
                self.failed_inputs
            ));
        }
        if self.non_retryable > 0 {
            out.push(format!(
                "{} attempts failed with a non-retryable error",
                self.non_retryable
            ));
        }
        if self.in_progress_alone > 0 {
            out.push(format!(
                "{} InProgress with no other delivery of the finding in flight",
                self.in_progress_alone
            ));
        }
        if self.leases_held > 0 {
            out.push(format!(
                "{} finding records still hold a lease",
                self.leases_held
            ));
        }
        if self.doubled as u64 > self.lost_publish_responses {
            out.push(format!(
                "{} doubled notices but only {} lost Publish responses",
                self.doubled, self.lost_publish_responses
            ));
        }
        out
    }
}

/// Run the soak against the local stack `stack` (its own topic and queue).
pub async fn run(stack: &LocalStack, settings: SoakSettings) -> anyhow::Result<SoakReport> {
    let upstream = std::env::var("AWS_ENDPOINT_URL")?;
    let proxy = FaultProxy::start(&upstream, settings.plan, settings.seed).await?;
    let pipeline = Arc::new(pipeline_through(stack, &proxy.url).await);
    let workload = Workload::build(&settings)?;
    let started = Instant::now();
    let mut report = SoakReport {
        findings: workload.findings,
        ..SoakReport::default()
    };
    // The queue is drained while deliveries run: a local server slows down as a queue grows.
    let drainer = Drainer::start(stack);
    // Updates come after the first sightings, as GuardDuty emits them minutes later.
    for phase in [&workload.first, &workload.updates] {
        deliver_all(&pipeline, phase, settings.concurrency, &mut report).await;
    }
    report.elapsed = started.elapsed();
    let notices = drainer.finish().await?;
    check_notices(&notices, &workload, &mut report);
    report.leases_held = leases_held(stack, &workload).await?;
    report.lost_publish_responses = proxy.stats.get("sns:Publish", Fault::LostResponse);
    report.faults = proxy.stats.snapshot();
    Ok(report)
}

/// The production pipeline (DynamoDB dedupe store, SNS publisher, production SDK settings)
/// with every request going through the proxy.
async fn pipeline_through(stack: &LocalStack, proxy_url: &str) -> Pipeline {
    // Set on each client: the service configuration reads `AWS_ENDPOINT_URL` itself, over an
    // endpoint set on the shared configuration.
    let sdk = sdk_config(Duration::from_secs(5)).await;
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(proxy_url)
        .build();
    let sns = aws_sdk_sns::config::Builder::from(&sdk)
        .endpoint_url(proxy_url)
        .build();
    Triage::new(
        DynamoDedupeStore::new(aws_sdk_dynamodb::Client::from_conf(dynamodb), &stack.table),
        SnsPublisher::new(aws_sdk_sns::Client::from_conf(sns), &stack.topic_arn),
        TriageSettings::default(),
    )
}

/// Deliveries of each finding in flight, to tell an `InProgress` caused by a concurrent
/// delivery (the protocol working) from one caused by the delivery's own lease.
type InFlight = Arc<std::sync::Mutex<HashMap<String, usize>>>;

/// What one delivery went through.
struct Attempts {
    made: usize,
    errors: Vec<String>,
    in_progress_alone: usize,
    succeeded: bool,
}

async fn deliver_all(
    pipeline: &Arc<Pipeline>,
    deliveries: &[Delivery],
    concurrency: usize,
    report: &mut SoakReport,
) {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let in_flight: InFlight = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    for delivery in deliveries {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let pipeline = pipeline.clone();
        let delivery = delivery.clone();
        let in_flight = in_flight.clone();
        tasks.spawn(async move {
            *lock(&in_flight)
                .entry(delivery.finding_id.clone())
                .or_default() += 1;
            let outcome = invoke_with_retries(&pipeline, &delivery, &in_flight).await;
            if let Some(n) = lock(&in_flight).get_mut(&delivery.finding_id) {
                *n -= 1;
            }
            drop(permit);
            outcome
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let Ok(attempts) = joined else {
            report.failed_inputs += 1;
            continue;
        };
        report.deliveries += 1;
        report.attempts += attempts.made;
        report.in_progress_alone += attempts.in_progress_alone;
        for e in attempts.errors {
            if !e.starts_with("Retryable.") {
                report.non_retryable += 1;
            }
            *report.errors.entry(e).or_default() += 1;
        }
        if !attempts.succeeded {
            report.failed_inputs += 1;
        }
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One asynchronous invocation as Lambda makes it: up to three attempts, each with the lease an
/// invocation gets.
async fn invoke_with_retries(
    pipeline: &Pipeline,
    delivery: &Delivery,
    in_flight: &InFlight,
) -> Attempts {
    let mut out = Attempts {
        made: 0,
        errors: Vec::new(),
        in_progress_alone: 0,
        succeeded: false,
    };
    for attempt in 0..ATTEMPTS {
        out.made += 1;
        let now = Utc::now();
        let lease_until = now + Span::from_std(INVOCATION).unwrap_or_default();
        let attempt_result = tokio::time::timeout(
            INVOCATION,
            pipeline.handle_raw(delivery.event.clone(), lease_until, now),
        )
        .await;
        let error_type = match attempt_result {
            Ok(Ok(_)) => {
                out.succeeded = true;
                return out;
            }
            Ok(Err(e)) => e.error_type(),
            // Lambda reports a function stopped at its timeout as a retryable failure.
            Err(_) => "Retryable.TimedOut",
        };
        let alone = lock(in_flight)
            .get(&delivery.finding_id)
            .is_some_and(|n| *n <= 1);
        if error_type == "Retryable.InProgress" && alone {
            out.in_progress_alone += 1;
        }
        out.errors.push(error_type.to_owned());
        if let Some(wait) = BACKOFF.get(attempt) {
            tokio::time::sleep(*wait).await;
        }
    }
    out
}

/// Receives and deletes notices from the queue subscribed to the topic, directly from the
/// server (not through the proxy), until told to finish and the queue is empty.
struct Drainer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<anyhow::Result<Vec<Value>>>,
}

impl Drainer {
    fn start(stack: &LocalStack) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (sqs, queue_url) = (stack.sqs.clone(), stack.queue_url.clone());
        let stopping = stop.clone();
        let task = tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let bodies = take_batch(&sqs, &queue_url).await?;
                if bodies.is_empty() {
                    if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                        return Ok(out);
                    }
                    continue;
                }
                out.extend(bodies);
            }
        });
        Self { stop, task }
    }

    /// Every notice received, once the queue has stayed empty after the deliveries ended.
    async fn finish(self) -> anyhow::Result<Vec<Value>> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.task.await?
    }
}

/// Compare the notices received with the plan: one notice per finding, a second for each
/// material update.
fn check_notices(notices: &[Value], workload: &Workload, report: &mut SoakReport) {
    let mut seen: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for envelope in notices {
        let attribute = |name: &str| {
            envelope["MessageAttributes"][name]["Value"]
                .as_str()
                .map(str::to_owned)
        };
        let (Some(id), Some(sequence)) = (
            attribute("finding_id"),
            attribute("notice_sequence").and_then(|s| s.parse::<u64>().ok()),
        ) else {
            report.unexpected += 1;
            continue;
        };
        *seen.entry((id, sequence)).or_default() += 1;
    }
    report.received_notices = seen.values().sum();
    report.expected_notices = workload.expected.len();
    for key in &workload.expected {
        match seen.get(key) {
            None => report.missing += 1,
            Some(n) => report.doubled += n - 1,
        }
    }
    report.unexpected += seen
        .iter()
        .filter(|(k, _)| !workload.expected.contains(*k))
        .map(|(_, n)| n)
        .sum::<usize>();
}

/// Finding records that still carry a lease token: a claim never completed nor released.
async fn leases_held(stack: &LocalStack, workload: &Workload) -> anyhow::Result<usize> {
    use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
    let mut held = 0;
    // BatchGetItem reads at most 100 keys a call.
    for ids in workload.ids.chunks(100) {
        let mut keys = KeysAndAttributes::builder()
            .consistent_read(true)
            .projection_expression("pk, lease_token");
        for id in ids {
            keys = keys.keys(std::collections::HashMap::from([
                ("pk".to_owned(), AttributeValue::S(format!("FINDING#{id}"))),
                ("sk".to_owned(), AttributeValue::S("STATE".into())),
            ]));
        }
        let mut request = Some(std::collections::HashMap::from([(
            stack.table.clone(),
            keys.build()?,
        )]));
        while let Some(items) = request.take().filter(|r| !r.is_empty()) {
            let out = stack
                .dynamodb
                .batch_get_item()
                .set_request_items(Some(items))
                .send()
                .await?;
            held += out
                .responses
                .unwrap_or_default()
                .values()
                .flatten()
                .filter(|item| item.contains_key("lease_token"))
                .count();
            request = out.unprocessed_keys;
        }
    }
    Ok(held)
}
