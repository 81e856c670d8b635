//! The Context section's Kubernetes lines: what the finding's user did in the scope window, told
//! the way an analyst reads the EKS audit log: how much and from where, the verbs and
//! resources, the finding's own call, then the other notable calls one by one, and who else
//! called from the same address. User names, agents, resources and object names come from the
//! client's request: every one is sanitised and clipped.

use super::{KubeSummary, KubeUserActivity};
use crate::text::field;
use std::fmt::Write;

pub(super) fn write_kube(out: &mut String, s: &KubeSummary) -> std::fmt::Result {
    writeln!(
        out,
        "  Kubernetes (EKS audit logs, cluster {}, scope window):",
        field(&s.cluster, 60)
    )?;
    match &s.user {
        Some(u) => write_user(out, u)?,
        None => writeln!(
            out,
            "    The finding's user: no calls in the window's audit logs (not logged, or not ingested)"
        )?,
    }
    if s.other_users > 0 {
        let others: Vec<String> = s
            .others_from_addresses
            .iter()
            .map(|(user, calls, denied)| {
                let refused = if *denied > 0 {
                    format!(", {denied} refused")
                } else {
                    String::new()
                };
                format!("{} ({calls} calls{refused})", field(user, 60))
            })
            .collect();
        writeln!(
            out,
            "    From the finding's address(es), {} other user(s): {}",
            s.other_users,
            others.join(", ")
        )?;
    }
    Ok(())
}

fn write_user(out: &mut String, u: &KubeUserActivity) -> std::fmt::Result {
    let addresses: Vec<String> = u
        .addresses
        .iter()
        .map(|(ip, n)| format!("{} x{n}", field(ip, 45)))
        .collect();
    let mut line = format!(
        "    {}: {} calls ({} refused)",
        field(&u.username, 80),
        u.calls,
        u.denied
    );
    if !addresses.is_empty() {
        let _ = write!(line, " from {}", addresses.join(", "));
    }
    if let Some(agent) = u.user_agents.iter().next() {
        let more = u.user_agents.len() - 1;
        let _ = write!(line, "; agent {}", field(agent, 60));
        if more > 0 {
            let _ = write!(line, " (+{more})");
        }
    }
    writeln!(out, "{line}")?;
    let counts = |top: &[(String, u64)]| {
        top.iter()
            .map(|(name, n)| format!("{} {n}", field(name, 40)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(
        out,
        "    Verbs: {}; resources: {}",
        counts(&u.top_verbs),
        counts(&u.top_resources)
    )?;
    if !u.top_refused.is_empty() {
        writeln!(
            out,
            "    Refused: {} distinct action(s); most: {}",
            u.refused_actions,
            counts(&u.top_refused)
        )?;
    }
    match &u.own_call {
        Some(c) => writeln!(out, "    The finding's call in the log: {}", c)?,
        None => writeln!(
            out,
            "    The finding's call: not among the notable calls kept for the user"
        )?,
    }
    if u.other_calls_kept == 0 {
        return writeln!(out, "    Other notable calls: none");
    }
    let listed: Vec<String> = u
        .other_calls
        .iter()
        .map(|c| {
            let kinds: Vec<&str> = c.kinds.iter().map(|k| k.label()).collect();
            let refused = if c.denied { ", refused" } else { "" };
            format!("{} [{}{refused}]", c, kinds.join(", "))
        })
        .collect();
    let more = u.other_calls_kept - u.other_calls.len();
    writeln!(out, "    Other notable calls ({}):", u.other_calls_kept)?;
    for call in listed {
        writeln!(out, "      {call}")?;
    }
    if more > 0 {
        writeln!(out, "      ... and {more} more")?;
    }
    Ok(())
}

/// What the audit log adds to "Do next": when the user went further, undo each step it took.
pub(super) fn next_steps(s: &KubeSummary) -> Vec<String> {
    let Some(u) = &s.user else {
        return Vec::new();
    };
    if u.further_kinds.is_empty() {
        return Vec::new();
    }
    let user = field(&u.username, 80);
    vec![format!(
        "Revoke {user}'s access to {} (its access entry or aws-auth mapping, its tokens) and undo what it did after the finding (see Context): delete the pods it started, the role bindings it made, and rotate the secrets it read.",
        field(&s.cluster, 60)
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::{NotableCall, NotableKind};
    use chrono::{TimeZone, Utc};

    fn call(resource: &str, kind: NotableKind, denied: bool) -> NotableCall {
        NotableCall {
            time: Utc.with_ymd_and_hms(2026, 1, 30, 12, 5, 0).unwrap(),
            kinds: [kind].into_iter().collect(),
            verb: "create".into(),
            resource: resource.into(),
            namespace: Some("kube-system".into()),
            name: Some("coredns\nFAKE LINE".into()),
            code: Some(if denied { 403 } else { 201 }),
            denied,
        }
    }

    #[test]
    fn the_user_then_its_calls_on_short_sanitised_lines() {
        let s = KubeSummary {
            cluster: "prod".into(),
            user: Some(KubeUserActivity {
                username: "alice".into(),
                calls: 42,
                denied: 3,
                addresses: vec![("10.0.0.9".into(), 40)],
                user_agents: ["kubectl/v1.31.2".to_string()].into(),
                top_verbs: vec![("get".into(), 30), ("create".into(), 12)],
                top_resources: vec![("pods".into(), 20)],
                top_refused: vec![("list secrets".into(), 3)],
                refused_actions: 1,
                own_call: Some(call("pods", NotableKind::PrivilegedContainer, false)),
                other_calls: vec![call("pods/exec", NotableKind::PodExec, true)],
                other_calls_kept: 3,
                further_kinds: [NotableKind::SecretRead].into_iter().collect(),
                ..KubeUserActivity::default()
            }),
            others_from_addresses: vec![("system:anonymous".into(), 30, 28)],
            other_users: 1,
        };
        let mut out = String::new();
        write_kube(&mut out, &s).unwrap();
        assert_eq!(
            out,
            "  Kubernetes (EKS audit logs, cluster prod, scope window):
    alice: 42 calls (3 refused) from 10.0.0.9 x40; agent kubectl/v1.31.2
    Verbs: get 30, create 12; resources: pods 20
    Refused: 1 distinct action(s); most: list secrets 3
    The finding's call in the log: 12:05 create pods kube-system/coredns FAKE LINE (201)
    Other notable calls (3):
      12:05 create pods/exec kube-system/coredns FAKE LINE (403) [exec into a pod, refused]
      ... and 2 more
    From the finding's address(es), 1 other user(s): system:anonymous (30 calls, 28 refused)
"
        );
        let steps = next_steps(&s);
        assert_eq!(steps.len(), 1);
        assert!(steps[0].starts_with("Revoke alice's access to prod"));
    }

    #[test]
    fn a_user_absent_from_the_log_is_said_and_asks_nothing_more() {
        let s = KubeSummary {
            cluster: "prod".into(),
            ..KubeSummary::default()
        };
        let mut out = String::new();
        write_kube(&mut out, &s).unwrap();
        assert!(out.contains("no calls in the window's audit logs"), "{out}");
        assert!(next_steps(&s).is_empty());
    }
}
