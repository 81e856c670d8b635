//! Volume: each call is routine, many of them across many resources within the window is not.
//! Thresholds sit where a person or an application doing its job stays well below: an
//! application reads its own one or two secrets, an administrator fetches the password of the one
//! instance they connect to, a console page's Describe calls are left out.

use super::techniques::*;
use super::telling::user_data;
use super::{
    CALLS_SHOWN, INSTANCES_AT, MODERATE, Observation, STRONG, call_ref, denied, plural, target,
};
use crate::activity::{NotableEvent, NotableReason, is_auth_error};
use crate::behaviour::calls::{is_console_user_agent, is_read_only};
use crate::behaviour::{CallRef, WindowCalls};
use std::collections::BTreeSet;

/// Three failed console sign-ins or more, then one that worked: a password guessed (or
/// sprayed) and found. People mistype once or twice and then get in; the failures alone are
/// noise on an exposed sign-in page and are not counted.
const FAILED_SIGN_INS_AT: usize = 3;

pub(super) fn console_password_guessing(w: &WindowCalls) -> Option<Observation> {
    let sign_ins: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| {
            e.reasons.contains(&NotableReason::ConsoleSignIn) && e.event_name == "ConsoleLogin"
        })
        .collect();
    let success = sign_ins.iter().find(|e| e.error_code.is_none())?;
    let failures: Vec<&NotableEvent> = sign_ins
        .iter()
        .copied()
        .filter(|e| e.error_code.is_some() && e.time <= success.time)
        .collect();
    (failures.len() >= FAILED_SIGN_INS_AT).then_some(())?;
    let mut calls: Vec<CallRef> = failures
        .iter()
        .take(CALLS_SHOWN - 1)
        .map(|e| call_ref(e))
        .collect();
    calls.push(call_ref(success));
    Some(Observation {
        technique: &PASSWORD_GUESSING,
        weight: STRONG,
        summary: format!(
            "{} failed console sign-ins, then one that worked at {}",
            failures.len(),
            success.time.format("%H:%M:%S")
        ),
        calls,
    })
}

/// Reads of five different secrets or more within the window: an application reads its own one
/// or two, an intruder reads everything its keys can reach. Every name a call reads counts (one
/// `GetParameters` may name ten); a read that names none counts as one more.
const SECRETS_AT: usize = 5;

pub(super) fn secrets_harvest(w: &WindowCalls) -> Option<Observation> {
    let reads: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| e.reasons.contains(&NotableReason::SecretRead))
        .filter(|e| e.event_name != "GetPasswordData")
        .collect();
    let mut distinct: BTreeSet<String> = BTreeSet::new();
    for (i, e) in reads.iter().enumerate() {
        if e.details.secrets.is_empty() {
            distinct.insert(format!("#{i}"));
        }
        distinct.extend(e.details.secrets.iter().cloned());
    }
    (distinct.len() >= SECRETS_AT).then_some(())?;
    let denied_count = reads.iter().filter(|e| denied(e)).count();
    Some(Observation {
        technique: &SECRETS_HARVEST,
        weight: STRONG,
        summary: format!(
            "{} of {} secrets or decrypted parameters{}",
            plural(reads.len(), "read"),
            distinct.len(),
            if denied_count > 0 {
                format!(" ({denied_count} denied)")
            } else {
                String::new()
            }
        ),
        calls: reads
            .iter()
            .take(CALLS_SHOWN)
            .map(|e| call_ref(e))
            .collect(),
    })
}

/// Windows administrator passwords or instance user data (where bootstrap secrets live) read
/// across several instances: an administrator needs the one instance they connect to.
pub(super) fn instance_credentials_harvest(w: &WindowCalls) -> Option<Observation> {
    let reads: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| {
            e.event_name == "GetPasswordData"
                || (e.event_name == "DescribeInstanceAttribute" && user_data(e, w))
        })
        .collect();
    let instances: BTreeSet<&str> = reads
        .iter()
        .map(|e| target(e, "instanceId").unwrap_or("?"))
        .collect();
    let many = instances.len() >= INSTANCES_AT || reads.len() >= 2 * INSTANCES_AT;
    many.then_some(())?;
    let denied_count = reads.iter().filter(|e| denied(e)).count();
    Some(Observation {
        technique: &UNSECURED_CREDENTIALS,
        weight: STRONG,
        summary: format!(
            "{} of instance passwords or user data across {} ({denied_count} denied)",
            plural(reads.len(), "read"),
            plural(instances.len(), "instance"),
        ),
        calls: reads
            .iter()
            .take(CALLS_SHOWN)
            .map(|e| call_ref(e))
            .collect(),
    })
}

