//! The soak's deliveries, built from real findings: every GuardDuty finding of `events/` and of
//! the corpus (`../shared/corpus/guardduty`), reused round-robin under fresh IDs.

use super::SoakSettings;
use anyhow::Context;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One event as EventBridge would hand it to the function.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub finding_id: String,
    pub event: Value,
}

#[derive(Debug, Default)]
pub struct Workload {
    pub findings: usize,
    /// Every finding once, and duplicates of some, shuffled.
    pub first: Vec<Delivery>,
    /// Material updates of some findings, and duplicates of some of those, shuffled.
    pub updates: Vec<Delivery>,
    /// `(finding ID, notice sequence)` of every notice that must arrive.
    pub expected: BTreeSet<(String, u64)>,
    pub ids: Vec<String>,
}

impl Workload {
    pub fn build(settings: &SoakSettings) -> anyhow::Result<Self> {
        let templates = templates()?;
        anyhow::ensure!(
            !templates.is_empty(),
            "no GuardDuty finding to build the soak from"
        );
        let mut rng = fastrand::Rng::with_seed(settings.seed);
        let run = uuid::Uuid::new_v4().simple().to_string();
        let mut out = Workload {
            findings: settings.findings,
            ..Workload::default()
        };
        for i in 0..settings.findings {
            let id = format!("soak-{run}-{i}");
            let event = with_id(&templates[i % templates.len()], &id);
            let delivery = Delivery {
                finding_id: id.clone(),
                event: event.clone(),
            };
            if rng.f64() < settings.duplicates {
                out.first.push(delivery.clone());
            }
            out.first.push(delivery);
            out.expected.insert((id.clone(), 1));
            if rng.f64() < settings.updates {
                let update = Delivery {
                    finding_id: id.clone(),
                    event: material_update(&event),
                };
                if rng.f64() < settings.duplicates {
                    out.updates.push(update.clone());
                }
                out.updates.push(update);
                out.expected.insert((id.clone(), 2));
            }
            out.ids.push(id);
        }
        rng.shuffle(&mut out.first);
        rng.shuffle(&mut out.updates);
        Ok(out)
    }
}

/// The finding inside an event (EventBridge envelope or bare finding).
fn finding_mut(event: &mut Value) -> &mut Value {
    if event.get("detail").is_some_and(Value::is_object) {
        &mut event["detail"]
    } else {
        event
    }
}

fn with_id(template: &Value, id: &str) -> Value {
    let mut event = template.clone();
    finding_mut(&mut event)["id"] = id.into();
    event
}

/// The same finding re-emitted after its activity grew tenfold, an hour later: GuardDuty's
/// update of a finding, and a material one (the count jumped).
fn material_update(event: &Value) -> Value {
    let mut update = event.clone();
    let finding = finding_mut(&mut update);
    let count = finding["service"]["count"].as_i64().unwrap_or(1).max(1);
    finding["service"]["count"] = (count * 10).into();
    let updated = finding["updatedAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc));
    finding["updatedAt"] = (updated + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        .into();
    update
}

/// Every JSON file under `dir`.
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// The notifiable GuardDuty findings of `events/` and the corpus: an ID, a type, not archived.
fn templates() -> anyhow::Result<Vec<Value>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in [
        root.join("events"),
        root.join("../shared/corpus/guardduty/findings_raw"),
        root.join("../shared/corpus/guardduty/eventbridge"),
    ] {
        json_files(&dir, &mut files);
    }
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let Ok(mut event) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let finding = finding_mut(&mut event);
        let is_finding = finding.get("id").is_some() && finding.get("type").is_some();
        let archived = finding["service"]["archived"].as_bool() == Some(true);
        if is_finding && !archived {
            out.push(event);
        }
    }
    Ok(out)
}
