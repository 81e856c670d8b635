//! The EventBridge rule `CloudTrailApiEventsRule` of `infra/template.yaml` (parameter
//! `CloudTrailApiEvents`): which events of the default bus it hands to the ingest-cloudtrail
//! function. `infra/local/up.sh` creates the rule with the template's pattern, whatever the
//! parameter says, targeting the queue `TRIAGE_CLOUDTRAIL_EVENTS_QUEUE_URL`. The events are real:
//! CloudTrail-via-EventBridge envelopes and CloudTrail records from `tests/fixtures/cloudtrail/`
//! (provenance in its README), a GuardDuty finding from `events/`, and EventBridge events that are
//! not CloudTrail.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use integration_tests::{LocalStack, event, unique};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use triage_aws::ingest::{Trigger, detect_trigger};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the local stack first with `eval \"$(infra/local/up.sh)\"`"
        )
    })
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(path: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/cloudtrail")
        .join(path);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// One event to put on the bus, and whether the rule must pass it.
struct Case {
    label: &'static str,
    source: String,
    detail_type: String,
    detail: Value,
    delivered: bool,
}

impl Case {
    /// A real EventBridge envelope, put with its own source, detail-type and detail.
    fn envelope(label: &'static str, event: &Value, delivered: bool) -> Self {
        Self {
            label,
            source: event["source"].as_str().unwrap().to_owned(),
            detail_type: event["detail-type"].as_str().unwrap().to_owned(),
            detail: event["detail"].clone(),
            delivered,
        }
    }

    /// A real CloudTrail record in an envelope of our own.
    fn wrapped(
        label: &'static str,
        source: &str,
        detail_type: &str,
        record: Value,
        delivered: bool,
    ) -> Self {
        Self {
            label,
            source: source.to_owned(),
            detail_type: detail_type.to_owned(),
            detail: record,
            delivered,
        }
    }

    /// The entry for PutEvents. The label goes into `resources`, which the rule does not look at,
    /// so that this run finds its own events in the shared queue and the detail stays as recorded.
    fn entry(&self, run: &str) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .source(&self.source)
            .detail_type(&self.detail_type)
            .detail(self.detail.to_string())
            .resources(format!("arn:aws:test:::run/{run}/{}", self.label))
            .build()
    }
}

fn cases() -> Vec<Case> {
    let envelope = |path: &str| fixture(&format!("eventbridge_envelope/{path}"));
    let add_tags = envelope("cloud-custodian__event-cloud-trail-appelb-add-tags.json");
    let console_login =
        fixture("stratus_red_team_detonations/aws.initial-access.console-login-without-mfa.json")
            [0]
        .clone();
    // An S3 data event (GetObject of the exfiltration), as CloudTrail sends it to EventBridge when
    // a trail logs the bucket's data events.
    let s3_data_event = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "fixtures/cloudtrail/otrf_security_datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
        ),
    )
    .unwrap()
    .lines()
    .map(|line| serde_json::from_str::<Value>(line).unwrap())
    .find(|record| record["eventCategory"] == "Data" && record["eventName"] == "GetObject")
    .unwrap();
    let finding = event("ssh-brute-force-target.json", &unique("finding"));
    vec![
        // Management write events of three services (eventVersion 1.08, 2022).
        Case::envelope("elb-add-tags", &add_tags, true),
        Case::envelope(
            "apigateway-tag-resource",
            &envelope("cloud-custodian__event-cloud-trail-tag-rest-stage.json"),
            true,
        ),
        Case::envelope(
            "cloudfront-create-distribution",
            &envelope("cloud-custodian__event-cloud-trail-create-distribution.json"),
            true,
        ),
        // A console sign-in, under the detail-type CloudTrail gives it.
        Case::wrapped(
            "console-login",
            "aws.signin",
            "AWS Console Sign In via CloudTrail",
            console_login,
            true,
        ),
        // Not CloudTrail: a GuardDuty finding, a scheduled event, an EC2 state change.
        Case::envelope("guardduty-finding", &finding, false),
        Case::envelope(
            "scheduled-event",
            &envelope("aws-lambda-rust-runtime__example-eventbridge-schedule.json"),
            false,
        ),
        Case::envelope(
            "ec2-state-change",
            &envelope("aws-lambda-rust-runtime__example-eventbridge-event-obj.json"),
            false,
        ),
        // A real record under a source that is not AWS's: what anyone allowed events:PutEvents
        // on the bus could send (AWS refuses `aws.` sources to them, the local server does not).
        Case::wrapped(
            "forged-source",
            "com.example.forger",
            "AWS API Call via CloudTrail",
            add_tags["detail"].clone(),
            false,
        ),
        // A data event: eventCategory Data.
        Case::wrapped(
            "s3-data-event",
            "aws.s3",
            "AWS API Call via CloudTrail",
            s3_data_event,
            false,
        ),
        // A record older than eventVersion 1.07 (2018) has no eventCategory, so the pattern cannot
        // tell it is a management event: not passed (every record CloudTrail sends today has one).
        Case::envelope(
            "pre-1.07-record",
            &envelope("sumologic__guardduty_CreateSampleFindings_event.json"),
            false,
        ),
    ]
}

