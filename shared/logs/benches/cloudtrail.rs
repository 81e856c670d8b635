//! CloudTrail ingest: parse + aggregate of one gzip S3-delivery object, next to decompression
//! alone of the same bytes, on one core.
//!
//!     cargo bench -p triage-logs --bench cloudtrail
//!
//! The object is synthetic, built by repeating and varying real records: the 310 Stratus Red
//! Team detonation and 103 OTRF attack records of `tests/fixtures/cloudtrail/` (real CloudTrail
//! records, 77 distinct APIs) and the 8 AWS documentation examples. 50,000 records, each a copy
//! of a template with its identity rewritten by a principal index among 300 (`bench-user-<i>`
//! for IAM-user templates, session `session-<i>` of `bench-role-<i mod 50>` for assumed-role
//! templates, with matching access keys), its source IP set to one of that principal's 3
//! addresses (400 in all, documentation ranges), its time spread over one hour and its `eventID`
//! made unique. Each principal calls from 8 habitual templates, as real principals repeat a few
//! calls. Service names in `sourceIPAddress` and non-user identities are kept. Wrapped in
//! `{"Records":[...]}` and gzip-compressed at level 6, as CloudTrail delivers to S3.
//!
//! Three figures, in the same run, all in records/s (`Throughput::Elements`):
//! - `cloudtrail/parse_aggregate`: `aggregate_object` from the gzip bytes;
//! - `cloudtrail/parse_only`: `for_each_record` alone (decompression + JSON into records), to
//!   split the cost between parsing and aggregation;
//! - `cloudtrail/gunzip_to_sink`: flate2 (zlib-rs) decompression of the same bytes into
//!   `io::sink`, the baseline: `parse_aggregate` / `gunzip_to_sink` is the ratio to report.
//!
//! It also prints once the object's sizes, its summary and the records per activity aggregate.
//! Set `CLOUDTRAIL_BENCH_OBJECT=/path/object.json.gz` to also write the object, e.g. to time
//! `gzip -dc /path/object.json.gz > /dev/null` on the same bytes.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use std::hint::black_box;
use std::io::{self, Write};
use std::path::Path;
use triage_domain::activity::EntityKind;
use triage_logs::cloudtrail::{ReadOptions, Settings, aggregate_object, for_each_record};

const RECORDS: usize = 50_000;
const PRINCIPALS: u64 = 300;
const ROLES: u64 = 50;
const IPS: u64 = 400;
const HABITS: u64 = 8;
const ACCOUNT: &str = "123456789012";

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cloudtrail")
}

/// The real records the object is built from.
fn templates() -> Vec<Value> {
    let mut out = Vec::new();
    let dir = fixtures().join("stratus_red_team_detonations");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("stratus fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let records: Vec<Value> =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("stratus array");
        out.extend(records);
    }
    let otrf = std::fs::read_to_string(
        fixtures().join("otrf_security_datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json"),
    )
    .expect("otrf");
    out.extend(
        otrf.lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("otrf line")),
    );
    for n in 1..=7 {
        let path = fixtures().join(format!(
            "awsdocs/cloudtrail-log-file-examples.block0{n}.json"
        ));
        let file: Value =
            serde_json::from_slice(&std::fs::read(path).expect("awsdocs")).expect("json");
        if let Some(Value::Array(records)) = file.get("Records") {
            out.extend(records.iter().cloned());
        }
    }
    out
}

/// xorshift64*: deterministic variation without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn ip(index: u64) -> String {
    if index < 256 {
        format!("198.51.100.{index}")
    } else {
        format!("203.0.113.{}", index - 256)
    }
}

