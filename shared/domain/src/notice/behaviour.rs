//! "Behaviour observed": the ATT&CK techniques the window's calls show, each with the calls and
//! times that show it, and the first steps each technique calls for.

use crate::behaviour::{BenignReading, Observation};
use crate::classify::Signal;
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

/// How to confirm each benign reading the verdict leans on: each is evidence, not proof (user
/// agents are set by the client), so the check closes the finding.
pub fn confirm_steps(readings: &[BenignReading]) -> Vec<String> {
    readings
        .iter()
        .filter_map(|r| {
            Some(match r.signal {
                Signal::InfrastructureAsCode => "Match the changes to a pipeline run or an approved plan at those times; if none matches, treat the credentials as stolen (any client can send that user agent).",
                Signal::AwsServiceActing => "Find the stack, rule or scanner that had the AWS service make these calls, and confirm it is yours and configured as intended.",
                Signal::MfaSession => "Confirm with the person who holds the MFA device that the session and its calls were theirs.",
                Signal::RestrictiveChanges => "Confirm the containment was an incident responder's, and that no administrator was locked out.",
                Signal::OwnTeardown => "Confirm the resources created and deleted belong to a test or deployment you know of.",
                _ => return None,
            })
        })
        .map(str::to_owned)
        .collect()
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