/// The events of this run that the rule delivered to its queue, by label (deleted from the queue
/// as they are read). Messages of other runs reappear after 2 s for their own reader.
async fn delivered(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    run: &str,
    expected: &BTreeSet<&str>,
) -> BTreeMap<String, Value> {
    let marker = format!("arn:aws:test:::run/{run}/");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut found = BTreeMap::new();
    while Instant::now() < deadline {
        let messages = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(2)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        let mut ours = 0;
        for message in messages {
            let body: Value = serde_json::from_str(message.body().unwrap_or("{}")).unwrap();
            let label = body["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(|resource| resource.strip_prefix(&marker))
                .map(str::to_owned);
            if let Some(label) = label {
                ours += 1;
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .unwrap();
                found.insert(label, body);
            }
        }
        // The local server delivers during PutEvents: once every expected event is in, a receive
        // without any of ours means nothing else of ours is coming.
        if ours == 0 && expected.iter().all(|label| found.contains_key(*label)) {
            break;
        }
    }
    found
}

#[tokio::test]
async fn the_local_rule_has_the_pattern_of_the_template() {
    let stack = LocalStack::start().await;
    let eventbridge = aws_sdk_eventbridge::Client::new(&stack.sdk);
    // The template's pattern as provision.py derives it (the repository's one reader of the
    // template's YAML, with the parameters at their defaults or TRIAGE_LOCAL_PARAMETER_OVERRIDES).
    let root = repository();
    let derived =
        std::process::Command::new(Path::new(&env("TRIAGE_LOCAL_VENV")).join("bin/python"))
            .arg(root.join("infra/local/provision.py"))
            .arg("--print-derived")
            .arg("--template")
            .arg(root.join("infra/template.yaml"))
            .output()
            .unwrap();
    assert!(
        derived.status.success(),
        "provision.py --print-derived: {}",
        String::from_utf8_lossy(&derived.stderr)
    );
    let derived: Value = serde_json::from_slice(&derived.stdout).unwrap();
    let from_template = &derived["cloudtrail_event_pattern"];
    assert!(
        from_template["detail-type"]
            .as_array()
            .is_some_and(|types| types.contains(&"AWS API Call via CloudTrail".into())),
        "{derived}"
    );

    let rule = eventbridge
        .describe_rule()
        .name(env("TRIAGE_CLOUDTRAIL_EVENT_RULE_NAME"))
        .send()
        .await
        .unwrap();
    let provisioned: Value = serde_json::from_str(rule.event_pattern().unwrap()).unwrap();
    assert_eq!(
        &provisioned, from_template,
        "the local rule's pattern is not the template's: run `eval \"$(infra/local/up.sh)\"` again"
    );
    assert_eq!(rule.state().map(|s| s.as_str()), Some("ENABLED"));
}

#[tokio::test]
async fn the_rule_passes_cloudtrail_management_events_and_sign_ins_only() {
    let stack = LocalStack::start().await;
    let eventbridge = aws_sdk_eventbridge::Client::new(&stack.sdk);
    let queue_url = env("TRIAGE_CLOUDTRAIL_EVENTS_QUEUE_URL");
    let run = unique("cloudtrail-rule");
    let cases = cases();

    let put = eventbridge
        .put_events()
        .set_entries(Some(cases.iter().map(|case| case.entry(&run)).collect()))
        .send()
        .await
        .unwrap();
    assert_eq!(put.failed_entry_count(), 0, "{put:?}");

    let expected: BTreeSet<&str> = cases
        .iter()
        .filter(|case| case.delivered)
        .map(|case| case.label)
        .collect();
    let found = delivered(&stack.sqs, &queue_url, &run, &expected).await;
    let got: BTreeSet<&str> = found.keys().map(String::as_str).collect();
    assert_eq!(got, expected, "events the rule passed");

    for case in cases.iter().filter(|case| case.delivered) {
        let body = &found[case.label];
        // The function gets the record as CloudTrail wrote it, in the envelope it tells apart
        // from an SQS batch.
        assert_eq!(body["detail"], case.detail, "{}", case.label);
        assert_eq!(
            body["detail-type"],
            case.detail_type.as_str(),
            "{}",
            case.label
        );
        assert!(
            matches!(detect_trigger(body.clone()), Ok(Trigger::EventBridge(_))),
            "{}: {body}",
            case.label
        );
    }
}
