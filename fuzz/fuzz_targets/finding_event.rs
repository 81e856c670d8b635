//! A GuardDuty finding event (EventBridge envelope or bare finding) as the triage function
//! receives it: parsed, then classified and rendered as a notice, since rendering reads every
//! attacker-chosen string of the finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triage_domain::finding::parse_event_bytes;
use triage_domain::pipeline::{TriageSettings, preview};

fuzz_target!(|data: &[u8]| {
    let Ok(event) = parse_event_bytes(data) else {
        return;
    };
    let now = chrono::DateTime::from_timestamp(1_780_000_000, 0).expect("valid time");
    let _ = preview(&event, &TriageSettings::default(), now);
});
