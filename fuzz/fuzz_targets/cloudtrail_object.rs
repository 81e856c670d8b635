//! A CloudTrail object in any shape (gzip or plain S3 delivery, JSON array, NDJSON, EventBridge
//! event, single record) through `cloudtrail::parse_object`, then what the aggregator derives
//! from each record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triage_logs::cloudtrail::{credential_issue, parse_object};
use triage_domain::activity::{EntityKey, notable_reasons, parse_event_time};

fuzz_target!(|data: &[u8]| {
    let Ok(object) = parse_object(data) else {
        return;
    };
    for record in &object.records {
        let _ = notable_reasons(record);
        let _ = credential_issue(record);
        let _ = record.principal_type();
        let _ = record.mfa();
        let _ = record.error_code();
        let _ = EntityKey::arn(record.event_name());
        if let Some(time) = record.raw().event_time.as_deref() {
            let _ = parse_event_time(time);
        }
    }
});
