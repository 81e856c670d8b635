//! Parse + classify + render of one finding, for every sample event in `events/`: the CPU
//! cost of triage without the network. Target: at most 200 µs per finding on a CI-class core.
//!
//!     cargo bench -p triage-core --bench triage_pipeline

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use triage_core::finding::parse_event_bytes;
use triage_core::pipeline::{TriageSettings, preview};

fn events() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("events/")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "json").then(|| {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&path).expect("event"))
            })
        })
        .collect();
    out.sort();
    out
}

fn parse_classify_render(c: &mut Criterion) {
    let settings = TriageSettings::default();
    let now = Utc::now();
    let events = events();
    let mut group = c.benchmark_group("parse_classify_render");
    for (name, bytes) in &events {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| {
                let event = parse_event_bytes(black_box(bytes)).expect("sample event parses");
                black_box(preview(&event, &settings, now))
            })
        });
    }
    group.finish();
    c.bench_function("all_events_once", |b| {
        b.iter(|| {
            for (_, bytes) in &events {
                let event = parse_event_bytes(black_box(bytes)).expect("sample event parses");
                black_box(preview(&event, &settings, now));
            }
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = parse_classify_render
}
criterion_main!(benches);
