//! `triage-cli eval`: the verdicts measured on labelled scenarios (`tests/scenarios/`), beside
//! two baselines computed in the same run: GuardDuty's severity band alone, and calling every
//! finding a true positive. A classifier that cannot beat both adds nothing.

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use triage_aws::MemoryContextSource;
use triage_domain::classify::{Assessment, Verdict};
use triage_domain::finding::{Finding, parse_event_bytes};
use triage_domain::pipeline::{TriageSettings, load_context, preview_with};
use triage_domain::scope::ScopeWindow;

use crate::ingest;

/// `scenario.json`: the label and where the records come from (see tests/scenarios/README.md).
#[derive(Debug, Deserialize)]
pub struct Label {
    pub expected: Verdict,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Attack,
    Benign,
    Ambiguous,
}

/// One scenario's result: the `--json` line.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub expected: Verdict,
    pub kind: Kind,
    pub verdict: Verdict,
    pub confidence: u8,
    pub score: i32,
    /// What GuardDuty's severity band alone says.
    pub severity_only: Verdict,
    /// The strongest evidence, `signal (weight)`.
    pub top_evidence: Vec<String>,
}

/// The summary line of `--json`.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub scenarios: usize,
    pub exact: usize,
    pub attacks_called_fp: usize,
    pub severity_only_exact: usize,
    pub always_tp_exact: usize,
}

/// The baseline an on-call without this tool applies: High and above is real, Low is noise,
/// Medium needs a look.
pub fn severity_band_verdict(finding: &Finding) -> Verdict {
    let score = finding.severity.score();
    if score >= 7.0 {
        Verdict::LikelyTruePositive
    } else if score < 4.0 {
        Verdict::LikelyFalsePositive
    } else {
        Verdict::NeedsReview
    }
}

pub fn summarise(outcomes: &[Outcome]) -> Summary {
    let count = |f: &dyn Fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    Summary {
        scenarios: outcomes.len(),
        exact: count(&|o| o.verdict == o.expected),
        attacks_called_fp: count(&|o| {
            o.kind == Kind::Attack && o.verdict == Verdict::LikelyFalsePositive
        }),
        severity_only_exact: count(&|o| o.severity_only == o.expected),
        always_tp_exact: count(&|o| o.expected == Verdict::LikelyTruePositive),
    }
}

/// Rows expected, columns predicted, in the order TP, review, FP.
pub fn confusion(pairs: impl Iterator<Item = (Verdict, Verdict)>) -> [[usize; 3]; 3] {
    let index = |v: Verdict| match v {
        Verdict::LikelyTruePositive => 0,
        Verdict::NeedsReview => 1,
        Verdict::LikelyFalsePositive => 2,
    };
    let mut m = [[0; 3]; 3];
    for (expected, got) in pairs {
        m[index(expected)][index(got)] += 1;
    }
    m
}

