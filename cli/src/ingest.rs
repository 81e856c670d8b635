//! `triage-cli ingest cloudtrail|flowlogs|resolver|eks PATH...`: backfill context with the same parsing,
//! aggregation and item layout the ingest functions use, or price it first with `--dry-run`.

use anyhow::Context;
use chrono::{Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use triage_aws::context_items::{ObjectId, WritePlan};
use triage_aws::ingest::{
    CloudTrailLimits, CloudTrailSource, ClusterNames, EksAuditLog, EksAuditSource, FlowLogSource,
    LogSource, ResolverSource,
};
use triage_aws::{BatchWriter, Item, MemoryContextSource};
use triage_logs::{eks, flowlogs, resolver};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Source {
    Cloudtrail,
    Flowlogs,
    /// Route 53 Resolver query logs.
    Resolver,
    /// EKS (Kubernetes) audit logs: Firehose deliveries of the cluster's log group, or exports.
    Eks,
}

impl Source {
    /// The ingest functions' reader of this source, with the backfill's settings: no cap on a
    /// local file's size, the same bounds on memory.
    fn reader(self, settings: &ReaderSettings) -> Box<dyn LogSource> {
        let bounds = settings;
        match self {
            Self::Cloudtrail => Box::new(CloudTrailSource {
                limits: CloudTrailLimits {
                    max_live_aggregates: bounds.cloudtrail,
                    ..CloudTrailLimits::BACKFILL
                },
            }),
            Self::Flowlogs => Box::new(FlowLogSource {
                limits: flowlogs::Limits {
                    max_live: bounds.flows,
                    ..flowlogs::Limits::DEFAULT
                },
            }),
            // Streamed within the bound, so a local file needs no cap on its text.
            Self::Resolver => Box::new(ResolverSource {
                limits: resolver::Limits {
                    max_live: bounds.resolver,
                    ..resolver::DEFAULT_LIMITS
                },
                max_text_bytes: u64::MAX,
                ..ResolverSource::default()
            }),
            Self::Eks => Box::new(EksAuditSource {
                limits: eks::Limits {
                    max_live: bounds.eks,
                    ..eks::DEFAULT_LIMITS
                },
                max_text_bytes: u64::MAX,
                log: EksAuditLog {
                    clusters: settings.eks_clusters.clone(),
                },
            }),
        }
    }
}

/// Totals over every object of a run.
#[derive(Debug, Default)]
struct Totals {
    objects: usize,
    failed: Vec<(PathBuf, String)>,
    records: u64,
    skipped: u64,
    skip_reasons: BTreeMap<String, u64>,
    uncompressed_bytes: u64,
    plan: WritePlan,
    calls: usize,
}

/// How the backfill reads: per source, the most aggregates held in memory while a file streams
/// in (what bounds memory, whatever the file's size), and the EKS clusters of audit events
/// without their log group, by file path.
#[derive(Debug, Clone)]
pub struct ReaderSettings {
    pub cloudtrail: usize,
    pub flows: usize,
    pub resolver: usize,
    pub eks: usize,
    pub eks_clusters: ClusterNames,
}

impl Default for ReaderSettings {
    fn default() -> Self {
        Self {
            cloudtrail: CloudTrailLimits::BACKFILL.max_live_aggregates,
            flows: flowlogs::Limits::DEFAULT.max_live,
            resolver: resolver::DEFAULT_LIMITS.max_live,
            eks: eks::DEFAULT_LIMITS.max_live,
            eks_clusters: ClusterNames::default(),
        }
    }
}

/// Files under the given paths (directories recursively), sorted, hidden files skipped.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            entries.sort();
            out.extend(collect(&entries)?);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn object_id(path: &Path) -> ObjectId {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    ObjectId::of(&format!("file:{}#{size}", path.display()))
}

/// Parse and aggregate one object into items, with the functions' per-object code, handed to
/// `on_items` as they are made (CloudTrail in parts, so a dry run holds no more than one part);
/// records, skips and size go into `totals`.
fn items_for(
    source: &dyn LogSource,
    path: &Path,
    ttl: Duration,
    totals: &mut Totals,
    on_items: &mut dyn FnMut(Vec<Item>),
) -> Result<(), String> {
    let expires_at = (Utc::now() + ttl).timestamp();
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let stats = source
        .read(
            &mut file,
            &path.display().to_string(),
            &object_id(path),
            expires_at,
            on_items,
        )
        .map_err(|e| e.to_string())?;
    totals.uncompressed_bytes += stats.uncompressed_bytes;
    totals.records += stats.records;
    totals.skipped += stats.skipped;
    for (reason, n) in stats.skip_reasons {
        *totals.skip_reasons.entry(reason).or_default() += n;
    }
    Ok(())
}

pub async fn run(
    source: Source,
    paths: &[PathBuf],
    dry_run: bool,
    ttl_days: i64,
    settings: &ReaderSettings,
) -> anyhow::Result<bool> {
    let files = collect(paths)?;
    let writer = if dry_run {
        None
    } else {
        let table = std::env::var("TRIAGE_TABLE_NAME")
            .context("ingest writes to TRIAGE_TABLE_NAME (or use --dry-run)")?;
        Some(BatchWriter::connect(&table, std::time::Duration::from_secs(5)).await)
    };
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} objects {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let reader = source.reader(settings);
    let mut totals = Totals::default();
    for path in &files {
        bar.set_message(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        totals.objects += 1;
        // A dry run only prices the items, part by part; a backfill writes an object's items
        // once it is read (a local file, so memory holds its compressed items).
        let mut plan = WritePlan::default();
        let mut kept = Vec::new();
        let mut on_items = |items: Vec<Item>| {
            let part = WritePlan::of(&items);
            plan.items += part.items;
            plan.write_units += part.write_units;
            if writer.is_some() {
                kept.extend(items);
            }
        };
        match items_for(
            &*reader,
            path,
            Duration::days(ttl_days),
            &mut totals,
            &mut on_items,
        ) {
            Ok(()) => {
                totals.plan.items += plan.items;
                totals.plan.write_units += plan.write_units;
                if let Some(writer) = &writer {
                    match writer.put_all(kept).await {
                        Ok(report) => totals.calls += report.calls,
                        Err(e) => totals.failed.push((path.clone(), e.to_string())),
                    }
                }
            }
            Err(e) => totals.failed.push((path.clone(), e)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    print_summary(&totals, dry_run);
    Ok(totals.failed.is_empty())
}

/// The context of local log files, in memory, for `triage-cli explain --cloudtrail/--flowlogs`:
/// the items `ingest` would write, through the same code. A file that cannot be read fails the
/// whole load: an explanation on half the context would mislead.
pub fn load_in_memory(
    source: Source,
    paths: &[PathBuf],
    settings: &ReaderSettings,
    table: &mut MemoryContextSource,
) -> anyhow::Result<()> {
    let reader = source.reader(settings);
    let mut totals = Totals::default();
    for path in collect(paths)? {
        let mut items = Vec::new();
        items_for(
            &*reader,
            &path,
            Duration::days(1),
            &mut totals,
            &mut |part| items.extend(part),
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        table.put_all(items);
    }
    Ok(())
}

fn print_summary(t: &Totals, dry_run: bool) {
    let verb = if dry_run { "would write" } else { "wrote" };
    println!("objects: {} read, {} failed", t.objects, t.failed.len());
    for (path, why) in &t.failed {
        println!("  FAILED {}: {why}", path.display());
    }
    println!("records: {} read, {} skipped", t.records, t.skipped);
    for (reason, n) in &t.skip_reasons {
        println!("  skipped {n}: {reason}");
    }
    println!(
        "items: {verb} {} items, {} write units ({:.1} records per write unit)",
        t.plan.items,
        t.plan.write_units,
        t.records as f64 / t.plan.write_units.max(1) as f64
    );
    let gb = t.uncompressed_bytes as f64 / 1e9;
    println!(
        "cost: ${:.6} of DynamoDB on-demand writes for {:.1} MB of logs (uncompressed), ${:.3} per GB",
        t.plan.usd(),
        t.uncompressed_bytes as f64 / 1e6,
        if gb > 0.0 { t.plan.usd() / gb } else { 0.0 }
    );
    if !dry_run {
        println!("calls: {} BatchWriteItem", t.calls);
    }
}