/// Twenty distinct read APIs across four services or more, outside the console: an
/// application's polling stays within a service or two, and the console's pages (which call
/// dozens of Describe APIs for one person browsing) are left out; enumeration tools walk them
/// all through the SDK or the CLI.
const DISCOVERY_APIS_AT: usize = 20;
const DISCOVERY_SERVICES_AT: usize = 4;

pub(super) fn discovery_burst(w: &WindowCalls) -> Option<Observation> {
    let tool_reads = || {
        w.activity
            .iter()
            .filter(|r| is_read_only(None, &r.event_name) && !is_console_user_agent(&r.user_agent))
    };
    let reads: BTreeSet<(&str, &str)> = tool_reads()
        .map(|r| (r.event_source.as_str(), r.event_name.as_str()))
        .collect();
    let services: BTreeSet<&str> = reads.iter().map(|(s, _)| *s).collect();
    (reads.len() >= DISCOVERY_APIS_AT && services.len() >= DISCOVERY_SERVICES_AT).then_some(())?;
    let calls: u64 = tool_reads().map(|r| r.count).sum();
    Some(Observation {
        technique: &CLOUD_DISCOVERY,
        weight: MODERATE,
        summary: format!(
            "{} distinct list/describe APIs across {} services ({calls} calls)",
            reads.len(),
            services.len()
        ),
        calls: Vec::new(),
    })
}

/// Calls in five regions or more within the window, outside the console: workloads and people
/// live in one to three regions (global services report `us-east-1`); enumeration tools and
/// intruders looking for somewhere unwatched to run walk every region.
const REGIONS_AT: usize = 5;

pub(super) fn region_sweep(w: &WindowCalls) -> Option<Observation> {
    let regions: BTreeSet<&str> = w
        .activity
        .iter()
        .filter(|r| !r.region.is_empty() && !is_console_user_agent(&r.user_agent))
        .map(|r| r.region.as_str())
        .collect();
    (regions.len() >= REGIONS_AT).then_some(())?;
    let shown: Vec<&str> = regions.iter().take(6).copied().collect();
    Some(Observation {
        technique: &REGION_SWEEP,
        weight: MODERATE,
        summary: format!(
            "calls in {} regions ({}{})",
            regions.len(),
            shown.join(", "),
            if regions.len() > 6 { ", ..." } else { "" }
        ),
        calls: Vec::new(),
    })
}

/// Ten distinct APIs refused within the window: someone trying what the credentials may do.
/// A person or a tool with a too-narrow policy hits the same one or two walls repeatedly.
pub const DENIED_APIS_AT: usize = 10;

pub(super) fn denied_probing(w: &WindowCalls) -> Option<Observation> {
    let refused: BTreeSet<(&str, &str)> = w
        .activity
        .iter()
        .filter(|r| is_auth_error(&r.outcome))
        .map(|r| (r.event_source.as_str(), r.event_name.as_str()))
        .collect();
    (refused.len() >= DENIED_APIS_AT).then_some(())?;
    let calls: u64 = w
        .activity
        .iter()
        .filter(|r| is_auth_error(&r.outcome))
        .map(|r| r.count)
        .sum();
    Some(Observation {
        technique: &PERMISSION_PROBING,
        weight: MODERATE,
        summary: format!("{} distinct APIs denied ({calls} calls)", refused.len()),
        calls: Vec::new(),
    })
}

/// Ten deletions of distinct resources or more: teardown by a pipeline looks like this too,
/// which the infrastructure-as-code and own-resources readings recognise.
const DELETIONS_AT: usize = 10;

pub(super) fn mass_deletion(w: &WindowCalls) -> Option<Observation> {
    let deletes: Vec<&NotableEvent> = w
        .events
        .iter()
        .copied()
        .filter(|e| e.error_code.is_none())
        .filter(|e| e.event_name.starts_with("Delete") || e.event_name.starts_with("Terminate"))
        .collect();
    let distinct: BTreeSet<String> = deletes
        .iter()
        .map(|e| format!("{}{:?}", e.event_name, e.targets.first()))
        .collect();
    (distinct.len() >= DELETIONS_AT).then_some(())?;
    Some(Observation {
        technique: &DATA_DESTRUCTION,
        weight: STRONG,
        summary: format!(
            "{} of distinct resources",
            plural(distinct.len(), "deletion")
        ),
        calls: deletes
            .iter()
            .take(CALLS_SHOWN)
            .map(|e| call_ref(e))
            .collect(),
    })
}
