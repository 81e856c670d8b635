//! Parse + classify + render of one finding, for every sample event in `events/`: the CPU
//! cost of triage without the network. Target: at most 200 µs per finding on a CI-class core.
//! Then the same for the two findings of the demo's sample context (`events/context/`), with and
//! without their context: decoding the stored rows, summarising them, the context rules and the
//! longer notice, i.e. everything enrichment adds but the queries' round trip; and Kubernetes
//! findings with EKS audit context, on the demo's and on a busy shared address.
//!
//!     cargo bench -p triage-aws --bench triage_pipeline

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use triage_aws::MemoryContextSource;
use triage_aws::context_items::ObjectId;
use triage_aws::ingest;
use triage_domain::enrich::{ContextSummary, subjects};
use triage_domain::finding::parse_event_bytes;
use triage_domain::pipeline::{TriageSettings, preview, preview_with};
use triage_domain::scope::ScopeWindow;

fn events() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
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

/// `events/context/` as the demo backfills it, in memory, through the ingest functions'
/// per-object code.
fn sample_context() -> MemoryContextSource {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/context");
    let limits = ingest::CloudTrailLimits::BACKFILL;
    let mut table = MemoryContextSource::new();
    for name in [
        "ops-automation-history.json.gz",
        "ops-automation-window.json.gz",
    ] {
        let file = std::fs::File::open(dir.join("cloudtrail").join(name)).expect("sample context");
        let body = ingest::load_cloudtrail(file, &limits).expect("CloudTrail object");
        let read = ingest::cloudtrail_object_items(&body, &limits, &ObjectId::of(name), 0)
            .expect("CloudTrail object");
        table.put_all(read.items);
    }
    let flows = std::fs::File::open(dir.join("flowlogs/ssh-brute-force-target.log.gz"))
        .expect("sample flows");
    let read = ingest::read_flow_log(flows, &ObjectId::of("flows"), 0).expect("flow log");
    table.put_all(read.items);
    table
}

/// Everything triage does with context but the queries' round trip: parse, the stored rows of
/// the window, summary, rules and notice.
fn triage_with_context(
    bytes: &[u8],
    table: &MemoryContextSource,
    settings: &TriageSettings,
    now: chrono::DateTime<Utc>,
) -> (
    triage_domain::classify::Assessment,
    triage_domain::notice::Notice,
) {
    let event = parse_event_bytes(bytes).expect("finding parses");
    let window = ScopeWindow::for_finding(&event.finding, settings.look_back, now);
    let subjects = subjects(&event);
    let context = table.context(&subjects, &window);
    let summary = ContextSummary::of(
        &context,
        &subjects,
        &event.finding,
        &window,
        settings.min_history,
    );
    preview_with(&event, settings, now, Some(&summary))
}

fn enrichment(c: &mut Criterion) {
    let settings = TriageSettings::default();
    let now = Utc::now();
    let table = sample_context();
    let mut group = c.benchmark_group("enrichment");
    for name in ["ssh-brute-force-target", "tor-ip-caller-iam"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../events/{name}.json"));
        let bytes = std::fs::read(path).expect("event");
        group.bench_with_input(
            BenchmarkId::new("without_context", name),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    let event = parse_event_bytes(black_box(bytes)).expect("sample event parses");
                    black_box(preview(&event, &settings, now))
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("with_context", name),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    black_box(triage_with_context(
                        black_box(bytes),
                        &table,
                        &settings,
                        now,
                    ))
                })
            },
        );
    }
    group.finish();
}

/// A labelled scenario's CloudTrail (`tests/scenarios/<name>/cloudtrail/`), in memory through
/// the ingest code, with its finding; `repeat` copies every record that many times more (each
/// copy its own eventID and a second later), the shape of a busy intruder.
fn scenario(name: &str, repeat: usize) -> (MemoryContextSource, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios")
        .join(name);
    let limits = ingest::CloudTrailLimits::BACKFILL;
    let mut table = MemoryContextSource::new();
    for entry in std::fs::read_dir(dir.join("cloudtrail")).expect("scenario logs") {
        let path = entry.expect("file").path();
        let body = std::fs::read(&path).expect("CloudTrail file");
        let parsed: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let records = parsed
            .get("Records")
            .cloned()
            .unwrap_or(parsed)
            .as_array()
            .cloned()
            .expect("records");
        let mut all = records.clone();
        for n in 1..=repeat {
            for r in &records {
                let mut r = r.clone();
                r["eventID"] = format!("{}-{n}", r["eventID"].as_str().unwrap_or("x")).into();
                let t = chrono::DateTime::parse_from_rfc3339(r["eventTime"].as_str().unwrap())
                    .unwrap()
                    + chrono::Duration::seconds(n as i64);
                r["eventTime"] = t.format("%Y-%m-%dT%H:%M:%SZ").to_string().into();
                all.push(r);
            }
        }
        let body = serde_json::to_vec(&serde_json::json!({ "Records": all })).unwrap();
        let read = ingest::cloudtrail_object_items(
            &body,
            &limits,
            &ObjectId::of(&path.display().to_string()),
            0,
        )
        .expect("CloudTrail object");
        table.put_all(read.items);
    }
    let finding = std::fs::read(dir.join("finding.json")).expect("finding");
    (table, finding)
}

