//! VPC Flow Logs ingest: one gzip object parsed, aggregated, laid out as items and compressed
//! (what `triage-cli ingest flowlogs --dry-run` and the ingest function do per object, through
//! `context::ingest::read_flow_log`), next to decompression alone of the same bytes, on one
//! core.
//!
//! ```text
//! python3 scripts/gen-flowlog-objects.py --shape friendly --records 2000000 target/flow-friendly.txt.gz
//! python3 scripts/gen-flowlog-objects.py --shape internet --records 2000000 target/flow-internet.txt.gz
//! cargo bench -p triage-aws --bench flowlogs
//! ```
//!
//! Objects:
//! - `bench`: synthetic, built here by repeating and varying real records: the five default-format
//!   `OK` records of the AWS documentation (`tests/fixtures/vpcflow/default-v2.txt`), 200,000
//!   records in all, each with its client address taken among 33 values and its client port
//!   varied per record, times spread over six ten-minute buckets, one record in 1,000 `NODATA`
//!   and one in 5,000 `SKIPDATA` (generator: `shared/logs/src/flowlogs/synthetic.rs`). gzip level 6,
//!   as S3 delivery objects. Written to `target/flowlogs-bench.txt.gz`.
//! - `friendly` and `internet`: the objects of `scripts/gen-flowlog-objects.py` (its docstring
//!   says how they are built), read from `target/flow-friendly.txt.gz` and
//!   `target/flow-internet.txt.gz` (or the paths in `FLOWLOGS_BENCH_OBJECTS`, separated by `:`)
//!   when they exist; skipped otherwise.
//!
//! Per object, in the same run, best of 7 runs each, ours and `gzip -dc` taking turns so that a
//! busy machine slows both alike:
//! - `read_flow_log` from the gzip bytes: records/s, and the items and write units it lays out;
//! - flate2 (zlib-rs) decompression alone into `io::sink`, the in-process floor;
//! - `gzip -dc` of the same file to `/dev/null`, process start included;
//!
//! then the ratio to `gzip -dc` (target: at least 0.7x). Criterion also times `read_flow_log` on
//! the `bench` object.

#[path = "../../logs/src/flowlogs/synthetic.rs"]
#[allow(dead_code)]
mod synthetic;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use triage_aws::context_items::{ObjectId, WritePlan};
use triage_aws::ingest::read_flow_log;

const RECORDS: u64 = 200_000;
const REMOTES: u32 = 33;
const BUCKETS: u32 = 6;
const RUNS: usize = 7;

/// The synthetic gzip object, built once.
fn synthetic_object() -> Vec<u8> {
    let templates = synthetic::default_v2_templates();
    let mut generator = synthetic::Synthetic::new(&templates, RECORDS, REMOTES, BUCKETS);
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    io::copy(&mut generator, &mut encoder).expect("generate");
    encoder.finish().expect("gzip")
}

/// Items of one object, as the dry run lays them out; the records read.
fn items(gz: &[u8]) -> (WritePlan, u64) {
    let read = read_flow_log(gz, &ObjectId::of("bench"), 1_800_000_000).expect("object ingests");
    (WritePlan::of(&read.items), read.stats.records)
}

fn gunzip_to_sink(gz: &[u8]) -> u64 {
    io::copy(&mut MultiGzDecoder::new(gz), &mut io::sink()).expect("gunzip")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn gzip_dc(path: &Path) -> Result<Duration, String> {
    let mut failure = None;
    let elapsed = timed(|| {
        let status = Command::new("gzip")
            .arg("-dc")
            .arg(path)
            .stdout(Stdio::null())
            .status();
        if !matches!(&status, Ok(s) if s.success()) {
            failure = Some(format!("gzip -dc failed: {status:?}"));
        }
    });
    failure.map_or(Ok(elapsed), Err)
}

/// The figures of one object: ours and `gzip -dc` in turns, best of [`RUNS`] each.
fn report(name: &str, path: &Path, gz: &[u8]) {
    let (plan, records) = items(gz);
    let plain_bytes = gunzip_to_sink(gz);
    let mut ours = Duration::MAX;
    let mut gzip = Ok(Duration::MAX);
    let mut flate2 = Duration::MAX;
    for _ in 0..RUNS {
        ours = ours.min(timed(|| {
            black_box(items(gz));
        }));
        gzip = match (gzip, gzip_dc(path)) {
            (Ok(best), Ok(this)) => Ok(best.min(this)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        flate2 = flate2.min(timed(|| {
            black_box(gunzip_to_sink(gz));
        }));
    }
    let rate = |d: Duration| records as f64 / d.as_secs_f64();
    eprintln!();
    eprintln!(
        "{name}: {} records, {:.1} MB plain, {:.1} MB gzip ({})",
        records,
        plain_bytes as f64 / 1e6,
        gz.len() as f64 / 1e6,
        path.display()
    );
    eprintln!(
        "  items: {} items, {} write units ({:.1} records per write unit)",
        plan.items,
        plan.write_units,
        records as f64 / plan.write_units.max(1) as f64
    );
    eprintln!(
        "  read_flow_log (parse, aggregate, lay out, compress): {:>6.3} M records/s",
        rate(ours) / 1e6
    );
    eprintln!(
        "  flate2 gunzip to sink:                               {:>6.3} M records/s  (read_flow_log = {:.2}x)",
        rate(flate2) / 1e6,
        rate(ours) / rate(flate2)
    );
    match gzip {
        Ok(gzip) => eprintln!(
            "  gzip -dc > /dev/null:                                {:>6.3} M records/s  (read_flow_log = {:.2}x; target >= 0.7x)",
            rate(gzip) / 1e6,
            rate(ours) / rate(gzip)
        ),
        Err(e) => eprintln!("  gzip -dc not measured: {e}"),
    }
}

fn flowlogs(c: &mut Criterion) {
    let gz = synthetic_object();
    let mut group = c.benchmark_group("flowlogs");
    group.throughput(Throughput::Elements(RECORDS));
    group.bench_function("read_flow_log", |b| b.iter(|| items(black_box(&gz))));
    group.bench_function("gunzip_to_sink", |b| {
        b.iter(|| gunzip_to_sink(black_box(&gz)))
    });
    group.finish();
}

/// The figures of every object, measured again in this process so they can be set side by side.
fn summary(_: &mut Criterion) {
    let gz = synthetic_object();
    let path = target_dir().join("flowlogs-bench.txt.gz");
    match std::fs::write(&path, &gz) {
        Ok(()) => report("bench", &path, &gz),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
    let objects: Vec<PathBuf> = match std::env::var("FLOWLOGS_BENCH_OBJECTS") {
        Ok(paths) => paths.split(':').map(PathBuf::from).collect(),
        Err(_) => ["flow-friendly.txt.gz", "flow-internet.txt.gz"]
            .iter()
            .map(|name| target_dir().join(name))
            .collect(),
    };
    for path in objects {
        match std::fs::read(&path) {
            Ok(gz) => report(
                &path.file_name().unwrap_or_default().to_string_lossy(),
                &path,
                &gz,
            ),
            Err(e) => eprintln!(
                "\n{} not measured ({e}): generate it with scripts/gen-flowlog-objects.py",
                path.display()
            ),
        }
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
