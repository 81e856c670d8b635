//! "Do next": short, ordered, specific to the finding family, naming the resource involved.

use crate::classify::Signal;
use crate::classify::{Assessment, Verdict};
use crate::enrich::ContextSummary;
use crate::finding::{Family, Finding};
use crate::text::field;

pub fn for_finding(
    f: &Finding,
    assessment: &Assessment,
    context: Option<&ContextSummary>,
) -> Vec<String> {
    let verdict = assessment.verdict;
    let shown = |signal: Signal| assessment.evidence.iter().any(|e| e.signal == signal);
    if f.is_sample() {
        return vec![
            "Nothing to investigate: this is a GuardDuty sample finding. Archive it.".into(),
            "If you did not generate samples, find who called CreateSampleFindings in CloudTrail."
                .into(),
        ];
    }
    let r = f.resource_summary();
    let id = field(r.id.as_deref().unwrap_or("the resource"), 80);
    let mut steps: Vec<String> = match f.family() {
        // The context showed the attacker got in: containment first, then the investigation.
        Family::BruteForce if shown(Signal::AcceptedAfterBruteForce) => vec![
            format!("Treat {id} as compromised: sessions from the attacking IP were accepted. Isolate it (quarantine security group) and snapshot its volumes."),
            format!("Check who logged in: {id}'s login logs (auth.log / Windows Security log) at the accepted sessions' times (see Context)."),
            format!("Rotate credentials reachable from {id}: its instance role's sessions, keys and secrets on disk."),
        ],
        Family::BruteForce => vec![
            format!("Check {id}'s login logs (auth.log / Windows Security log) for a successful login from the remote IP."),
            "Restrict the port's security group rule to known sources; prefer SSM Session Manager over open SSH/RDP.".into(),
            format!("If {id} is the ACTOR: isolate it (quarantine security group) and snapshot its volumes."),
        ],
        Family::PortProbe => vec![
            format!("Confirm the probed port on {id} must be reachable from the internet; close it in the security group if not."),
            "Check the service on that port is patched and requires authentication.".into(),
        ],
        Family::RootCredential => vec![
            "Confirm with the account owner that root was used on purpose, at that time, from that IP.".into(),
            "If not: reset the root password, rotate root MFA, delete any root access keys.".into(),
            "Review everything root did in CloudTrail in the scope window.".into(),
        ],
        Family::CredentialExfiltration => vec![
            format!("Revoke the role's active sessions (IAM console: Revoke active sessions) for {id}'s role."),
            "List what the credentials did from outside AWS in CloudTrail (sourceIPAddress in the scope window).".into(),
            "Find how they left the instance: SSRF, IMDSv1 exposure; enforce IMDSv2.".into(),
        ],
        Family::CryptoMining => vec![
            format!("Isolate {id} (quarantine security group) and snapshot its volumes for forensics."),
            "Find the mining process and how it got there (user data, container image, exposed service).".into(),
            "Rebuild the workload from a known-good image; rotate credentials it could reach.".into(),
        ],
        Family::CommandAndControl | Family::Lambda => vec![
            format!("Isolate {id} and capture its memory/volumes before changing anything."),
            "Block the remote IP/domain at the network firewall / DNS firewall.".into(),
            "Rotate credentials reachable from the workload's role.".into(),
        ],
        Family::OutboundAbuse => vec![
            format!("Isolate {id}: it is attacking others (denial of service, spam or sweeps), which also breaks the AWS acceptable use policy."),
            format!("Find the process sending the traffic on {id} and how it got there; snapshot the volumes first."),
            "Rotate credentials reachable from the workload's role.".into(),
        ],
        Family::NetworkAnomaly => vec![
            format!("Compare {id}'s unusual traffic (port, volume, resolver) with its owner's expectations: a new deployment, or something that should not be there."),
            "If nobody expects it: isolate the workload and look for the process behind the traffic.".into(),
        ],
        Family::MaliciousCaller => vec![
            format!("Ask the owner of {id} whether they work from the listed address; threat lists include shared VPNs and cloud ranges."),
            "If not: disable the access key, revoke sessions, and review what it did in CloudTrail.".into(),
        ],
        Family::Stealth => vec![
            format!("Confirm with the owner of {id} that the change was planned (change ticket, pipeline run)."),
            "Planned or not, put logging and the password policy back to your baseline: a gap in the logs hides everything after it.".into(),
        ],
        Family::PenTest => vec![
            "Check whether a penetration test is scheduled for this account and uses that address.".into(),
            format!("If not: treat {id}'s credentials as stolen: disable them and review what they did in CloudTrail."),
        ],
        Family::S3Exposure => vec![
            format!("Check who changed {id}'s public access and whether the bucket must be public; re-enable Block Public Access if not."),
            "Review the bucket's data events since the change for reads from unknown addresses.".into(),
        ],
        Family::Tor => vec![
            format!("Check whether {id} is expected to use Tor; if not, treat its credentials as compromised."),
            "Review the calls made through Tor in CloudTrail and rotate the credentials used.".into(),
        ],
        Family::S3 => vec![
            format!("Review the S3 data events on {id} in the scope window: who read, wrote or changed policies."),
            "Check the bucket policy and Block Public Access settings; revert unexpected changes.".into(),
            "Rotate the credentials of the calling principal if the caller is not recognised.".into(),
        ],
        Family::IamAnomaly => vec![
            format!("Ask the owner of {id} whether they made these calls."),
            "If not: disable the access key, revoke sessions, and review what it changed in CloudTrail.".into(),
        ],
        Family::Kubernetes => vec![
            format!("Review the Kubernetes audit log of {id} for the user and verb in the finding."),
            "Remove anonymous / over-broad RBAC bindings; cordon affected nodes if a workload is involved.".into(),
        ],
        Family::Rds => vec![
            format!("Review {id}'s login history; reset the password of the user that logged in."),
            "Restrict the database's security group and make it private if it is public.".into(),
        ],
        Family::Malware | Family::Runtime => vec![
            format!("Isolate {id} and preserve evidence (snapshot, container image digest)."),
            "Identify the file or process named in the finding and how it got there.".into(),
            "Rebuild from a known-good image; rotate credentials reachable from it.".into(),
        ],
        Family::AttackSequence => vec![
            "Open the attack sequence in the GuardDuty console: it lists every signal and resource involved.".into(),
            "Disable the principal's credentials and revoke its sessions while you investigate.".into(),
            "Review the sensitive calls listed in the finding in CloudTrail.".into(),
        ],
        Family::Other => vec![
            "Read the finding's description in the GuardDuty console and the type's documentation.".into(),
            format!("Review CloudTrail and VPC Flow Logs for {id} in the scope window."),
        ],
    };
    // What the other log sources name (the addresses a lookup got, what a Kubernetes user did
    // next) goes where each source says.
    if let Some(c) = context {
        c.sources.next_steps(f, verdict, &mut steps);
    }
    if shown(Signal::SensitiveCallsFromNewNetwork) {
        steps.insert(
            0,
            "Review and revert the sensitive calls made from the new network (see Context): users, keys, roles and policies created there are how an intruder stays."
                .into(),
        );
    }
    // Behaviour recognised in the window says more than the finding type: its steps lead,
    // unless the verdict is that it is benign.
    if verdict != Verdict::LikelyFalsePositive
        && let Some(c) = context
    {
        let first = super::behaviour::first_steps(&c.behaviours);
        steps.splice(0..0, first);
    }
    // A benign lean rests on readings that can be checked: checking them closes the finding.
    if verdict != Verdict::LikelyTruePositive
        && let Some(c) = context
    {
        let confirm = super::behaviour::confirm_steps(&c.benign);
        steps.splice(0..0, confirm);
    }
    if verdict == Verdict::LikelyFalsePositive {
        steps.push(
            "If this is confirmed benign, add a GuardDuty suppression rule for this pattern rather than ignoring the notice."
                .into(),
        );
    }
    steps
}
