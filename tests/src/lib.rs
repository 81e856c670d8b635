//! One helper that every integration test starts from: the local AWS stack that
//! `infra/local/up.sh` started (its `export` lines must be in the environment), with a fresh
//! topic and queue per test so tests can run in parallel on one server.

pub mod soak;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use triage_aws::{DynamoContextSource, DynamoDedupeStore, SnsPublisher, sdk_config};
use triage_domain::pipeline::{Triage, TriageSettings};

pub type Pipeline = Triage<DynamoDedupeStore, SnsPublisher>;

/// Counts the HTTP requests the SDK sends: one per AWS round trip (retries included).
#[derive(Debug, Default, Clone)]
pub struct RequestCounter(Arc<AtomicUsize>);

impl RequestCounter {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Loses the response of the `nth` DynamoDB `UpdateItem` (1-based) after the server applied it:
/// the SDK sees a 500 in its place and retries, as when a connection drops on the way back.
#[derive(Debug, Clone)]
pub struct LoseUpdateResponse {
    nth: usize,
    seen: Arc<AtomicUsize>,
}

impl LoseUpdateResponse {
    pub fn nth(nth: usize) -> Self {
        Self {
            nth,
            seen: Arc::default(),
        }
    }

    /// `UpdateItem` requests that got a response so far (retries included).
    pub fn seen(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for LoseUpdateResponse {
    fn name(&self) -> &'static str {
        "LoseUpdateResponse"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let update = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .is_some_and(|m| m.name() == "UpdateItem");
        if update && self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.nth {
            let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"response lost"}"#;
            let mut lost = aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(500)?,
                aws_smithy_types::body::SdkBody::from(body),
            );
            lost.headers_mut()
                .insert("content-type", "application/x-amz-json-1.0");
            *context.response_mut() = lost;
        }
        Ok(())
    }
}

pub struct LocalStack {
    pub sdk: SdkConfig,
    pub table: String,
    pub topic_arn: String,
    pub queue_url: String,
    pub requests: RequestCounter,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: start the local stack first with `eval \"$(infra/local/up.sh)\"` (scripts/test.sh does)")
    })
}

/// A unique suffix for names and finding IDs, so parallel tests never share state.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

impl LocalStack {
    /// Connect to the running local server and create a topic and a queue of our own.
    pub async fn start() -> Self {
        env("AWS_ENDPOINT_URL");
        let table = env("TRIAGE_TABLE_NAME");
        let sdk = sdk_config(Duration::from_secs(5)).await;
        let requests = RequestCounter::default();
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .interceptor(requests.clone())
                .build(),
        );
        let sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(&sdk)
                .interceptor(requests.clone())
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let name = unique("notices");
        let topic_arn = sns
            .create_topic()
            .name(&name)
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic arn");
        let queue_url = sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("queue arn");
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .expect("subscribe");
        Self {
            sdk,
            table,
            topic_arn,
            queue_url,
            requests,
            dynamodb,
            sns,
            sqs,
        }
    }

    pub fn pipeline(&self, settings: TriageSettings) -> Pipeline {
        Triage::new(
            DynamoDedupeStore::new(self.dynamodb.clone(), &self.table),
            SnsPublisher::new(self.sns.clone(), &self.topic_arn),
            settings,
        )
    }

    /// [`Self::pipeline`] whose DynamoDB client goes through `interceptor` too.
    pub fn pipeline_through(
        &self,
        settings: TriageSettings,
        interceptor: impl aws_smithy_runtime_api::client::interceptors::Intercept + 'static,
    ) -> Pipeline {
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&self.sdk)
                .interceptor(self.requests.clone())
                .interceptor(interceptor)
                .build(),
        );
        Triage::new(
            DynamoDedupeStore::new(dynamodb, &self.table),
            SnsPublisher::new(self.sns.clone(), &self.topic_arn),
            settings,
        )
    }

    /// [`Self::pipeline`] enriched with the context stored in the same table.
    pub fn pipeline_with_context(&self, settings: TriageSettings) -> Pipeline {
        self.pipeline(settings)
            .with_context(DynamoContextSource::new(self.dynamodb.clone(), &self.table))
    }

    /// The first page of one partition of the table: a Query on `pk` alone.
    pub async fn partition(
        &self,
        pk: impl Into<String>,
    ) -> aws_sdk_dynamodb::operation::query::QueryOutput {
        self.dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(pk.into()),
            )
            .send()
            .await
            .unwrap()
    }

    /// Every notice delivered to our queue so far (SNS envelopes: Subject, Message,
    /// MessageAttributes), waiting until none has arrived for a moment.
    pub async fn drain_notices(&self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let bodies = take_batch(&self.sqs, &self.queue_url)
                .await
                .expect("receive and delete notices");
            if bodies.is_empty() {
                return out;
            }
            out.extend(bodies);
        }
    }
}

/// Receives up to 10 messages (waiting up to a second for the first) and deletes them in one
/// `DeleteMessageBatch`, returning their bodies as JSON. A local server slows sharply as a queue
/// grows, so draining one delete at a time falls behind a burst of notices.
pub async fn take_batch(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> anyhow::Result<Vec<Value>> {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let mut bodies = Vec::with_capacity(messages.len());
    let mut batch = sqs.delete_message_batch().queue_url(queue_url);
    for (i, m) in messages.iter().enumerate() {
        bodies.push(serde_json::from_str(m.body().unwrap_or("{}"))?);
        batch = batch.entries(
            aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()?,
        );
    }
    batch.send().await?;
    Ok(bodies)
}

/// A sample event from `events/` with a fresh finding ID (and the given count / updatedAt).
pub fn event(file: &str, id: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(file);
    let mut event: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("event file")).expect("event JSON");
    event["detail"]["id"] = id.into();
    event
}

/// The weight of the evidence filed under `signal`, if the assessment has it.
pub fn weight_of(
    a: &triage_domain::classify::Assessment,
    signal: triage_domain::classify::Signal,
) -> Option<i32> {
    a.evidence
        .iter()
        .find(|e| e.signal == signal)
        .map(|e| e.weight)
}
