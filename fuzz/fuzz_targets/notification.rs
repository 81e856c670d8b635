//! What the ingest functions are invoked with: the payload (`detect_trigger`: an SQS batch, an
//! EventBridge event or a CloudWatch Logs subscription batch, whose identity is derived) and each
//! SQS message body (`parse_notification`: an S3 event notification,
//! bare or inside an SNS envelope), for every log source.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triage_aws::ingest::{
    Announced, CloudTrailSource, FlowLogSource, LogSource, ResolverSource, Trigger, batch_id,
    detect_trigger, parse_notification,
};

fn notification(body: &str) {
    let sources: [&dyn LogSource; 3] = [
        &CloudTrailSource::default(),
        &FlowLogSource::default(),
        &ResolverSource::default(),
    ];
    for source in sources {
        if let Ok(announced) = parse_notification(body, source) {
            for a in &announced {
                if let Announced::Object(object) = a {
                    let _ = object.id();
                    let _ = object.to_string();
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    notification(text);
    let Ok(payload) = serde_json::from_str(text) else {
        return;
    };
    match detect_trigger(payload) {
        Ok(Trigger::Sqs(event)) => {
            for message in &event.records {
                if let Some(body) = message.body.as_deref() {
                    notification(body);
                }
            }
        }
        Ok(Trigger::LogSubscription(event)) => {
            let _ = batch_id(&event.aws_logs.data);
        }
        _ => {}
    }
});