fn vary(mut record: Value, i: usize, principal: u64, address: u64) -> Value {
    let time = 1_772_323_200 + (i as i64 * 3600) / RECORDS as i64; // 2026-03-01T00:00:00Z + <1h
    let time = chrono::DateTime::from_timestamp(time, 0).expect("time");
    let Value::Object(fields) = &mut record else {
        return record;
    };
    fields.remove("@timestamp");
    fields.insert(
        "eventTime".into(),
        json!(time.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    );
    fields.insert(
        "eventID".into(),
        json!(format!("00000000-0000-4000-8000-{i:012}")),
    );
    fields.insert("recipientAccountId".into(), json!(ACCOUNT));
    if fields
        .get("sourceIPAddress")
        .and_then(Value::as_str)
        .is_some_and(|s| s.contains('.') && s.chars().next().is_some_and(|c| c.is_ascii_digit()))
    {
        fields.insert("sourceIPAddress".into(), json!(ip(address)));
    }
    let Some(Value::Object(identity)) = fields.get_mut("userIdentity") else {
        return record;
    };
    match identity.get("type").and_then(Value::as_str) {
        Some("IAMUser") => {
            identity.insert(
                "arn".into(),
                json!(format!(
                    "arn:aws:iam::{ACCOUNT}:user/bench-user-{principal}"
                )),
            );
            identity.insert("userName".into(), json!(format!("bench-user-{principal}")));
            identity.insert(
                "accessKeyId".into(),
                json!(format!("AKIABENCH{principal:011}")),
            );
            identity.insert("accountId".into(), json!(ACCOUNT));
        }
        Some("AssumedRole") => {
            let role = principal % ROLES;
            identity.insert(
                "arn".into(),
                json!(format!(
                    "arn:aws:sts::{ACCOUNT}:assumed-role/bench-role-{role}/session-{principal}"
                )),
            );
            identity.insert(
                "accessKeyId".into(),
                json!(format!("ASIABENCH{principal:011}")),
            );
            identity.insert("accountId".into(), json!(ACCOUNT));
            identity.insert(
                "sessionContext".into(),
                json!({"sessionIssuer": {"type": "Role",
                    "arn": format!("arn:aws:iam::{ACCOUNT}:role/bench-role-{role}"),
                    "userName": format!("bench-role-{role}"), "accountId": ACCOUNT},
                    "attributes": {"mfaAuthenticated": "false"}}),
            );
        }
        _ => {}
    }
    record
}

fn build_object() -> (Vec<u8>, usize) {
    let templates = templates();
    let n = templates.len() as u64;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let records: Vec<Value> = (0..RECORDS)
        .map(|i| {
            let principal = rng.next() % PRINCIPALS;
            let template = (principal * 13 + rng.next() % HABITS) % n;
            let address = (principal * 7 + rng.next() % 3) % IPS;
            vary(templates[template as usize].clone(), i, principal, address)
        })
        .collect();
    let plain = serde_json::to_vec(&json!({ "Records": records })).expect("serialize");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(6));
    encoder.write_all(&plain).expect("gzip");
    (encoder.finish().expect("gzip"), plain.len())
}

fn bench(c: &mut Criterion) {
    let (gz, plain_len) = build_object();
    if let Some(path) = std::env::var_os("CLOUDTRAIL_BENCH_OBJECT") {
        std::fs::write(&path, &gz).expect("write object");
    }
    let report =
        aggregate_object(&gz, &ReadOptions::default(), &Settings::default()).expect("object");
    let s = report.summary();
    let by_kind = |kind: EntityKind| {
        report
            .aggregates
            .activity
            .iter()
            .filter(|a| a.subject.kind == kind)
            .count()
    };
    eprintln!(
        "cloudtrail bench object: {RECORDS} records, {plain_len} bytes JSON, {} bytes gzip\n  {s}\n  \
         activity aggregates by subject: {} ARN, {} access key, {} source IP, {} service/account\n  \
         {:.2} records per activity aggregate",
        gz.len(),
        by_kind(EntityKind::Arn),
        by_kind(EntityKind::AccessKey),
        by_kind(EntityKind::SourceIp),
        by_kind(EntityKind::Service) + by_kind(EntityKind::Account),
        s.records_read as f64 / s.activity_aggregates.max(1) as f64,
    );

    let mut group = c.benchmark_group("cloudtrail");
    group.throughput(Throughput::Elements(RECORDS as u64));
    // Each iteration takes a fraction of a second: flat sampling, 10 samples.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.bench_function("parse_aggregate", |b| {
        b.iter(|| {
            let report = aggregate_object(
                black_box(&gz),
                &ReadOptions::default(),
                &Settings::default(),
            );
            black_box(report.expect("object").aggregates.summary.records_read)
        })
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for_each_record(black_box(&gz), &ReadOptions::default(), |r| {
                n += u64::from(r.is_ok())
            })
            .expect("object");
            black_box(n)
        })
    });
    group.bench_function("gunzip_to_sink", |b| {
        b.iter(|| {
            let mut decoder = MultiGzDecoder::new(black_box(&gz[..]));
            black_box(io::copy(&mut decoder, &mut io::sink()).expect("gunzip"))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(10));
    targets = bench
}
criterion_main!(benches);
