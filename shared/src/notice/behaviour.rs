//! "Behaviour observed": the ATT&CK techniques the window's calls show, each with the calls and
//! times that show it, and the first steps each technique calls for.

use crate::behaviour::Observation;
use crate::enrich::ContextSummary;
use crate::text::field;
use std::fmt::Write;

/// The section, when the catalogue recognised anything.
pub fn write_behaviour(out: &mut String, context: Option<&ContextSummary>) -> std::fmt::Result {
    let Some(c) = context.filter(|c| !c.behaviours.is_empty()) else {
        return Ok(());
    };
    writeln!(out, "\nBehaviour observed (scope window)")?;
    for o in &c.behaviours {
        writeln!(
            out,
            "  {} {} ({}): {}",
            o.technique.id,
            o.technique.name,
            o.technique.tactic,
            field(&o.summary, 160)
        )?;
        for call in &o.calls {
            writeln!(
                out,
                "    {} {}{}{}",
                call.time.format("%Y-%m-%d %H:%M:%S"),
                field(&call.api, 80),
                call.target
                    .as_deref()
                    .map(|t| format!(" {}", field(t, 100)))
                    .unwrap_or_default(),
                if call.denied { " (denied)" } else { "" }
            )?;
        }
    }
    Ok(())
}

/// The first thing to do about each technique seen, strongest first, without repeats.
pub fn first_steps(observations: &[Observation]) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    for o in observations {
        let step = match o.technique.tactic {
            "Defense Evasion" => {
                "Restore what was turned off (trail logging, event selectors, flow logs, detectors) now, then treat the principal as compromised: an intruder blinds the logs first."
            }
            "Exfiltration" => {
                "Revoke the share or policy that gave another account access (snapshot, image, bucket), and find out whether that account already copied the data."
            }
            "Persistence" | "Privilege Escalation" => {
                "Delete or disable what the principal created or widened (users, access keys, login profiles, role trusts, policies): that is how an intruder stays after the first key is revoked."
            }
            "Credential Access" => {
                "Rotate every secret, parameter and password the principal read (listed in Behaviour observed): assume they are in the intruder's hands."
            }
            "Execution" | "Lateral Movement" => {
                "Check what ran on the instances the principal reached (SSM command history, user data, session logs) and isolate any that ran unknown code."
            }
            "Impact" => {
                "Stop the damage first: terminate unknown instances, cancel key deletions, restore deleted resources from backups."
            }
            "Discovery" => {
                "Disable the principal's credentials if the owner does not recognise the enumeration; discovery is the step before persistence."
            }
            _ => continue,
        };
        if !steps.iter().any(|s| s == step) {
            steps.push(step.to_owned());
        }
    }
    steps
}
