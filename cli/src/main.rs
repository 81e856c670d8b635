//! `triage-cli`: replay and explain GuardDuty findings with the same code the Lambda runs.

mod ingest;
mod report;

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};
use report::Report;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use triage_core::config::Config;
use triage_core::dedupe::DedupeStore;
use triage_core::finding::{FindingEvent, parse_event_bytes};
use triage_core::pipeline::{Triage, TriageError, TriageSettings, preview};
use triage_core::publish::NoticePublisher;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    /// Backfill context from CloudTrail or VPC Flow Log files (gzip or plain, files or
    /// directories) into TRIAGE_TABLE_NAME, with the ingest functions' code.
    Ingest {
        #[arg(value_enum)]
        source: ingest::Source,
        /// Parse and aggregate without writing; print the items, write units and cost.
        #[arg(long)]
        dry_run: bool,
        /// Days the context is kept (DynamoDB TTL).
        #[arg(long, env = "TRIAGE_CONTEXT_TTL_DAYS", default_value_t = 90)]
        ttl_days: i64,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Classify and render each finding without any write or publish; needs no AWS access.
    Explain {
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
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
            let pipeline = triage_core::aws::connect(&config).await;
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
            paths,
        } => usize::from(!ingest::run(source, &paths, dry_run, ttl_days).await?),
        Command::Explain { json, files } => {
            let settings = Config::from_env()
                .map(|c| c.settings)
                .unwrap_or_else(|_| TriageSettings::default());
            let mut failures = 0;
            for file in &files {
                let report = explain_one(file, &settings);
                failures += usize::from(report.error.is_some());
                report.print(json);
            }
            failures
        }
    };
    if failures > 0 {
        eprintln!("{failures} input(s) failed");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
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

fn explain_one(file: &std::path::Path, settings: &TriageSettings) -> Report {
    let mut report = Report::for_file(file);
    let event = match load(file) {
        Ok(event) => event,
        Err(e) => return report.failed(e),
    };
    report.describe(&event);
    let (assessment, notice) = preview(&event, settings, Utc::now());
    report.with_preview(&assessment, &notice, event.finding.is_archived());
    report
}
