//! `triage-cli`: replay and explain GuardDuty findings with the same code the Lambda runs.

mod eval;
mod ingest;
mod report;

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};
use report::Report;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use triage_aws::MemoryContextSource;
use triage_aws::ingest::ClusterNames;
use triage_domain::config::Config;
use triage_domain::dedupe::DedupeStore;
use triage_domain::enrich::ContextSource;
use triage_domain::finding::{FindingEvent, parse_event_bytes};
use triage_domain::pipeline::{Triage, TriageError, TriageSettings, load_context, preview_with};
use triage_domain::publish::NoticePublisher;
use triage_domain::scope::ScopeWindow;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--eks-clusters`, shared by `ingest` and `explain`.
#[derive(clap::Args, Debug)]
struct EksClusters {
    /// EKS audit logs: the cluster of audit events that come without their CloudWatch log group
    /// (Firehose's message extraction, exports), by file path: `name` for every file, or
    /// `prefix=name` pairs, comma separated, the longest matching prefix winning.
    #[arg(
        long = "eks-clusters",
        env = "TRIAGE_EKS_CLUSTERS",
        default_value = "",
        value_name = "CLUSTERS"
    )]
    names: ClusterNames,
}

#[derive(Subcommand)]
enum Command {
    /// Run each finding through the triage pipeline against the configured AWS endpoint
    /// (dedupe table and notice topic from TRIAGE_TABLE_NAME / TRIAGE_TOPIC_ARN), exactly as
    /// the Lambda does, and report what was published.
    Replay {
        /// One JSON object per input on its own line instead of a readable report.
        #[arg(long)]
        json: bool,
        /// How long this run holds a finding's lease (the Lambda uses its remaining time).
        #[arg(long, default_value_t = 30)]
        lease_seconds: u64,
        /// EventBridge envelopes or bare findings.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Backfill context from CloudTrail, VPC Flow Log, Route 53 Resolver query log or EKS audit
    /// log files (gzip or plain, files or directories) into TRIAGE_TABLE_NAME, with the ingest
    /// functions' code.
    Ingest {
        #[arg(value_enum)]
        source: ingest::Source,
        /// Parse and aggregate without writing; print the items, write units and cost.
        #[arg(long)]
        dry_run: bool,
        /// Days the context is kept (DynamoDB TTL).
        #[arg(long, env = "TRIAGE_CONTEXT_TTL_DAYS", default_value_t = 90)]
        ttl_days: i64,
        /// CloudTrail: most aggregates held in memory before a part of the object is turned
        /// into items (what bounds memory, whatever the file's size).
        #[arg(
            long,
            env = "TRIAGE_CLOUDTRAIL_MAX_LIVE_AGGREGATES",
            default_value_t = triage_logs::cloudtrail::DEFAULT_MAX_LIVE_AGGREGATES
        )]
        max_live_aggregates: usize,
        /// Flow logs: most aggregates held in memory before the oldest time bucket is turned
        /// into items (what bounds memory, whatever the file's size).
        #[arg(
            long,
            env = "TRIAGE_FLOW_MAX_LIVE_AGGREGATES",
            default_value_t = triage_logs::flowlogs::Limits::DEFAULT.max_live
        )]
        flow_max_live_aggregates: usize,
        /// Resolver query logs: most aggregates held in memory before the oldest time bucket is
        /// turned into items (what bounds memory, whatever the file's size).
        #[arg(
            long,
            env = "TRIAGE_RESOLVER_MAX_LIVE_AGGREGATES",
            default_value_t = triage_logs::resolver::DEFAULT_LIMITS.max_live
        )]
        resolver_max_live_aggregates: usize,
        /// EKS audit logs: most aggregates held in memory before the oldest time bucket is
        /// turned into items (what bounds memory, whatever the file's size).
        #[arg(
            long,
            env = "TRIAGE_EKS_MAX_LIVE_AGGREGATES",
            default_value_t = triage_logs::eks::DEFAULT_LIMITS.max_live
        )]
        eks_max_live_aggregates: usize,
        #[command(flatten)]
        eks_clusters: EksClusters,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Classify and render each finding without any write or publish. Without options it
    /// needs no AWS access and uses the finding's own fields; the notice can also use context
    /// from local log files (read in memory with the ingest code) or from the context table.
    Explain {
        #[arg(long)]
        json: bool,
        /// CloudTrail log files or directories (gzip or plain) to take context from.
        #[arg(long, value_name = "PATH")]
        cloudtrail: Vec<PathBuf>,
        /// VPC Flow Log files or directories (gzip or plain) to take context from.
        #[arg(long, value_name = "PATH")]
        flowlogs: Vec<PathBuf>,
        /// Route 53 Resolver query log files or directories (gzip or plain) to take context from.
        #[arg(long, value_name = "PATH")]
        resolver: Vec<PathBuf>,
        /// EKS audit log files or directories (gzip or plain; audit events, or CloudWatch Logs
        /// subscription payloads as Firehose delivers them) to take context from.
        #[arg(long, value_name = "PATH")]
        eks: Vec<PathBuf>,
        #[command(flatten)]
        eks_clusters: EksClusters,
        /// Read the context stored in TRIAGE_TABLE_NAME (queries only, nothing is written).
        #[arg(long, conflicts_with_all = ["cloudtrail", "flowlogs", "resolver", "eks"])]
        table: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Measure the verdicts on labelled scenarios (tests/scenarios/): each scenario's logs are
    /// read in memory with the ingest code and its finding classified with them; prints each
    /// verdict, a confusion matrix, and the same figures for two baselines (severity band
    /// alone, always true positive). Fails when an attack is called likely false positive or
    /// exact accuracy is below --min-exact.
    Eval {
        /// One JSON object per scenario, then {"summary": {...}}.
        #[arg(long)]
        json: bool,
        /// Fail when fewer than this percentage of verdicts are exact.
        #[arg(long, default_value_t = 0.0)]
        min_exact: f64,
        /// Scenario folders, or folders of them.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    lambda_runtime::tracing::init_default_subscriber_with_writer(std::io::stderr);
    let cli = Cli::parse();
    let failures = match cli.command {
        Command::Replay {
            json,
            lease_seconds,
            files,
        } => {
            let config = Config::from_env().context("triage-cli replay needs the triage configuration (run `eval \"$(infra/local/up.sh)\"` for the local stack)")?;
            let pipeline = triage_aws::connect(&config).await;
            let lease = Duration::from_secs(lease_seconds);
            let mut failures = 0;
            for file in &files {
                let report = replay_one(&pipeline, file, lease).await;
                failures += usize::from(report.error.is_some());
                report.print(json);
            }
            failures
        }
        Command::Ingest {
            source,
            dry_run,
            ttl_days,
            max_live_aggregates,
            flow_max_live_aggregates,
            resolver_max_live_aggregates,
            eks_max_live_aggregates,
            eks_clusters,
            paths,
        } => {
            let settings = ingest::ReaderSettings {
                cloudtrail: max_live_aggregates,
                flows: flow_max_live_aggregates,
                resolver: resolver_max_live_aggregates,
                eks: eks_max_live_aggregates,
                eks_clusters: eks_clusters.names,
            };
            usize::from(!ingest::run(source, &paths, dry_run, ttl_days, &settings).await?)
        }
        Command::Explain {
            json,
            cloudtrail,
            flowlogs,
            resolver,
            eks,
            eks_clusters,
            table,
            files,
        } => {
            let config = Config::from_env();
            let settings = config
                .as_ref()
                .map(|c| c.settings)
                .unwrap_or_else(|_| TriageSettings::default());
            let context: Option<Box<dyn ContextSource>> = if table {
                let config = config.context("explain --table reads TRIAGE_TABLE_NAME (run `eval \"$(infra/local/up.sh)\"` for the local stack)")?;
                Some(Box::new(triage_aws::connect_context(&config).await))
            } else if cloudtrail.is_empty()
                && flowlogs.is_empty()
                && resolver.is_empty()
                && eks.is_empty()
            {
                None
            } else {
                let mut memory = MemoryContextSource::new();
                let settings = ingest::ReaderSettings {
                    eks_clusters: eks_clusters.names,
                    ..ingest::ReaderSettings::default()
                };
                for (source, paths) in [
                    (ingest::Source::Cloudtrail, &cloudtrail),
                    (ingest::Source::Flowlogs, &flowlogs),
                    (ingest::Source::Resolver, &resolver),
                    (ingest::Source::Eks, &eks),
                ] {
                    ingest::load_in_memory(source, paths, &settings, &mut memory)?;
                }
                Some(Box::new(memory))
            };
            let mut failures = 0;
            for file in &files {
                let report = explain_one(file, &settings, context.as_deref()).await;
                failures += usize::from(report.error.is_some());
                report.print(json);
            }
            failures
        }
        Command::Eval {
            json,
            min_exact,
            dirs,
        } => run_eval(json, min_exact, &dirs).await?,
    };
    if failures > 0 {
        eprintln!("{failures} input(s) failed");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Evaluate every scenario; the number of failures is the scenarios that could not be run,
/// plus one when the suite misses its contract (an attack called benign, accuracy too low).
async fn run_eval(json: bool, min_exact: f64, dirs: &[PathBuf]) -> anyhow::Result<usize> {
    let settings = TriageSettings::default();
    let mut outcomes = Vec::new();
    let mut failures = 0;
    for dir in eval::scenario_dirs(dirs)? {
        match eval::run_one(&dir, &settings).await {
            Ok(outcome) => {
                if json {
                    println!("{}", serde_json::to_string(&outcome)?);
                }
                outcomes.push(outcome);
            }
            Err(e) => {
                eprintln!("{}: {e:#}", dir.display());
                failures += 1;
            }
        }
    }
    let summary = eval::summarise(&outcomes);
    if json {
        println!("{}", serde_json::json!({ "summary": summary }));
    } else {
        eval::print_readable(&outcomes);
    }
    let exact = 100.0 * summary.exact as f64 / summary.scenarios.max(1) as f64;
    if summary.attacks_called_fp > 0 {
        eprintln!(
            "{} attack(s) called likely false positive",
            summary.attacks_called_fp
        );
        failures += 1;
    }
    if exact < min_exact {
        eprintln!("exact accuracy {exact:.1} % is below the floor of {min_exact} %");
        failures += 1;
    }
    Ok(failures)
}

/// Read and parse one input file; the error says which step failed and why.
fn load(file: &std::path::Path) -> Result<FindingEvent, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read the file: {e}"))?;
    parse_event_bytes(&bytes).map_err(|e| e.to_string())
}

