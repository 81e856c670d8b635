//! EKS (Kubernetes) audit logs: what a Kubernetes user did around a finding of GuardDuty's EKS
//! Protection (`PrivilegeEscalation:Kubernetes/PrivilegedContainer`,
//! `Execution:Kubernetes/ExecInKubeSystemPod`, `Policy:Kubernetes/AnonymousAccessGranted`, ...),
//! whose `kubernetesUserDetails` name the user the triage looks up.
//!
//! Read from an object (gzip or plain) in the shapes the audit log reaches S3 or a function in:
//! - audit events (`audit.k8s.io/v1` `Event`) one per line, as a Firehose delivery that extracts
//!   the messages writes them, or a JSON array of them (an export);
//! - CloudWatch Logs subscription payloads (`messageType`, `logGroup`, `logEvents`, each event's
//!   `message` an audit event as text), one per line or concatenated without separators (Firehose
//!   writes its records back to back; each was gzip, and every member is read).
//!
//! Only completed calls count (`ResponseComplete`, `Panic`), the others being the same call
//! logged earlier; calls are aggregated per cluster, user, source address and ten minutes
//! (`aggregate`), and the calls GuardDuty's findings are about are kept one by one
//! (`notable`). Aggregates are handed over a part at a time within [`Limits`]
//! ([`read_object_within`]), so memory follows a setting, not the object.

mod aggregate;
mod call;
mod notable;
mod record;

pub use aggregate::{
    Aggregator, BUCKET_SECS, COUNTS_MAX, CallKey, CallStats, DEFAULT_LIMITS, FORWARDED_MAX,
    IMPERSONATED_MAX, Limits, NOTABLE_MAX, NotableCall, OTHER, Summary, USER_AGENTS_MAX,
};
pub use call::{Call, GROUPS_MAX, NON_RESOURCE};
pub use notable::{NotableKind, NotableKinds, classify};
pub use record::{
    Annotations, AuditObject, LogEvent, ObjectRef, ResponseStatus, SkipReason, UserInfo,
};

pub use crate::json_object::InputError;

use crate::decompress::Decompressed;
use crate::json_object::{read_error, value_error};
use serde_json::Value;
use serde_json::value::RawValue;
use std::io::{BufRead, BufReader, Read};
use triage_domain::activity::{NAME_MAX, bounded};

/// The cluster of calls whose object does not name one (audit events without their log group).
pub const UNKNOWN_CLUSTER: &str = "-";

/// [`read_cluster_object`] for an object that names its cluster, if at all, in its payloads.
pub fn read_object(
    input: impl Read,
    max_text_bytes: u64,
) -> Result<(Vec<(CallKey, CallStats)>, Summary), InputError> {
    read_cluster_object(input, max_text_bytes, None)
}

/// [`read_cluster_object_within`] with no bound on live aggregates: every aggregate in one part,
/// sorted by cluster, user, address and bucket (tests, small objects).
pub fn read_cluster_object(
    input: impl Read,
    max_text_bytes: u64,
    cluster: Option<&str>,
) -> Result<(Vec<(CallKey, CallStats)>, Summary), InputError> {
    let mut aggregates = Vec::new();
    let summary =
        read_cluster_object_within(input, max_text_bytes, cluster, Limits::UNBOUNDED, |part| {
            aggregates.extend(part)
        })?;
    aggregates.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok((aggregates, summary))
}

/// [`read_cluster_object_within`] for an object that names its cluster, if at all, in its
/// payloads.
pub fn read_object_within(
    input: impl Read,
    max_text_bytes: u64,
    limits: Limits,
    on_part: impl FnMut(Vec<(CallKey, CallStats)>),
) -> Result<Summary, InputError> {
    read_cluster_object_within(input, max_text_bytes, None, limits, on_part)
}

