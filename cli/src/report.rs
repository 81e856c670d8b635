//! One line of output per input: the JSON contract of `--json` and its readable twin.

use serde::Serialize;
use std::path::Path;
use triage_domain::classify::Assessment;
use triage_domain::finding::FindingEvent;
use triage_domain::notice::Notice;
use triage_domain::pipeline::{Disposition, Outcome};

/// The keys of `--json` output are a contract (see README): add keys, never rename them.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub file: String,
    pub finding_id: Option<String>,
    pub finding_type: Option<String>,
    pub severity: Option<f64>,
    pub verdict: Option<&'static str>,
    pub confidence: Option<u8>,
    pub subject: Option<String>,
    pub published: bool,
    pub message_id: Option<String>,
    /// Why a notice was or was not published.
    pub reason: Option<&'static str>,
    pub error: Option<String>,
    /// The rendered notice, printed by the readable form of `explain` only.
    #[serde(skip)]
    body: Option<String>,
}

impl Report {
    pub fn for_file(file: &Path) -> Self {
        Self {
            file: file.display().to_string(),
            ..Self::default()
        }
    }

    pub fn failed(mut self, error: String) -> Self {
        self.error = Some(error);
        self
    }

    pub fn describe(&mut self, event: &FindingEvent) {
        self.finding_id = Some(event.finding.id.to_string());
        self.finding_type = Some(event.finding.finding_type.clone());
        self.severity = Some(event.finding.severity.score());
    }

    fn assess(&mut self, assessment: &Assessment) {
        self.verdict = Some(assessment.verdict.as_str());
        self.confidence = Some(assessment.confidence);
    }

    pub fn with_outcome(mut self, outcome: &Outcome) -> Self {
        self.assess(&outcome.assessment);
        self.subject = outcome.notice.as_ref().map(|n| n.subject.clone());
        if let Disposition::Published { message_id, .. } = &outcome.disposition {
            self.published = true;
            self.message_id = Some(message_id.clone());
        }
        self.reason = Some(outcome.disposition.reason());
        self
    }

    pub fn with_preview(&mut self, assessment: &Assessment, notice: &Notice, archived: bool) {
        self.assess(assessment);
        self.subject = Some(notice.subject.clone());
        self.body = Some(notice.body.clone());
        self.reason = Some(if archived {
            "explain only: archived, the pipeline would not publish it"
        } else {
            "explain only: nothing written or published"
        });
    }

    pub fn print(&self, json: bool) {
        if json {
            // Serialising a struct of strings and numbers cannot fail.
            println!("{}", serde_json::to_string(self).unwrap_or_default());
            return;
        }
        println!("== {}", self.file);
        if let Some(error) = &self.error {
            println!("   ERROR: {error}");
            return;
        }
        println!(
            "   {} ({}/100)  {}",
            self.verdict.unwrap_or("?"),
            self.confidence.unwrap_or(0),
            self.finding_type.as_deref().unwrap_or("?")
        );
        if let Some(subject) = &self.subject {
            println!("   subject: {subject}");
        }
        match &self.message_id {
            Some(id) => println!("   {} (MessageId {id})", self.reason.unwrap_or("")),
            None => println!("   {}", self.reason.unwrap_or("")),
        }
        if let Some(body) = self.body.as_deref().filter(|_| {
            self.message_id.is_none() && self.reason.is_some_and(|r| r.starts_with("explain"))
        }) {
            for line in body.lines() {
                println!("   | {line}");
            }
        }
        println!();
    }
}