async fn replay_one<S: DedupeStore, P: NoticePublisher>(
    pipeline: &Triage<S, P>,
    file: &std::path::Path,
    lease: Duration,
) -> Report {
    let mut report = Report::for_file(file);
    let event = match load(file) {
        Ok(event) => event,
        Err(e) => return report.failed(e),
    };
    report.describe(&event);
    // A live lease means another invocation is on this finding right now. Lambda would fail
    // and retry later; the CLI waits for the other one to finish, then sees what it did.
    let give_up = Utc::now() + lease;
    let mut pause = Duration::from_millis(50);
    loop {
        let now = Utc::now();
        match pipeline.handle(&event, now + lease, now).await {
            Ok(outcome) => return report.with_outcome(&outcome),
            Err(TriageError::InProgress { .. }) if Utc::now() < give_up => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            Err(e) => return report.failed(e.to_string()),
        }
    }
}

async fn explain_one(
    file: &std::path::Path,
    settings: &TriageSettings,
    context: Option<&dyn ContextSource>,
) -> Report {
    let mut report = Report::for_file(file);
    let event = match load(file) {
        Ok(event) => event,
        Err(e) => return report.failed(e),
    };
    report.describe(&event);
    let now = Utc::now();
    let summary = match context {
        Some(source) => {
            let window = ScopeWindow::for_finding(&event.finding, settings.look_back, now);
            load_context(source, &event, &window, settings.min_history).await
        }
        None => None,
    };
    let (assessment, notice) = preview_with(&event, settings, now, summary.as_ref());
    report.with_preview(&assessment, &notice, event.finding.is_archived());
    report
}