/// Scenario folders: each argument is a scenario (it has `scenario.json`) or a folder of them.
pub fn scenario_dirs(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.join("scenario.json").is_file() {
            out.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path)
            .with_context(|| format!("{}: not a scenario nor a folder of them", path.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("scenario.json").is_file())
            .collect();
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Load one scenario's logs in memory with the ingest code, classify its finding with them.
pub async fn run_one(dir: &Path, settings: &TriageSettings) -> anyhow::Result<Outcome> {
    let label: Label = serde_json::from_slice(&std::fs::read(dir.join("scenario.json"))?)
        .context("scenario.json")?;
    let event = parse_event_bytes(&std::fs::read(dir.join("finding.json"))?)
        .map_err(|e| anyhow::anyhow!("finding.json: {e}"))?;
    let mut memory = MemoryContextSource::new();
    let existing = |name: &str| -> Vec<PathBuf> {
        let p = dir.join(name);
        if p.exists() { vec![p] } else { Vec::new() }
    };
    // Each source's logs through the reader `ingest <source>` uses.
    let read = ingest::ReaderSettings::default();
    for (source, folder) in [
        (ingest::Source::Cloudtrail, "cloudtrail"),
        (ingest::Source::Flowlogs, "flowlogs"),
        (ingest::Source::Resolver, "resolver"),
        (ingest::Source::Eks, "eks"),
    ] {
        ingest::load_in_memory(source, &existing(folder), &read, &mut memory)?;
    }
    // Classified as at the finding's last update: what a responder could know then.
    let now = event.finding.updated_at().unwrap_or_else(chrono::Utc::now);
    let window = ScopeWindow::for_finding(&event.finding, settings.look_back, now);
    let summary = load_context(&memory, &event, &window, settings.min_history).await;
    let (assessment, _) = preview_with(&event, settings, now, summary.as_ref());
    Ok(outcome(dir, &label, &event.finding, &assessment))
}

fn outcome(dir: &Path, label: &Label, finding: &Finding, a: &Assessment) -> Outcome {
    Outcome {
        scenario: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        expected: label.expected,
        kind: label.kind,
        verdict: a.verdict,
        confidence: a.confidence,
        score: a.score,
        severity_only: severity_band_verdict(finding),
        top_evidence: a
            .evidence
            .iter()
            .filter(|e| e.weight != 0)
            .take(3)
            .map(|e| format!("{} ({:+})", e.signal, e.weight))
            .collect(),
    }
}

/// The readable report: one line per scenario, then the matrix and the comparison.
pub fn print_readable(outcomes: &[Outcome]) {
    for o in outcomes {
        println!(
            "{} {:<58} expected {:<21} got {:<21} {:>4}  {}",
            if o.verdict == o.expected {
                "ok  "
            } else {
                "MISS"
            },
            o.scenario,
            o.expected.as_str(),
            o.verdict.as_str(),
            o.score,
            o.top_evidence.join(", ")
        );
    }
    let s = summarise(outcomes);
    let m = confusion(outcomes.iter().map(|o| (o.expected, o.verdict)));
    println!("\nconfusion (rows expected, columns got)   TP  review  FP");
    for (name, row) in [
        "likely_true_positive ",
        "needs_review         ",
        "likely_false_positive",
    ]
    .iter()
    .zip(m)
    {
        println!(
            "  {name}                  {:>4} {:>7} {:>3}",
            row[0], row[1], row[2]
        );
    }
    let pct = |n: usize| 100.0 * n as f64 / s.scenarios.max(1) as f64;
    let by_kind: BTreeMap<&str, usize> = outcomes.iter().fold(BTreeMap::new(), |mut m, o| {
        *m.entry(match o.kind {
            Kind::Attack => "attack",
            Kind::Benign => "benign",
            Kind::Ambiguous => "ambiguous",
        })
        .or_default() += 1;
        m
    });
    println!(
        "\n{} scenarios ({})",
        s.scenarios,
        by_kind
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  triage          exact {:>3} ({:.1} %), attacks called likely false positive: {}",
        s.exact,
        pct(s.exact),
        s.attacks_called_fp
    );
    println!(
        "  severity band   exact {:>3} ({:.1} %)",
        s.severity_only_exact,
        pct(s.severity_only_exact)
    );
    println!(
        "  always TP       exact {:>3} ({:.1} %)",
        s.always_tp_exact,
        pct(s.always_tp_exact)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(expected: Verdict, kind: Kind, verdict: Verdict, severity_only: Verdict) -> Outcome {
        Outcome {
            scenario: "s".into(),
            expected,
            kind,
            verdict,
            confidence: 50,
            score: 0,
            severity_only,
            top_evidence: Vec::new(),
        }
    }

    #[test]
    fn summary_counts_exact_verdicts_baselines_and_attacks_called_benign() {
        use Verdict::*;
        let all = [
            outcome(
                LikelyTruePositive,
                Kind::Attack,
                LikelyTruePositive,
                NeedsReview,
            ),
            outcome(
                LikelyTruePositive,
                Kind::Attack,
                LikelyFalsePositive,
                LikelyFalsePositive,
            ),
            outcome(
                LikelyFalsePositive,
                Kind::Benign,
                LikelyFalsePositive,
                LikelyTruePositive,
            ),
            outcome(NeedsReview, Kind::Ambiguous, NeedsReview, NeedsReview),
        ];
        assert_eq!(
            summarise(&all),
            Summary {
                scenarios: 4,
                exact: 3,
                attacks_called_fp: 1,
                severity_only_exact: 1,
                always_tp_exact: 2,
            }
        );
        let m = confusion(all.iter().map(|o| (o.expected, o.verdict)));
        assert_eq!(m, [[1, 0, 1], [0, 1, 0], [0, 0, 1]]);
    }

    #[test]
    fn severity_band_follows_the_documented_bands() {
        let f = |s: f64| -> Finding {
            serde_json::from_value(json!({"id": "a", "type": "X", "severity": s})).unwrap()
        };
        assert_eq!(severity_band_verdict(&f(8.0)), Verdict::LikelyTruePositive);
        assert_eq!(severity_band_verdict(&f(7.0)), Verdict::LikelyTruePositive);
        assert_eq!(severity_band_verdict(&f(5.0)), Verdict::NeedsReview);
        assert_eq!(severity_band_verdict(&f(4.0)), Verdict::NeedsReview);
        assert_eq!(severity_band_verdict(&f(2.0)), Verdict::LikelyFalsePositive);
    }
}
