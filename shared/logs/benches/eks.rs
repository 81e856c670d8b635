//! EKS audit log ingest: read and aggregate of one object, next to decompression alone of the
//! same bytes.
//!
//!     cargo bench -p triage-logs --bench eks
//!
//! measures, with criterion, the public records of `tests/fixtures/eks/` that the reader counts
//! (Falco's trace files, Panther's EKS rule tests) repeated into a 20,000-line gzip object:
//! `eks/read_aggregate` (`read_object` from the gzip bytes) and `eks/gunzip_to_sink` (flate2
//! decompression of the same bytes into `io::sink`), in bytes of text per second.
//!
//!     python3 scripts/gen-eks-audit-object.py --records 1000000 target/eks-1m.jsonl.gz
//!     EKS_AUDIT_OBJECT=target/eks-1m.jsonl.gz cargo bench -p triage-logs --bench eks
//!
//! reads that one object once instead (the generator's docstring says what is in it) and
//! prints the time, the summary and the aggregates, to set beside `gzip -dc` of the same file.

use criterion::{Criterion, Throughput};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::hint::black_box;
use std::io::{self, BufReader, Write};
use std::path::Path;
use std::time::Instant;
use triage_logs::eks::{NotableKind, read_object};

const LINES: usize = 20_000;

fn object() -> (Vec<u8>, u64) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/eks");
    let mut lines = Vec::new();
    for name in [
        "falco-k8s-audit.ndjson",
        "panther-eks-anonymous.ndjson",
        "panther-eks-system-namespace.ndjson",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).expect("fixture");
        lines.extend(text.lines().map(str::to_owned));
    }
    let mut text = String::new();
    for line in lines.iter().cycle().take(LINES) {
        text.push_str(line);
        text.push('\n');
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(6));
    encoder.write_all(text.as_bytes()).expect("gzip");
    (encoder.finish().expect("gzip"), text.len() as u64)
}

fn one_shot(path: &Path) {
    let file = std::fs::File::open(path).expect("object");
    let start = Instant::now();
    let (aggregates, summary) = read_object(BufReader::new(file), u64::MAX).expect("read");
    let seconds = start.elapsed().as_secs_f64();
    let calls: u64 = aggregates.iter().map(|(_, s)| s.calls).sum();
    let notable: u64 = aggregates.iter().map(|(_, s)| s.notable_calls).sum();
    let kept: usize = aggregates.iter().map(|(_, s)| s.notable.len()).sum();
    let mut kinds = std::collections::BTreeMap::<NotableKind, u64>::new();
    for (_, stats) in &aggregates {
        for (kind, n) in &stats.notable_counts {
            *kinds.entry(*kind).or_default() += n;
        }
    }
    println!(
        "{}: {seconds:.2} s, {:.1} MB of text, {:.1} MB/s",
        path.display(),
        summary.text_bytes as f64 / 1e6,
        summary.text_bytes as f64 / 1e6 / seconds
    );
    println!(
        "records {}, skipped {:?}, calls {calls}, aggregates {}, notable calls {notable} ({kept} kept)",
        summary.records, summary.skipped, summary.aggregates
    );
    println!(
        "calls per aggregate {:.1}; notable by kind {kinds:?}",
        calls as f64 / aggregates.len().max(1) as f64
    );
}

fn main() {
    if let Some(path) = std::env::var_os("EKS_AUDIT_OBJECT") {
        return one_shot(Path::new(&path));
    }
    let (gzip, text_bytes) = object();
    let (_, summary) = read_object(&gzip[..], u64::MAX).expect("read");
    println!(
        "{} gzip bytes, {text_bytes} bytes of text, {summary:?}",
        gzip.len()
    );
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("eks");
    group.throughput(Throughput::Bytes(text_bytes));
    group.bench_function("read_aggregate", |b| {
        b.iter(|| read_object(black_box(&gzip[..]), u64::MAX).expect("read"))
    });
    group.bench_function("gunzip_to_sink", |b| {
        b.iter(|| {
            io::copy(
                &mut MultiGzDecoder::new(black_box(&gzip[..])),
                &mut io::sink(),
            )
            .expect("gunzip")
        })
    });
    group.finish();
    criterion.final_summary();
}
