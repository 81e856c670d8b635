//! VPC Flow Logs ingest: parse + aggregate of one gzip object, next to decompression alone of
//! the same bytes, on one core.
//!
//! ```text
//! cargo bench -p triage-core --bench flowlogs
//! time gzip -dc target/flowlogs-bench.txt.gz > /dev/null
//! hyperfine -N 'gzip -dc target/flowlogs-bench.txt.gz'     # where hyperfine is installed
//! ```
//!
//! The object is synthetic, built by repeating and varying real records: the five default-format
//! `OK` records of the AWS documentation (`tests/fixtures/vpcflow/default-v2.txt`), 200,000
//! records in all, each with its client address taken among 33 values and its client port varied
//! per record, times spread over six ten-minute buckets, one record in 1,000 `NODATA` and one in
//! 5,000 `SKIPDATA`; so 5 x 33 x 6 = 990 distinct aggregates (generator:
//! `src/context/flowlogs/synthetic.rs`). gzip level 6, as S3 delivery objects. One in five
//! records is IPv6, more than in most VPCs, and IPv6 addresses are the slowest values to parse.
//!
//! Three figures, in the same run:
//! - `flowlogs/parse_aggregate`: `ingest_gzip` from the gzip bytes (records/s);
//! - `flowlogs/gunzip_to_sink`: flate2 (zlib-rs) decompression of the same bytes into
//!   `io::sink` (records/s of the same object), the in-process baseline;
//! - `gzip -dc` of the same object, which the bench writes to `target/flowlogs-bench.txt.gz`
//!   (the commands above time it again by hand) and times itself (best of 10 runs, process start
//!   included), then prints with the ratios and the records per aggregate (= records per
//!   DynamoDB write, one item per aggregate).
//!
//! Targets: parse + aggregate at least 0.7x the records/s of `gzip -dc`; at least 20
//! records per aggregate.

#[path = "../src/context/flowlogs/synthetic.rs"]
#[allow(dead_code)]
mod synthetic;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::hint::black_box;
use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use triage_core::context::flowlogs::{IngestOptions, ingest_gzip};

const RECORDS: u64 = 200_000;
const REMOTES: u32 = 33;
const BUCKETS: u32 = 6;

/// The gzip object, built once.
fn object() -> Vec<u8> {
    let templates = synthetic::default_v2_templates();
    let mut generator = synthetic::Synthetic::new(&templates, RECORDS, REMOTES, BUCKETS);
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    io::copy(&mut generator, &mut encoder).expect("generate");
    encoder.finish().expect("gzip")
}

fn parse_aggregate(gz: &[u8]) -> usize {
    let (aggregates, summary) = ingest_gzip(gz, &IngestOptions::default()).expect("object ingests");
    black_box(summary.records);
    aggregates.len()
}

fn gunzip_to_sink(gz: &[u8]) -> u64 {
    io::copy(&mut MultiGzDecoder::new(gz), &mut io::sink()).expect("gunzip")
}

fn bench_file() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("flowlogs-bench.txt.gz")
}

/// Best wall time of `runs` calls.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn flowlogs(c: &mut Criterion) {
    let gz = object();
    let mut group = c.benchmark_group("flowlogs");
    group.throughput(Throughput::Elements(RECORDS));
    group.bench_function("parse_aggregate", |b| {
        b.iter(|| parse_aggregate(black_box(&gz)))
    });
    group.bench_function("gunzip_to_sink", |b| {
        b.iter(|| gunzip_to_sink(black_box(&gz)))
    });
    group.finish();
}

/// The figures of the issue's table, measured again in this process so they can be set side
/// by side: records/s of each, ratios, and records per aggregate.
fn summary(_: &mut Criterion) {
    let gz = object();
    let (aggregates, summary) = ingest_gzip(&gz[..], &IngestOptions::default()).expect("ingests");
    let plain_bytes = gunzip_to_sink(&gz);
    let rate = |d: Duration| RECORDS as f64 / d.as_secs_f64();

    let ours = rate(best_of(10, || {
        black_box(parse_aggregate(&gz));
    }));
    let flate2 = rate(best_of(10, || {
        black_box(gunzip_to_sink(&gz));
    }));

    let path = bench_file();
    let gzip_dc = std::fs::write(&path, &gz)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            let mut failure = None;
            let best = best_of(10, || {
                let status = Command::new("gzip")
                    .arg("-dc")
                    .arg(&path)
                    .stdout(Stdio::null())
                    .status();
                if !matches!(&status, Ok(s) if s.success()) {
                    failure = Some(format!("gzip -dc failed: {status:?}"));
                }
            });
            failure.map_or(Ok(rate(best)), Err)
        });

    eprintln!();
    eprintln!(
        "flowlogs object: {} records, {} bytes plain, {} bytes gzip, written to {}",
        summary.records,
        plain_bytes,
        gz.len(),
        path.display()
    );
    eprintln!("  {summary}");
    eprintln!(
        "  records per aggregate: {:.1} ({} aggregates; target >= 20)",
        summary.records_per_aggregate(),
        aggregates.len()
    );
    eprintln!("  parse + aggregate from gzip:   {:>12.0} records/s", ours);
    eprintln!(
        "  flate2 gunzip to sink:         {:>12.0} records/s  (parse+aggregate = {:.2}x)",
        flate2,
        ours / flate2
    );
    match gzip_dc {
        Ok(gzip) => eprintln!(
            "  gzip -dc > /dev/null:          {:>12.0} records/s  (parse+aggregate = {:.2}x; target >= 0.7x)",
            gzip,
            ours / gzip
        ),
        Err(e) => eprintln!("  gzip -dc not measured: {e}"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    targets = flowlogs, summary
}
criterion_main!(benches);
