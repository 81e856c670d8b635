//! S3 event notifications in SQS messages: which objects a message announces.

use super::source::LogSource;
use crate::context_items::ObjectId;
use aws_lambda_events::cloudwatch_logs::LogsEvent;
use aws_lambda_events::s3::S3Event;
use aws_lambda_events::sqs::SqsEvent;
use percent_encoding::percent_decode_str;
use serde_json::Value;
use std::fmt;
use triage_domain::text::json_kind;

/// An S3 object named by a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// The key as stored, URL-decoded (notifications carry it URL-encoded).
    pub key: String,
    /// Set when the bucket is versioned.
    pub version_id: Option<String>,
    /// Without quotes.
    pub etag: Option<String>,
    pub size: Option<i64>,
}

impl ObjectRef {
    /// A reference to the current version of `bucket/key`, with no revision known.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            version_id: None,
            etag: None,
            size: None,
        }
    }

    /// The key of this object's items: bucket, key and the revision the notification names
    /// (version ID, else ETag), so a redelivered notification rewrites the same items, and a
    /// new version of the key gets its own.
    pub fn id(&self) -> ObjectId {
        let revision = self
            .version_id
            .as_deref()
            .filter(|v| !v.is_empty() && *v != "null")
            .or(self.etag.as_deref())
            .unwrap_or_default();
        ObjectId::of(&format!("s3://{}/{}#{revision}", self.bucket, self.key))
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What one notification record asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announced {
    /// An object to ingest.
    Object(ObjectRef),
    /// Nothing to do, and why (logged, and the message counts as processed).
    Ignored(String),
}

/// Why an SQS message body is not a usable S3 notification. Permanent: the message fails, and
/// after the queue's `maxReceiveCount` it lands in the dead-letter queue, where it can be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("SQS message has no body")]
    NoBody,
    #[error("message body is not JSON: {0}")]
    NotJson(String),
    #[error("message body is not an S3 event notification: {0}")]
    NotS3Notification(String),
    #[error("S3 notification record {index} has no {field}")]
    Missing { index: usize, field: &'static str },
    #[error("S3 notification record {index} has a key that is not URL-encoded UTF-8: {key:?}")]
    BadKey { index: usize, key: String },
    #[error("not a CloudWatch Logs subscription batch: {0}")]
    NotLogSubscription(String),
}

/// The objects an SQS message body announces, for a function reading `source`.
///
/// Accepts the body S3 sends to SQS (`{"Records":[...]}`), the same inside an SNS envelope
/// (S3 -> SNS -> SQS without raw delivery) and S3's `s3:TestEvent` (sent once when the
/// notification is configured: ignored). Only `ObjectCreated:*` records name an object to read.
pub fn parse_notification(
    body: &str,
    source: &dyn LogSource,
) -> Result<Vec<Announced>, NotificationError> {
    let mut value: Value =
        serde_json::from_str(body).map_err(|e| NotificationError::NotJson(e.to_string()))?;
    // S3 -> SNS -> SQS: the notification is the envelope's Message string.
    if value.get("Type").and_then(Value::as_str) == Some("Notification")
        && let Some(message) = value.get("Message").and_then(Value::as_str)
    {
        value = serde_json::from_str(message).map_err(|e| {
            NotificationError::NotJson(format!("SNS envelope's Message is not JSON: {e}"))
        })?;
    }
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        let bucket = value.get("Bucket").and_then(Value::as_str).unwrap_or("?");
        return Ok(vec![Announced::Ignored(format!(
            "s3:TestEvent for bucket {bucket}"
        ))]);
    }
    if !value.get("Records").is_some_and(Value::is_array) {
        return Err(NotificationError::NotS3Notification(format!(
            "a JSON {} without a Records array",
            json_kind(&value)
        )));
    }
    let event: S3Event = serde_json::from_value(value)
        .map_err(|e| NotificationError::NotS3Notification(e.to_string()))?;
    let mut out = Vec::with_capacity(event.records.len());
    for (index, record) in event.records.into_iter().enumerate() {
        if let Some(source) = record.event_source.as_deref()
            && source != "aws:s3"
        {
            return Err(NotificationError::NotS3Notification(format!(
                "record {index} has eventSource {source:?}"
            )));
        }
        let bucket =
            record
                .s3
                .bucket
                .name
                .filter(|b| !b.is_empty())
                .ok_or(NotificationError::Missing {
                    index,
                    field: "s3.bucket.name",
                })?;
        let raw_key =
            record
                .s3
                .object
                .key
                .filter(|k| !k.is_empty())
                .ok_or(NotificationError::Missing {
                    index,
                    field: "s3.object.key",
                })?;
        let key = decode_key(&raw_key).ok_or(NotificationError::BadKey {
            index,
            key: raw_key,
        })?;
        let object = ObjectRef {
            bucket,
            key,
            version_id: record.s3.object.version_id.filter(|v| !v.is_empty()),
            etag: record
                .s3
                .object
                .e_tag
                .map(|e| e.trim_matches('"').to_owned())
                .filter(|e| !e.is_empty()),
            size: record.s3.object.size,
        };
        let event_name = record.event_name.unwrap_or_default();
        out.push(if !event_name.starts_with("ObjectCreated:") {
            Announced::Ignored(format!("{event_name} event for {object}: nothing to read"))
        } else if let Some(why) = ignores(source, &object.key) {
            Announced::Ignored(format!("{object} is {why}"))
        } else {
            Announced::Object(object)
        });
    }
    Ok(out)
}

