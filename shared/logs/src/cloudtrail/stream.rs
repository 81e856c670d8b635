//! Aggregating an object as it streams in: memory bounded by
//! [`Settings::max_live_aggregates`], whatever the object's size.
//!
//! The aggregator hands over parts when it is full ([`Aggregator::flush_if_full`]); each part is
//! for the caller to write before the next record is read. Parts never share an aggregate, so
//! written side by side (each under its own chunk numbers) they add up to what one unbounded run
//! would have written: readers sum activity counts and merge baseline first / last / count.

use super::aggregate::{Aggregates, Aggregator, Settings, Summary};
use super::input::{InputError, ReadOptions, Shape, read_records};
use std::io::Read;

/// What streaming one object found.
#[derive(Debug, Clone)]
pub struct StreamReport {
    pub shape: Shape,
    /// Bytes after decompression.
    pub decompressed_bytes: u64,
    /// The whole object's counts: records, and the aggregates of every part together.
    pub summary: Summary,
    /// Parts handed over (1 when the object fit under the bound).
    pub parts: usize,
}

/// Read, aggregate and hand over an object part by part, the last part included. On an
/// [`InputError`] some parts may already have been handed over: the object is then retried or
/// dead-lettered whole, and its items, keyed by object and chunk, are rewritten by a retry.
pub fn aggregate_stream<R, F>(
    input: R,
    options: &ReadOptions,
    settings: &Settings,
    mut on_part: F,
) -> Result<StreamReport, InputError>
where
    R: Read,
    F: FnMut(Aggregates),
{
    let mut aggregator = Aggregator::new(*settings);
    let mut summary = Summary::default();
    let mut parts = 0;
    let read = read_records(input, options, |record| {
        aggregator.push(record);
        if let Some(part) = aggregator.flush_if_full() {
            summary.absorb(&part.summary);
            parts += 1;
            on_part(part);
        }
    })?;
    let last = aggregator.finish();
    summary.absorb(&last.summary);
    on_part(last);
    Ok(StreamReport {
        shape: read.shape,
        decompressed_bytes: read.decompressed_bytes,
        summary,
        parts: parts + 1,
    })
}
