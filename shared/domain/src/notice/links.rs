//! Console links that take the reader straight to the finding.

use crate::finding::FindingEvent;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Unreserved URL characters stay readable; everything else from the finding is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

fn console_host(partition: Option<&str>) -> &'static str {
    match partition {
        Some("aws-cn") => "console.amazonaws.cn",
        Some("aws-us-gov") => "console.amazonaws-us-gov.com",
        _ => "console.aws.amazon.com",
    }
}

/// (GuardDuty link, Detective link) for the finding.
pub fn for_finding(event: &FindingEvent) -> (String, String) {
    let host = console_host(event.finding.partition.as_deref());
    let region = utf8_percent_encode(event.region().unwrap_or("us-east-1"), COMPONENT);
    let id = utf8_percent_encode(event.finding.id.as_str(), COMPONENT);
    (
        format!("https://{host}/guardduty/home?region={region}#/findings?macros=current&fId={id}"),
        format!("https://{host}/detective/home?region={region}#findings/GuardDuty/{id}"),
    )
}