/// Why `source`'s function does not read `key`: a folder marker never holds logs, whatever
/// the source.
fn ignores(source: &dyn LogSource, key: &str) -> Option<&'static str> {
    if key.ends_with('/') {
        Some("a folder marker, not a log object")
    } else {
        source.ignores(key)
    }
}

/// S3 notifications encode keys like an HTML form: `+` for a space, `%XX` for the rest.
fn decode_key(raw: &str) -> Option<String> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|k| k.into_owned())
}

/// What a function was invoked with.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// A batch of SQS messages (S3 notifications): answered with partial batch failures.
    Sqs(SqsEvent),
    /// A single EventBridge event (`AWS API Call via CloudTrail`), invoked asynchronously.
    EventBridge(Value),
    /// A CloudWatch Logs subscription's batch of one log stream's events, invoked
    /// asynchronously, already base64-decoded and gunzipped.
    LogSubscription(LogsEvent),
}

/// Tell an SQS batch, an EventBridge event and a CloudWatch Logs subscription batch apart by
/// their shape.
pub fn detect_trigger(payload: Value) -> Result<Trigger, NotificationError> {
    if payload.get("awslogs").is_some() {
        // `LogsEvent` reads its keys as borrowed strings, which a `Value` cannot lend: it is
        // read from the text again (a batch is at most a few hundred KB).
        return serde_json::from_str(&payload.to_string())
            .map(Trigger::LogSubscription)
            .map_err(|e| {
                NotificationError::NotLogSubscription(format!(
                    "`awslogs.data` is not base64 gzip of a subscription batch: {e}"
                ))
            });
    }
    let first_source = payload
        .get("Records")
        .and_then(Value::as_array)
        .map(|records| {
            records
                .first()
                .and_then(|r| r.get("eventSource").and_then(Value::as_str))
        });
    match first_source {
        Some(Some("aws:s3")) => Err(NotificationError::NotS3Notification(
            "an S3 event invoked the function directly; send the bucket's notifications to the SQS queue instead".into(),
        )),
        Some(_) => serde_json::from_value(payload)
            .map(Trigger::Sqs)
            .map_err(|e| NotificationError::NotS3Notification(format!("not an SQS event: {e}"))),
        None if payload.get("detail-type").is_some() => Ok(Trigger::EventBridge(payload)),
        None => Err(NotificationError::NotS3Notification(format!(
            "the function was invoked with a JSON {} that is neither an SQS batch, an EventBridge event nor a CloudWatch Logs subscription batch",
            json_kind(&payload)
        ))),
    }
}
