//! The JSON log sources ([`resolver`](super::resolver), [`eks`](super::eks)) as one
//! [`LogSource`]: their readers in `triage-logs` share the shape of an object (gzip or plain JSON,
//! within a cap on its text), the bound on memory ([`Limits`]) and the hand-over of parts, so a
//! source is only what differs ([`JsonLog`]): its reader, its item layout, its names.

use super::read::{ObjectError, ObjectItems, ObjectStats};
use super::source::{Configured, LogSource};
use crate::Item;
use crate::context_items::{ChunkNumbers, ObjectId};
use std::io::Read;
use triage_domain::config::{ConfigError, number};
use triage_logs::bucketed::{Limits, Summary};
use triage_logs::json_object::InputError;

/// What a JSON log source is made of: implemented by a marker type per log, which
/// [`JsonLogSource`] turns into a [`LogSource`].
pub trait JsonLog: Default + Send + Sync + 'static {
    /// [`LogSource::name`].
    const NAME: &'static str;
    /// The log as an error message names it.
    const DESCRIPTION: &'static str;
    /// Variable of the cap on an object's text, in MB.
    const MAX_TEXT_MB_VAR: &'static str;
    /// Variable of the bound on live aggregates.
    const MAX_LIVE_VAR: &'static str;
    /// The bound on live aggregates when the environment does not say.
    const DEFAULT_LIMITS: Limits;

    /// What the reader hands over, a part at a time.
    type Aggregate;
    /// Why the reader skips a record.
    type SkipReason: Ord + ToString;

    /// Whether the reader reads CloudWatch Logs subscription batches as well as the source's
    /// S3 deliveries.
    const READS_LOG_SUBSCRIPTIONS: bool = false;

    /// Its own settings beside the cap and the bound every JSON source has; none by default.
    fn from_lookup(_get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self::default())
    }

    /// Read one object (stored under `key`) within `limits`, handing its aggregates to
    /// `on_part` a part at a time.
    fn read_within(
        &self,
        input: impl Read,
        key: &str,
        max_text_bytes: u64,
        limits: Limits,
        on_part: impl FnMut(Vec<Self::Aggregate>),
    ) -> Result<Summary<Self::SkipReason>, InputError>;

    /// The items of the next part, numbered by `chunks`.
    fn items(
        chunks: &mut ChunkNumbers,
        part: &[Self::Aggregate],
        id: &ObjectId,
        expires_at: i64,
    ) -> Vec<Item>;
}

/// A JSON log source, with its cap on an object's text and its bound on memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonLogSource<L> {
    /// Largest object once decompressed: the cap stops a gzip bomb or an object that is not the
    /// source's log.
    pub max_text_bytes: u64,
    /// Live aggregates held while an object streams in.
    pub limits: Limits,
    /// Which log, with its own settings: each source is its own type (its own `Configured` and
    /// `Default`) while the code is one.
    pub log: L,
}

impl<L: JsonLog> JsonLogSource<L> {
    /// 1 GiB of text: a few million Resolver entries, about a million audit events, several
    /// deliveries' worth of either.
    pub const DEFAULT_MAX_TEXT_BYTES: u64 = 1 << 30;

    /// Read an object into items held in memory, within `max_text_bytes` of text and with no
    /// bound on live aggregates, with the source's default settings and no key: one part, for
    /// tests and small objects.
    pub fn read_whole(
        input: impl Read,
        max_text_bytes: u64,
        id: &ObjectId,
        expires_at: i64,
    ) -> Result<ObjectItems, ObjectError> {
        let source = Self {
            max_text_bytes,
            limits: Limits::UNBOUNDED,
            log: L::default(),
        };
        let mut items = Vec::new();
        let stats = source.stream(input, "", id, expires_at, &mut |part| items.extend(part))?;
        Ok(ObjectItems { items, stats })
    }

    /// Read the object stored under `key` as it streams in, handing its items to `on_items` part by part, each
    /// part's chunks numbered after the earlier parts' so that none overwrites another and a
    /// retry writes the same keys again.
    pub fn stream(
        &self,
        input: impl Read,
        key: &str,
        id: &ObjectId,
        expires_at: i64,
        on_items: &mut dyn FnMut(Vec<Item>),
    ) -> Result<ObjectStats, ObjectError> {
        let mut chunks = ChunkNumbers::default();
        let summary = (self.log)
            .read_within(input, key, self.max_text_bytes, self.limits, |part| {
                on_items(L::items(&mut chunks, &part, id, expires_at))
            })
            .map_err(|e| ObjectError::of_json_object(e, L::DESCRIPTION))?;
        Ok(ObjectStats::counted(
            summary.records,
            &summary.skipped,
            summary.text_bytes,
        ))
    }
}

impl<L: JsonLog> Default for JsonLogSource<L> {
    fn default() -> Self {
        Self {
            max_text_bytes: Self::DEFAULT_MAX_TEXT_BYTES,
            limits: L::DEFAULT_LIMITS,
            log: L::default(),
        }
    }
}

impl<L: JsonLog> Configured for JsonLogSource<L> {
    /// [`JsonLog::MAX_TEXT_MB_VAR`] (default 1024, 1-16384): the cap on an object's text.
    /// [`JsonLog::MAX_LIVE_VAR`] (default [`JsonLog::DEFAULT_LIMITS`], 1024-16777216): most
    /// aggregates held while an object streams in; bounds the function's memory whatever the
    /// object's size.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let megabytes = number(&get, L::MAX_TEXT_MB_VAR, 1024, 1, 16_384)?;
        let max_live = number(
            &get,
            L::MAX_LIVE_VAR,
            L::DEFAULT_LIMITS.max_live as i64,
            1024,
            16_777_216,
        )?;
        Ok(Self {
            max_text_bytes: (megabytes as u64) << 20,
            limits: Limits {
                max_live: max_live as usize,
                ..L::DEFAULT_LIMITS
            },
            log: L::from_lookup(get)?,
        })
    }
}

impl<L: JsonLog> LogSource for JsonLogSource<L> {
    fn name(&self) -> &'static str {
        L::NAME
    }

    fn reads_log_subscriptions(&self) -> bool {
        L::READS_LOG_SUBSCRIPTIONS
    }

    fn read(
        &self,
        input: &mut dyn Read,
        key: &str,
        id: &ObjectId,
        expires_at: i64,
        on_items: &mut dyn FnMut(Vec<Item>),
    ) -> Result<ObjectStats, ObjectError> {
        self.stream(input, key, id, expires_at, on_items)
    }
}
