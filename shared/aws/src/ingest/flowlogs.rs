//! VPC Flow Logs as a [`LogSource`]: text objects (gzip as S3 delivers them, or plain) read as
//! they stream in, aggregated per interface, service port and ten minutes
//! ([`triage_logs::flowlogs`]), laid out by [`flow_items`].

use super::read::{BUFFER, ObjectError, ObjectItems, ObjectStats};
use super::source::{Configured, LogSource};
use crate::Item;
use crate::context_items::{ObjectId, flow_items};
use std::io::{BufReader, Read};
use triage_domain::config::{ConfigError, number};
use triage_logs::decompress::Decompressed;
use triage_logs::flowlogs;

/// The flow-log source, within its bound on live aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowLogSource {
    pub limits: flowlogs::Limits,
}

impl Default for FlowLogSource {
    fn default() -> Self {
        Self {
            limits: flowlogs::Limits::DEFAULT,
        }
    }
}

impl Configured for FlowLogSource {
    /// `TRIAGE_FLOW_MAX_LIVE_AGGREGATES` (default 262144, 1024-16777183): most flow aggregates
    /// held while an object streams in (about 112 bytes each) before the oldest time bucket is
    /// flushed to items; bounds the function's memory whatever the object's size.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let max_live = number(
            &get,
            "TRIAGE_FLOW_MAX_LIVE_AGGREGATES",
            flowlogs::Limits::DEFAULT.max_live as i64,
            1024,
            16_777_183,
        )? as usize;
        Ok(Self {
            limits: flowlogs::Limits {
                max_live,
                ..flowlogs::Limits::DEFAULT
            },
        })
    }
}

impl LogSource for FlowLogSource {
    fn name(&self) -> &'static str {
        "flowlogs"
    }

    fn read(
        &self,
        input: &mut dyn Read,
        _key: &str,
        id: &ObjectId,
        expires_at: i64,
        on_items: &mut dyn FnMut(Vec<Item>),
    ) -> Result<ObjectStats, ObjectError> {
        let read = read_flow_log_within(input, &self.limits, id, expires_at)?;
        on_items(read.items);
        Ok(read.stats)
    }
}

/// Read a flow-log object (gzip as S3 delivers it, or plain text), streaming, within the
/// default [`flowlogs::Limits`]: [`read_flow_log_within`].
pub fn read_flow_log(
    input: impl Read,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    read_flow_log_within(input, &flowlogs::Limits::DEFAULT, id, expires_at)
}

/// Read a flow-log object (gzip as S3 delivers it, or plain text), streaming: memory is bounded
/// by `limits` (the live aggregates) and the object's compressed items, never by its text.
pub fn read_flow_log_within(
    input: impl Read,
    limits: &flowlogs::Limits,
    id: &ObjectId,
    expires_at: i64,
) -> Result<ObjectItems, ObjectError> {
    let mut text = Decompressed::new(BufReader::with_capacity(BUFFER, input), u64::MAX)
        .map_err(ObjectError::Read)?;
    let (aggregates, summary) = flowlogs::ingest(
        BufReader::with_capacity(BUFFER, &mut text),
        &flowlogs::IngestOptions {
            limits: *limits,
            ..flowlogs::IngestOptions::default()
        },
    )?;
    Ok(ObjectItems {
        items: flow_items(&aggregates, id, expires_at),
        stats: ObjectStats::counted(summary.records, &summary.skipped, text.bytes_read()),
    })
}
