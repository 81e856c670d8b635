//! Every real finding we have (the shared corpus and `events/`) goes through parse, classify and
//! render, and the notice contract holds for each; every malformed fixture is rejected with a
//! precise reason.

use chrono::Utc;
use std::path::{Path, PathBuf};
use triage_domain::classify::Verdict;
use triage_domain::finding::{InputError, parse_event_bytes};
use triage_domain::notice::{MESSAGE_MAX_BYTES, SUBJECT_MAX_CHARS};
use triage_domain::pipeline::{TriageSettings, preview};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The native GuardDuty findings of the shared corpus (`../shared` beside the repo, as in CI).
fn corpus_findings() -> Vec<PathBuf> {
    let corpus = repo().join("../shared/corpus/guardduty");
    let mut files = json_files(&corpus.join("findings_raw"));
    files.extend(json_files(&corpus.join("eventbridge")));
    files
}

fn check_notice_contract(path: &Path) -> Verdict {
    let bytes = std::fs::read(path).unwrap();
    let event = parse_event_bytes(&bytes)
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    let (assessment, notice) = preview(&event, &TriageSettings::default(), Utc::now());
    let subject = &notice.subject;
    assert!(
        subject.chars().count() <= SUBJECT_MAX_CHARS,
        "{}: subject too long: {subject}",
        path.display()
    );
    assert!(
        !subject.chars().any(char::is_control) && !subject.is_empty(),
        "{}: bad subject {subject:?}",
        path.display()
    );
    assert!(notice.body.len() < MESSAGE_MAX_BYTES);
    assert!(notice.attributes.len() <= 10, "raw SQS delivery keeps 10");
    assert!(notice.body.contains(event.finding.id.as_str()));
    if event.finding.is_sample() {
        assert_eq!(
            assessment.verdict,
            Verdict::LikelyFalsePositive,
            "{}",
            path.display()
        );
    }
    assessment.verdict
}

#[test]
fn every_native_corpus_finding_parses_and_gets_a_valid_notice() {
    let files = corpus_findings();
    assert!(files.len() >= 10, "corpus not found: {files:?}");
    for file in files {
        check_notice_contract(&file);
    }
}

#[test]
fn every_sample_event_gets_a_valid_notice_and_the_verdicts_vary() {
    // events/ingest/ holds the ingest functions' SQS and CloudTrail events, not findings.
    let ingest = repo().join("events/ingest");
    let files: Vec<PathBuf> = json_files(&repo().join("events"))
        .into_iter()
        .filter(|f| !f.starts_with(&ingest))
        .collect();
    assert!(files.len() >= 20);
    let verdicts: std::collections::HashSet<Verdict> =
        files.iter().map(|f| check_notice_contract(f)).collect();
    assert_eq!(
        verdicts.len(),
        3,
        "the sample events should exercise all three verdicts"
    );
}

#[test]
fn malformed_fixtures_are_rejected_with_the_reason() {
    let dir = repo().join("tests/fixtures/bad");
    let expect =
        |name: &str| parse_event_bytes(&std::fs::read(dir.join(name)).unwrap()).unwrap_err();
    assert!(matches!(expect("not-json.json"), InputError::NotJson(_)));
    assert!(matches!(
        expect("wrong-source.json"),
        InputError::WrongSource(_)
    ));
    assert!(matches!(
        expect("wrong-detail-type.json"),
        InputError::WrongDetailType(_)
    ));
    assert_eq!(expect("missing-id.json"), InputError::MissingField("id"));
    assert_eq!(expect("empty-object.json"), InputError::MissingField("id"));
    assert_eq!(expect("json-array.json"), InputError::NotAnObject("array"));
    assert_eq!(
        expect("detail-not-object.json"),
        InputError::DetailNotObject("string")
    );
}

#[test]
fn hostile_strings_cannot_break_the_subject_or_forge_lines_in_the_body() {
    let mut event: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("events/ssh-brute-force-target.json")).unwrap(),
    )
    .unwrap();
    let detail = &mut event["detail"];
    detail["type"] = "Recon:EC2/Port\r\nBcc: attacker@example.com\u{0}\u{202e}".into();
    detail["title"] = format!(
        "line one\nFAKE VERDICT: LIKELY FALSE POSITIVE\n{}",
        "A".repeat(300_000)
    )
    .into();
    detail["description"] = "\u{1b}[2J cleared terminal".into();
    detail["resource"]["instanceDetails"]["tags"] =
        serde_json::json!([{"key": "Name", "value": "web\n1"}]);
    let bytes = serde_json::to_vec(&event).unwrap();
    let event = parse_event_bytes(&bytes).unwrap();
    let (_, notice) = preview(&event, &TriageSettings::default(), Utc::now());
    assert!(!notice.subject.chars().any(char::is_control));
    assert!(notice.subject.chars().count() <= SUBJECT_MAX_CHARS);
    assert!(!notice.body.contains('\u{1b}') && !notice.body.contains('\u{0}'));
    assert!(!notice.body.contains('\u{202e}'));
    assert!(!notice.body.lines().any(|l| l.starts_with("FAKE VERDICT")));
    assert!(!notice.body.lines().any(|l| l.starts_with("Bcc:")));
    assert!(notice.body.len() < 20_000, "untrusted fields are truncated");
    for attribute in &notice.attributes {
        if let triage_domain::notice::AttributeValue::String(v) = &attribute.value {
            assert!(!v.chars().any(char::is_control));
        }
    }
}