/// Read, parse and aggregate one object, handing the aggregates to `on_part` a part at a time
/// (a part's buckets are final unless late calls start them again, in a later part), so memory
/// holds at most [`Limits::max_live`] aggregates whatever the object's size. Its text may not
/// exceed `max_text_bytes` (a gzip bomb stops there). `cluster` names the cluster of audit
/// events that come without a payload's log group (the caller knows it from the object's key);
/// a log group wins over it.
///
/// Each line is parsed straight into [`AuditObject`]s (several when payloads are concatenated),
/// and a line that does not parse is a counted skip, not a failed object: one damaged record
/// must not drop the rest. When the first line is not whole records, the object is read as a
/// stream of JSON values instead: pretty-printed records, or a JSON array export (read whole).
/// A line longer than `LINE_MAX` is payloads back to back, read one at a time.
pub fn read_cluster_object_within(
    input: impl Read,
    max_text_bytes: u64,
    cluster: Option<&str>,
    limits: Limits,
    mut on_part: impl FnMut(Vec<(CallKey, CallStats)>),
) -> Result<Summary, InputError> {
    let cluster = cluster.map_or(UNKNOWN_CLUSTER, |c| bounded(c, NAME_MAX));
    let mut text = BufReader::with_capacity(
        BUFFER,
        Decompressed::new(BufReader::with_capacity(BUFFER, input), max_text_bytes)
            .map_err(|e| read_error(e, max_text_bytes))?,
    );
    let mut sink = Sink {
        aggregator: Aggregator::new(limits),
        on_part: &mut on_part,
    };
    let aggregator = &mut sink;
    // Bytes, not a `String`: a line that is not UTF-8 is one skipped record, not a failed read.
    let mut line = Vec::new();
    let mut first = true;
    loop {
        let read = read_bounded_line(&mut text, &mut line);
        match read.map_err(|e| read_error(e, max_text_bytes))? {
            Line::End => break,
            Line::Whole if first && line.trim_ascii().is_empty() => {}
            Line::Whole if first && !whole_records(&line) => {
                read_values((&line[..]).chain(&mut text), cluster, aggregator)
                    .map_err(|e| value_error(e, max_text_bytes))?;
                break;
            }
            Line::Whole => {
                first = false;
                read_line(&line, cluster, aggregator);
            }
            Line::Long if first && line.trim_ascii_start().starts_with(b"[") => {
                read_values((&line[..]).chain(&mut text), cluster, aggregator)
                    .map_err(|e| value_error(e, max_text_bytes))?;
                break;
            }
            Line::Long => {
                read_raw_values((&line[..]).chain(&mut text), cluster, aggregator)
                    .map_err(|e| read_error(e, max_text_bytes))?;
                break;
            }
        }
    }
    let (last, mut summary) = sink.aggregator.finish();
    if !last.is_empty() {
        on_part(last);
    }
    summary.text_bytes = text.get_ref().bytes_read();
    Ok(summary)
}

/// The aggregator and where its parts go, so that every way of reading an object hands parts
/// over as soon as they are ready.
struct Sink<'a> {
    aggregator: Aggregator,
    on_part: &'a mut dyn FnMut(Vec<(CallKey, CallStats)>),
}

impl Sink<'_> {
    fn push(&mut self, cluster: &str, call: Result<Call<'_>, SkipReason>) {
        self.aggregator.push(cluster, call);
        if self.aggregator.has_ready() {
            (self.on_part)(self.aggregator.take_ready());
        }
    }

    fn skip(&mut self, reason: SkipReason) {
        self.aggregator.skip(reason);
    }
}

/// Longest line read whole. CloudWatch Logs payloads hold at most about 1 MB of events (a little
/// more once escaped); a longer line is payloads written back to back without a newline
/// (Firehose's S3 delivery), read one payload at a time instead, so memory stays bounded by the
/// largest payload rather than by the object.
const LINE_MAX: u64 = 4 << 20;

enum Line {
    End,
    /// A line, with its newline if it had one.
    Whole,
    /// [`LINE_MAX`] bytes and no newline yet.
    Long,
}

