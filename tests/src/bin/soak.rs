//! `soak`: the triage path under load and faults (see `integration_tests::soak`). Run by
//! `scripts/soak.sh`, which starts the local stack first.

use clap::Parser;
use integration_tests::LocalStack;
use integration_tests::soak::proxy::{Fault, FaultPlan};
use integration_tests::soak::{SoakSettings, run};

#[derive(Parser)]
#[command(
    about = "Deliver findings through a fault-injecting proxy and check every notice arrived exactly once"
)]
struct Args {
    /// Distinct findings (each delivered once, some more).
    #[arg(long, default_value_t = 10_000)]
    findings: usize,
    /// Share of findings delivered twice.
    #[arg(long, default_value_t = 0.3)]
    duplicates: f64,
    /// Share of findings re-emitted later with a material change.
    #[arg(long, default_value_t = 0.1)]
    updates: f64,
    /// Deliveries in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seed of the workload and of the fault sequence.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Run without faults (a baseline for the throughput).
    #[arg(long)]
    no_faults: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let plan = if args.no_faults {
        FaultPlan {
            unavailable: 0.0,
            throttled: 0.0,
            reset: 0.0,
            lost_response: 0.0,
            slow: 0.0,
            slow_ms: (0, 0),
        }
    } else {
        FaultPlan::SOAK
    };
    let stack = LocalStack::start().await;
    let report = run(
        &stack,
        SoakSettings {
            findings: args.findings,
            duplicates: args.duplicates,
            updates: args.updates,
            concurrency: args.concurrency,
            seed: args.seed,
            plan,
        },
    )
    .await?;

    println!(
        "findings {}  deliveries {}  attempts {}  concurrency {}  seed {}  in {:.1} s ({:.0} deliveries/s)",
        report.findings,
        report.deliveries,
        report.attempts,
        args.concurrency,
        args.seed,
        report.elapsed.as_secs_f64(),
        report.deliveries as f64 / report.elapsed.as_secs_f64().max(1e-9)
    );
    let mut by_fault: std::collections::BTreeMap<Fault, u64> = Default::default();
    for ((_, fault), n) in &report.faults {
        *by_fault.entry(*fault).or_default() += n;
    }
    let faults: Vec<String> = by_fault
        .iter()
        .map(|(f, n)| format!("{} {n}", f.as_str()))
        .collect();
    println!("requests through the proxy: {}", faults.join(", "));
    let errors: Vec<String> = report
        .errors
        .iter()
        .map(|(e, n)| format!("{e} {n}"))
        .collect();
    println!(
        "failed attempts (retried): {}",
        if errors.is_empty() {
            "none".to_owned()
        } else {
            errors.join(", ")
        }
    );
    println!(
        "notices: expected {}, received {}, missing {}, doubled {}, unexpected {}",
        report.expected_notices,
        report.received_notices,
        report.missing,
        report.doubled,
        report.unexpected
    );
    println!(
        "lost Publish responses {} (each may double one notice: SNS standard topics have no idempotency)",
        report.lost_publish_responses
    );
    println!(
        "leases still held {}, inputs failed after every retry {}, non-retryable errors {}, InProgress with no other delivery in flight {}",
        report.leases_held, report.failed_inputs, report.non_retryable, report.in_progress_alone
    );
    let violations = report.violations();
    if violations.is_empty() {
        println!("soak passed");
        Ok(())
    } else {
        for v in &violations {
            eprintln!("soak failed: {v}");
        }
        anyhow::bail!("{} violation(s)", violations.len())
    }
}