/// Enrichment of findings whose window shows attacker behaviour: the catalogue and the benign
/// readings run on every notable event and activity row of the window. The busy case repeats
/// a multi-step intrusion's 12 records 200 times (2,412 calls in the window).
fn behaviour(c: &mut Criterion) {
    let settings = TriageSettings::default();
    let mut group = c.benchmark_group("behaviour");
    for (label, name, repeat) in [
        (
            "multi_step",
            "attack-admin-role-session-deletes-trail-reads-secrets-and-shares-snapshot",
            0,
        ),
        (
            "busy_multi_step_x200",
            "attack-admin-role-session-deletes-trail-reads-secrets-and-shares-snapshot",
            200,
        ),
        ("console_browsing", "benign-mfa-console-user-browses-ec2", 0),
    ] {
        let (table, bytes) = scenario(name, repeat);
        let event = parse_event_bytes(&bytes).expect("finding");
        let now = event.finding.updated_at().unwrap_or_else(Utc::now);
        group.bench_with_input(
            BenchmarkId::new("with_context", label),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    black_box(triage_with_context(
                        black_box(bytes),
                        &table,
                        &settings,
                        now,
                    ))
                })
            },
        );
    }
    group.finish();
}

/// The demo's EKS audit payload (`events/context/eks/`), read as `ingest eks` reads it.
fn demo_audit_events() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/context/eks/platform-eks-audit.json.gz");
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(path).expect("demo audit log")),
        &mut text,
    )
    .expect("gzip");
    text
}

fn put_audit(table: &mut MemoryContextSource, object: &[u8], cluster: Option<&str>) {
    let (aggregates, _) =
        triage_logs::eks::read_cluster_object(object, u64::MAX, cluster).expect("audit log");
    table.put_all(triage_aws::context_items::kube_items(
        &aggregates,
        &ObjectId::of("eks"),
        0,
    ));
}

/// Kubernetes findings: the demo's PrivilegedContainer sample with its audit context (21
/// events), and the hard shape of the address key: the finding's address shared by 2,000 other
/// users (a NAT gateway or a bastion in front of a whole company), each calling every ten
/// minutes over the hour, so that the address's partition holds 12,000 aggregates to decode and
/// summarise.
fn kubernetes(c: &mut Criterion) {
    let settings = TriageSettings::default();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/kubernetes-privileged-container.json");
    let bytes = std::fs::read(path).expect("event");
    let now = parse_event_bytes(&bytes)
        .expect("finding")
        .finding
        .updated_at()
        .unwrap_or_else(Utc::now);
    let payload = demo_audit_events();
    let mut demo = MemoryContextSource::new();
    put_audit(&mut demo, &payload, None);
    let envelope: serde_json::Value = serde_json::from_slice(&payload).expect("payload");
    let template: serde_json::Value = serde_json::from_str(
        envelope["logEvents"][0]["message"]
            .as_str()
            .expect("an audit event"),
    )
    .expect("audit event");
    let mut shared = demo.clone();
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-30T11:03:00Z").unwrap();
    let mut lines = Vec::new();
    for user in 0..2_000 {
        for bucket in 0..6 {
            let mut event = template.clone();
            event["user"]["username"] =
                format!("arn:aws:sts::123456789012:assumed-role/developers/dev-{user}").into();
            let t = start
                + chrono::Duration::minutes(10 * bucket)
                + chrono::Duration::milliseconds(user);
            event["requestReceivedTimestamp"] = t.to_rfc3339().into();
            event["stageTimestamp"] = t.to_rfc3339().into();
            lines.extend(serde_json::to_vec(&event).unwrap());
            lines.push(b'\n');
        }
    }
    put_audit(&mut shared, &lines, Some("platform-eks"));
    let mut group = c.benchmark_group("kubernetes");
    for (label, table) in [("demo", &demo), ("shared_address_2000_users", &shared)] {
        group.bench_with_input(
            BenchmarkId::new("with_context", label),
            &bytes,
            |b, bytes| {
                b.iter(|| black_box(triage_with_context(black_box(bytes), table, &settings, now)))
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = parse_classify_render, enrichment, behaviour, kubernetes
}
criterion_main!(benches);