fn read_bounded_line(text: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Line> {
    line.clear();
    let n = text.take(LINE_MAX).read_until(b'\n', line)?;
    Ok(match n {
        0 => Line::End,
        _ if line.ends_with(b"\n") || (n as u64) < LINE_MAX => Line::Whole,
        _ => Line::Long,
    })
}

/// Whether a line parses as whole records, the test of a delivery of one record per line.
fn whole_records(line: &[u8]) -> bool {
    serde_json::Deserializer::from_slice(line)
        .into_iter::<AuditObject<'_>>()
        .all(|object| object.is_ok())
}

/// Pretty-printed records or a JSON array export: each value whole (an array too), and a value
/// that does not parse fails the object.
fn read_values(
    text: impl Read,
    cluster: &str,
    aggregator: &mut Sink<'_>,
) -> Result<(), serde_json::Error> {
    for value in serde_json::Deserializer::from_reader(text).into_iter::<Value>() {
        let records = match value? {
            Value::Array(records) => records,
            other => vec![other],
        };
        for record in records {
            if record.is_object() {
                read_line(record.to_string().as_bytes(), cluster, aggregator);
            } else {
                aggregator.skip(SkipReason::NotAnEvent);
            }
        }
    }
    Ok(())
}

/// Values back to back, each taken as text and read as a line. Without newlines there is no
/// place to start again after a value that does not parse: it is one skip, and the end.
fn read_raw_values(
    text: impl Read,
    cluster: &str,
    aggregator: &mut Sink<'_>,
) -> std::io::Result<()> {
    let values = serde_json::Deserializer::from_reader(text).into_iter::<Box<RawValue>>();
    for value in values {
        match value {
            Ok(raw) => read_line(raw.get().as_bytes(), cluster, aggregator),
            Err(e) if e.is_io() => return Err(e.into()),
            Err(_) => {
                aggregator.skip(SkipReason::NotAnEvent);
                break;
            }
        }
    }
    Ok(())
}

/// The records of one line: an audit event, or payloads (several when concatenated). A line
/// that stops parsing midway keeps what came before and counts one skip.
fn read_line(line: &[u8], cluster: &str, aggregator: &mut Sink<'_>) {
    if line.trim_ascii().is_empty() {
        return;
    }
    for object in serde_json::Deserializer::from_slice(line).into_iter::<AuditObject<'_>>() {
        match object {
            Ok(object) => read_record(&object, cluster, aggregator),
            Err(_) => return aggregator.skip(SkipReason::NotAnEvent),
        }
    }
}

fn read_record(object: &AuditObject<'_>, cluster: &str, aggregator: &mut Sink<'_>) {
    if !object.is_payload() {
        return aggregator.push(cluster, Call::from_event(object, None));
    }
    if object.message_type.as_deref() == Some("CONTROL_MESSAGE") {
        return aggregator.skip(SkipReason::ControlMessage);
    }
    let cluster = object.log_group.as_deref().map_or(cluster, cluster_name);
    let audit = object
        .log_stream
        .as_deref()
        .is_none_or(|stream| stream.starts_with("kube-apiserver-audit"));
    for event in object.log_events.iter().flatten() {
        if !audit {
            aggregator.skip(SkipReason::NotAuditStream);
            continue;
        }
        // A payload inside a message is not an event: nothing nests deeper than one level.
        let inner = event
            .message
            .as_deref()
            .and_then(|message| serde_json::from_str::<AuditObject<'_>>(message).ok())
            .filter(|inner| !inner.is_payload());
        match inner {
            Some(inner) => aggregator.push(cluster, Call::from_event(&inner, event.timestamp)),
            None => aggregator.skip(SkipReason::NotAnEvent),
        }
    }
}

/// The cluster of an EKS log group (`/aws/eks/<cluster>/cluster`); another group's name as it
/// is, so its calls are still told apart.
pub fn cluster_name(log_group: &str) -> &str {
    let name = log_group
        .strip_prefix("/aws/eks/")
        .and_then(|rest| rest.strip_suffix("/cluster"))
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .unwrap_or(log_group);
    bounded(name, NAME_MAX)
}

/// Read buffer between the source, the decompressor and the line reader.
const BUFFER: usize = 64 * 1024;

#[cfg(test)]
mod tests;
