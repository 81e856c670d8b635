//! The subject line: verdict first, then what and where, readable on a phone lock screen.
//!
//! AWS rejects subjects of 100 characters or more and any control character (moto, our local
//! server, accepts them), so both limits are enforced here.

use super::{NoticeInput, NoticeKind};
use crate::classify::Verdict;
use crate::text::{clip, one_line};

/// The longest subject SNS accepts.
pub const SUBJECT_MAX_CHARS: usize = 99;

/// `[LIKELY TP 86] High UnauthorizedAccess:EC2/SSHBruteForce i-0abc web-1 | 123456789012 eu-west-1`,
/// or with context `[LIKELY TP 67] Low EC2/SSHBruteForce - accepted sessions | 123456789012 eu-west-1`
pub fn render(input: &NoticeInput<'_>) -> String {
    let a = input.assessment;
    let f = &input.event.finding;
    let update = match input.kind {
        NoticeKind::New => "",
        NoticeKind::Update(_) => "UPDATE ",
    };
    let head = match a.verdict {
        Verdict::LikelyFalsePositive if f.is_sample() => format!("[{update}SAMPLE] "),
        _ => format!("[{update}{} {}] ", a.verdict.tag(), a.confidence),
    };
    let tail = format!(
        " | {}",
        one_line(&format!(
            "{} {}",
            input.event.account().unwrap_or("unknown-account"),
            input.event.region().unwrap_or("unknown-region")
        ))
    );
    let resource = f.resource_summary();
    let head_len = head.chars().count();
    // The account and region keep their place unless they alone would not fit.
    let tail = clip(&tail, SUBJECT_MAX_CHARS.saturating_sub(head_len + 20));
    let room = SUBJECT_MAX_CHARS.saturating_sub(head_len + tail.chars().count());
    // Most important first; a later part is added only if it fits whole. What the context
    // showed comes before the resource, dropping the type's threat purpose if it must.
    let finding_type = one_line(&f.finding_type);
    let mut what = clip(&format!("{} {finding_type}", f.severity.band()), room);
    if let Some(phrase) = a.subject_phrase() {
        let short_type = finding_type
            .split_once(':')
            .map_or(finding_type.as_str(), |(_, rest)| rest);
        for candidate in [&finding_type, short_type] {
            let line = format!("{} {candidate} - {phrase}", f.severity.band());
            if line.chars().count() <= room {
                what = line;
                break;
            }
        }
    }
    for part in [resource.id.as_deref(), resource.name.as_deref()]
        .into_iter()
        .flatten()
    {
        let part = one_line(part);
        if part.is_empty() || what.chars().count() + 1 + part.chars().count() > room {
            break;
        }
        what.push(' ');
        what.push_str(&part);
    }
    clip(&format!("{head}{what}{tail}"), SUBJECT_MAX_CHARS)
}
