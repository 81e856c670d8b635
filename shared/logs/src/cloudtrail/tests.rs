//! Tests on real records: every CloudTrail file of the shared corpus, copied with attribution to
//! `tests/fixtures/cloudtrail/` (see the README there).

use super::*;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use triage_domain::activity::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cloudtrail")
}

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = fixtures().join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "jsonl"))
        // Panther's index of expected alerts describes the records; it is not CloudTrail.
        .filter(|p| !name(p).ends_with(".index.jsonl"))
        .collect();
    out.sort();
    out
}

fn read(path: &str) -> Vec<u8> {
    let path = fixtures().join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(path: &str) -> ParsedObject {
    parse_object(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn aggregate(path: &str) -> Aggregates {
    aggregate_object(&read(path), &ReadOptions::default(), &Settings::default())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .aggregates
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const STRATUS: &str = "stratus_red_team_detonations";
const DATADOG: &str = "stratus_detonations_2022_datadog_forwarder";
const OTRF: &str = "otrf_security_datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json";
const PANTHER: &str = "panther_rule_tests/panther_cloudtrail_rule_tests.jsonl";

#[test]
fn stratus_detonation_arrays_parse_without_a_skip() {
    let mut total = 0;
    for path in files(STRATUS) {
        let parsed = parse_object(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(parsed.shape, Shape::JsonArray, "{}", name(&path));
        assert_eq!(
            parsed.skipped.total(),
            0,
            "{}: {}",
            name(&path),
            parsed.skipped
        );
        total += parsed.records.len();
    }
    // 310 events from 35 techniques (corpus README).
    assert_eq!(total, 310);
}

#[test]
fn datadog_deliveries_parse_and_the_invalid_one_says_where() {
    for path in files(DATADOG) {
        let result = parse_object(&std::fs::read(&path).unwrap());
        if name(&path) == "aws.execution.ec2-user-data.json" {
            // Upstream is missing a "," between two records before line 112.
            let err = result.unwrap_err();
            assert!(matches!(err, InputError::Json { .. }), "{err}");
            let message = err.to_string();
            assert!(
                message.contains("S3 delivery") && message.contains("line 112"),
                "{message}"
            );
        } else {
            let parsed = result.unwrap();
            assert_eq!(parsed.shape, Shape::S3Delivery);
            assert!(!parsed.records.is_empty());
            assert_eq!(parsed.skipped.total(), 0);
        }
    }
}

#[test]
fn otrf_ndjson_parses_with_exported_timestamps() {
    let parsed = parse(OTRF);
    assert_eq!(parsed.shape, Shape::Ndjson);
    assert_eq!((parsed.records.len(), parsed.skipped.total()), (103, 0));
    assert!(parsed.records.iter().all(|r| r.raw().event_time.is_none()));
}

#[test]
fn panther_rule_tests_parse_and_unusable_records_are_counted_with_a_reason() {
    let parsed = parse(PANTHER);
    assert_eq!(parsed.shape, Shape::Ndjson);
    assert_eq!(parsed.read(), 441);
    // Hand-written test records: some have no eventTime (or only Athena's lower-case
    // `eventtime`), two have a placeholder ("redacted", "...").
    assert_eq!(parsed.skipped.get(SkipReason::MissingEventTime), 22);
    assert_eq!(parsed.skipped.get(SkipReason::InvalidEventTime), 2);
    assert_eq!(parsed.skipped.get(SkipReason::NotAnObject), 0);
    assert_eq!(parsed.records.len(), 441 - 24);
}

#[test]
fn eventbridge_folder_envelopes_records_and_foreign_events() {
    let mut envelopes = 0;
    let mut bare = 0;
    for path in files("eventbridge_envelope") {
        let file = name(&path);
        let result = parse_object(&std::fs::read(&path).unwrap());
        match file.as_str() {
            // Generic EventBridge fixtures (EC2 state change, schedule): not CloudTrail.
            "aws-lambda-rust-runtime__example-eventbridge-event-obj.json"
            | "aws-lambda-rust-runtime__example-eventbridge-schedule.json" => {
                assert!(
                    matches!(result, Err(InputError::NotCloudTrailEvent(_))),
                    "{file}"
                );
            }
            _ => {
                let parsed = result.unwrap_or_else(|e| panic!("{file}: {e}"));
                match parsed.shape {
                    Shape::EventBridge => envelopes += 1,
                    Shape::SingleRecord => bare += 1,
                    other => panic!("{file}: {other}"),
                }
                assert_eq!(parsed.read(), 1, "{file}");
            }
        }
    }
    assert_eq!((envelopes, bare), (10, 14));
    // The Bedrock record has no eventTime: a counted skip, not an error.
    let bedrock = parse(
        "eventbridge_envelope/cloud-custodian__event-cloud-trail-bedrock-create-customization-jobs.json",
    );
    assert_eq!(bedrock.skipped.get(SkipReason::MissingEventTime), 1);
    let sign_in =
        parse("eventbridge_envelope/sumologic__guardduty_CreateSampleFindings_event.json");
    assert_eq!(sign_in.records[0].event_name(), "CreateSampleFindings");
}

#[test]
fn awsdocs_examples_parse_including_the_error_and_insights_examples() {
    let mut records = 0;
    for path in files("awsdocs") {
        let parsed = parse_object(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(parsed.shape, Shape::S3Delivery, "{}", name(&path));
        assert_eq!(parsed.skipped.total(), 0);
        records += parsed.records.len();
    }
    assert_eq!(records, 8);
    let error = parse("awsdocs/cloudtrail-log-file-examples.block06.json");
    assert_eq!(
        error.records[0].error_code(),
        Some("TrailNotFoundException")
    );
}

#[test]
fn records_missing_user_agent_source_ip_or_error_code_parse() {
    // Datadog's forwarder moved userAgent and sourceIPAddress into its own fields.
    let datadog = parse(&format!(
        "{DATADOG}/aws.defense-evasion.cloudtrail-delete.json"
    ));
    let raw = datadog.records[0].raw();
    assert!(raw.user_agent.is_none() && raw.source_ip_address.is_none());
    assert_eq!(datadog.records[0].event_name(), "DeleteTrail");

    let panther = parse(PANTHER);
    let bare = panther
        .records
        .iter()
        .filter(|r| {
            let raw = r.raw();
            raw.user_agent.is_none() && raw.source_ip_address.is_none() && raw.error_code.is_none()
        })
        .count();
    assert!(bare > 0);
    let no_identity = panther
        .records
        .iter()
        .filter(|r| r.user_identity().is_none())
        .count();
    assert!(no_identity > 0);

    // And they aggregate: counted, with absent dimensions.
    let aggregates = aggregate(&format!(
        "{DATADOG}/aws.defense-evasion.cloudtrail-delete.json"
    ));
    assert_eq!(aggregates.summary.records_aggregated, 1);
    assert!(
        aggregates
            .activity
            .iter()
            .all(|a| a.call.user_agent.is_none())
    );
}

#[test]
fn insights_and_service_events_parse() {
    let insights = aggregate("awsdocs/cloudtrail-log-file-examples.block07.json");
    assert_eq!(insights.summary.records_unattributed, 2);
    assert_eq!(insights.notable.len(), 2);
    let start = &insights.notable[0];
    assert_eq!(start.event_type, Some(EventType::AwsCloudTrailInsight));
    assert_eq!(start.event_name, "UpdateInstanceInformation");
    assert_eq!(start.event_source.as_deref(), Some("ssm.amazonaws.com"));
    assert_eq!(start.insight.as_deref(), Some("Start ApiCallRateInsight"));
    assert_eq!(start.reasons, [NotableReason::Insight]);

    let panther = parse(PANTHER);
    let service: Vec<&str> = panther
        .records
        .iter()
        .filter(|r| r.raw().event_type == Some(EventType::AwsServiceEvent))
        .map(Record::event_name)
        .collect();
    assert!(service.contains(&"CreateAccountResult"), "{service:?}");
    assert!(service.contains(&"Authenticate"), "{service:?}");
    let vpce = panther
        .records
        .iter()
        .filter(|r| r.raw().event_type == Some(EventType::AwsVpceEvent))
        .count();
    assert!(vpce > 0);
}

#[test]
fn aggregation_sums_counts_per_key_and_separates_outcomes() {
    let path = format!("{STRATUS}/aws.credential-access.ec2-get-password-data.json");
    let aggregates = aggregate(&path);
    assert_eq!(aggregates.summary.records_read, 34);
    assert_eq!(aggregates.summary.records_aggregated, 34);

    // 30 refused GetPasswordData calls of one role session, within the same hour: one
    // aggregate per subject, count 30.
    let role = EntityKey::arn(
        "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role",
    );
    let ip = EntityKey::source_ip("200.249.253.51");
    for subject in [&role, &EntityKey::access_key("ASIANQQHHS551LWULIWD"), &ip] {
        let calls: Vec<&Activity> = aggregates
            .activity
            .iter()
            .filter(|a| &a.subject == subject && a.call.event_name == "GetPasswordData")
            .collect();
        assert_eq!(calls.len(), 1, "{subject}");
        assert_eq!(calls[0].stats.count, 30);
        assert_eq!(
            calls[0].call.outcome,
            Outcome::Failure("Client.UnauthorizedOperation".into())
        );
        assert_eq!(
            calls[0].bucket_start.to_rfc3339(),
            "2024-07-30T21:00:00+00:00"
        );
        assert!(calls[0].stats.first <= calls[0].stats.last);
    }
    // The IP's aggregate names the caller by its role, not by the session.
    let by_ip = aggregates
        .activity
        .iter()
        .find(|a| a.subject == ip && a.call.event_name == "GetPasswordData");
    assert_eq!(by_ip.unwrap().caller.as_ref(), Some(&role));

    // The user's AssumeRole: 2 successes and 2 AccessDenied, kept apart.
    let user = EntityKey::arn("arn:aws:iam::457448411975:user/christophe");
    let mut outcomes: Vec<(String, u64)> = aggregates
        .activity
        .iter()
        .filter(|a| a.subject == user && a.call.event_name == "AssumeRole")
        .map(|a| (a.call.outcome.to_string(), a.stats.count))
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [("AccessDenied".to_owned(), 2), ("success".to_owned(), 2)]
    );

    // The key used by the session was issued by one of those AssumeRole calls.
    let issue = aggregates
        .credentials
        .iter()
        .find(|c| c.access_key_id == "ASIANQQHHS551LWULIWD")
        .unwrap();
    assert_eq!(issue.role_arn.as_deref(), Some(role.id.as_str()));
    assert_eq!(issue.issued_to.as_ref(), Some(&user));
    assert_eq!(
        aggregates
            .baseline
            .get(&role, ObservationKind::AssumedBy, &user.to_string())
            .map(|s| s.count),
        Some(2)
    );

    // Counts add up: every record is in exactly one aggregate per subject kind.
    let user_total: u64 = aggregates
        .activity
        .iter()
        .filter(|a| a.subject == user)
        .map(|a| a.stats.count)
        .sum();
    assert_eq!(user_total, 4);
    let ip_total: u64 = aggregates
        .activity
        .iter()
        .filter(|a| a.subject == ip)
        .map(|a| a.stats.count)
        .sum();
    assert_eq!(ip_total, 34);
}

#[test]
fn narrower_buckets_split_the_same_calls() {
    let bytes = read(&format!(
        "{STRATUS}/aws.credential-access.ec2-steal-instance-credentials.json"
    ));
    let hourly = aggregate_object(&bytes, &ReadOptions::default(), &Settings::default()).unwrap();
    let minute = Settings {
        bucket: chrono::TimeDelta::minutes(1),
        ..Settings::default()
    };
    let by_minute = aggregate_object(&bytes, &ReadOptions::default(), &minute).unwrap();
    let count = |aggregates: &Aggregates| {
        aggregates.aggregates_for(
            "arn:aws:iam::017622104382:user/christophe",
            "DescribeInstanceInformation",
        )
    };
    // 17 calls at 08:22 and 21 at 08:23, all in the 08:00 hour.
    assert_eq!(count(&hourly.aggregates), [38]);
    assert_eq!(count(&by_minute.aggregates), [17, 21]);
}

impl Aggregates {
    fn aggregates_for(&self, arn: &str, event_name: &str) -> Vec<u64> {
        let subject = EntityKey::arn(arn);
        self.activity
            .iter()
            .filter(|a| a.subject == subject && a.call.event_name == event_name)
            .map(|a| a.stats.count)
            .collect()
    }
}

/// OTRF "cloud breach S3": an SSRF on an EC2 reverse proxy leaks the instance profile's keys,
/// which are then used from the attacker's machine to list and download a bucket. The dataset
/// has no call made by the instance itself; what it has of the instance side is the delivery of
/// its credentials by `ec2.amazonaws.com` to session `i-0317f6c6b66ae9c40`. (Its IPs are
/// anonymised to 1.2.3.4 for every human caller, so the console user shares the attacker's.)
#[test]
fn otrf_stolen_instance_credentials_stand_apart_from_the_instance() {
    let aggregates = aggregate(OTRF);
    let role = EntityKey::arn(
        "arn:aws:iam::123456789123:role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0",
    );
    let stolen = EntityKey::access_key("ASIA5FLZVX4OPVKKVBMX");
    let attacker_ip = "1.2.3.4";
    let attacker_agent = "[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.59]";

    // The instance side: the key was issued to the instance by EC2.
    let issue = aggregates
        .credentials
        .iter()
        .find(|c| c.access_key_id == stolen.id)
        .unwrap();
    assert_eq!(issue.session_name.as_deref(), Some("i-0317f6c6b66ae9c40"));
    assert_eq!(
        issue.issued_to,
        Some(EntityKey::new(EntityKind::Service, "ec2.amazonaws.com"))
    );
    assert_eq!(issue.issued_to_type, PrincipalType::AwsService);
    assert_eq!(issue.source_ip.as_deref(), Some("ec2.amazonaws.com"));
    assert_eq!(issue.user_agent.as_deref(), Some("ec2.amazonaws.com"));
    let delivered = aggregates.baseline.get(
        &role,
        ObservationKind::AssumedBy,
        "service:ec2.amazonaws.com",
    );
    assert_eq!(delivered.map(|s| s.count), Some(3));

    // The attacker side: the role's and the key's baselines hold only the attacker's address,
    // network and CLI, all first seen after the delivery and all different from it.
    for principal in [&role, &stolen] {
        let ips: Vec<&str> = aggregates
            .baseline
            .values(principal, ObservationKind::SourceIp)
            .map(|(v, _)| v)
            .collect();
        assert_eq!(ips, [attacker_ip], "{principal}");
        let agents: Vec<&str> = aggregates
            .baseline
            .values(principal, ObservationKind::UserAgent)
            .map(|(v, _)| v)
            .collect();
        assert_eq!(agents, [attacker_agent], "{principal}");
        let networks: Vec<&str> = aggregates
            .baseline
            .values(principal, ObservationKind::Network)
            .map(|(v, _)| v)
            .collect();
        assert_eq!(networks, ["1.2.3.0/24"]);
        let apis: Vec<&str> = aggregates
            .baseline
            .values(principal, ObservationKind::Api)
            .map(|(v, _)| v)
            .collect();
        assert_eq!(apis, ["s3:GetObject", "s3:ListBuckets", "s3:ListObjects"]);
        let first_use = aggregates
            .baseline
            .get(principal, ObservationKind::SourceIp, attacker_ip)
            .unwrap();
        assert!(first_use.first > issue.time);
        // 7 ListObjects, 2 ListBuckets, 2 GetObject.
        assert_eq!(first_use.count, 11);
        assert_ne!(issue.source_ip.as_deref(), Some(attacker_ip));
        assert_ne!(issue.user_agent.as_deref(), Some(attacker_agent));
        // "Is this new for the principal?" is one lookup.
        assert!(
            aggregates
                .baseline
                .get(principal, ObservationKind::SourceIp, "ec2.amazonaws.com")
                .is_none()
        );
    }
    // The exfiltration reads are aggregated, not kept in detail: S3 data-event reads.
    assert!(
        aggregates
            .notable
            .iter()
            .all(|n| n.event_name != "GetObject")
    );
    let downloads = aggregates.aggregates_for(&role.id, "GetObject");
    assert_eq!(downloads.iter().sum::<u64>(), 2);

    // The principals are classified.
    assert_eq!(aggregates.principals[&role].principal_type.as_str(), "Role");
    assert_eq!(
        aggregates.principals[&stolen].principal_type,
        PrincipalType::AssumedRole
    );
    let pedro = EntityKey::arn("arn:aws:iam::123456789123:user/pedro");
    assert_eq!(
        aggregates.principals[&pedro].principal_type,
        PrincipalType::IamUser
    );
}

#[test]
fn notable_rule_keeps_defense_evasion_console_logins_and_errors() {
    let stop = aggregate(&format!(
        "{STRATUS}/aws.defense-evasion.cloudtrail-stop.json"
    ));
    let event = &stop.notable[0];
    assert_eq!(
        (event.event_source.as_deref(), event.event_name.as_str()),
        (Some("cloudtrail.amazonaws.com"), "StopLogging")
    );
    assert_eq!(
        event.reasons,
        [NotableReason::Mutating, NotableReason::SensitiveService]
    );
    assert!(
        event.principal_arn.is_some() && event.source_ip.is_some() && event.user_agent.is_some()
    );
    assert!(!event.targets.is_empty(), "{:?}", event.targets);

    for path in [
        format!("{STRATUS}/aws.defense-evasion.cloudtrail-delete.json"),
        format!("{DATADOG}/aws.defense-evasion.cloudtrail-delete.json"),
    ] {
        let deleted = aggregate(&path);
        assert_eq!(deleted.notable.len(), 1, "{path}");
        assert_eq!(deleted.notable[0].event_name, "DeleteTrail");
        assert!(
            deleted.notable[0]
                .reasons
                .contains(&NotableReason::SensitiveService)
        );
        assert!(
            deleted.notable[0]
                .targets
                .iter()
                .any(|t| t.starts_with("name=")),
            "{:?}",
            deleted.notable[0].targets
        );
    }

    let login = aggregate(&format!(
        "{STRATUS}/aws.initial-access.console-login-without-mfa.json"
    ));
    let event = &login.notable[0];
    assert_eq!(event.event_name, "ConsoleLogin");
    assert!(event.reasons.contains(&NotableReason::ConsoleSignIn));
    assert_eq!(event.mfa, Some(false));
    assert_eq!(event.principal_type, PrincipalType::IamUser);
    assert_eq!(event.source_ip.as_deref(), Some("225.1.0.16"));

    // Refused calls are kept; the leave-organization attempt was refused.
    let leave = aggregate(&format!(
        "{STRATUS}/aws.defense-evasion.organizations-leave.json"
    ));
    let refused = leave
        .notable
        .iter()
        .find(|n| n.event_name == "LeaveOrganization")
        .unwrap();
    assert_eq!(refused.error_code.as_deref(), Some("AccessDenied"));
    assert!(refused.reasons.contains(&NotableReason::Error));

    // A read-heavy detonation keeps few events in detail.
    let ssm = aggregate(&format!("{STRATUS}/aws.execution.ssm-send-command.json"));
    assert!(ssm.notable.len() * 5 < ssm.summary.records_read as usize);
    assert!(ssm.notable.iter().any(|n| n.event_name == "SendCommand"));
    assert!(
        ssm.notable
            .iter()
            .all(|n| n.event_name != "DescribeInstanceInformation")
    );
}

#[test]
fn console_login_outcomes_and_mfa_from_panther_records() {
    let panther = parse(PANTHER);
    let logins: Vec<&Record> = panther
        .records
        .iter()
        .filter(|r| r.event_name() == "ConsoleLogin")
        .collect();
    assert!(logins.len() > 10);
    let failures = logins
        .iter()
        .filter(|r| r.error_code() == Some("Failure"))
        .count();
    assert!(failures > 0);
    let with_mfa = logins.iter().filter(|r| r.mfa() == Some(true)).count();
    let without = logins.iter().filter(|r| r.mfa() == Some(false)).count();
    assert!(with_mfa > 0 && without > 0);
    assert!(
        logins
            .iter()
            .all(|r| notable_reasons(r).contains(&NotableReason::ConsoleSignIn))
    );
}

#[test]
fn every_principal_type_of_the_corpus_is_classified() {
    let mut seen = std::collections::BTreeSet::new();
    let mut records = parse(PANTHER).records;
    records.extend(parse(OTRF).records);
    for path in files(STRATUS) {
        records.extend(
            parse_object(&std::fs::read(&path).unwrap())
                .unwrap()
                .records,
        );
    }
    for record in &records {
        seen.insert(record.principal_type());
    }
    for expected in [
        PrincipalType::Root,
        PrincipalType::IamUser,
        PrincipalType::AssumedRole,
        PrincipalType::AwsService,
        PrincipalType::FederatedUser,
        PrincipalType::AwsAccount,
        PrincipalType::Unknown,
    ] {
        assert!(seen.contains(&expected), "{expected} not seen in {seen:?}");
    }
}

#[test]
fn gzip_delivery_of_corpus_records_aggregates_like_the_plain_files() {
    // Build the S3 object CloudTrail would have written for all Stratus records.
    let mut all: Vec<Value> = Vec::new();
    let mut aggregator = Aggregator::default();
    for path in files(STRATUS) {
        let bytes = std::fs::read(&path).unwrap();
        let values: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
        all.extend(values);
        for_each_record(&bytes, &ReadOptions::default(), |r| aggregator.push(r)).unwrap();
    }
    let delivery = serde_json::to_vec(&serde_json::json!({ "Records": all })).unwrap();
    let report = aggregate_object(
        &gzip(&delivery),
        &ReadOptions::default(),
        &Settings::default(),
    )
    .unwrap();
    assert_eq!(report.shape, Shape::S3Delivery);
    let from_files = aggregator.finish();
    assert_eq!(report.summary(), &from_files.summary);
    assert_eq!(report.aggregates.activity, from_files.activity);
    assert_eq!(report.aggregates.baseline, from_files.baseline);
    assert_eq!(report.aggregates.notable, from_files.notable);
}

#[test]
fn summaries_add_up_for_every_fixture() {
    let mut paths = files(STRATUS);
    for dir in [
        DATADOG,
        "otrf_security_datasets",
        "panther_rule_tests",
        "eventbridge_envelope",
        "awsdocs",
    ] {
        paths.extend(files(dir));
    }
    let mut reports = 0;
    for path in paths {
        let Ok(report) = aggregate_object(
            &std::fs::read(&path).unwrap(),
            &ReadOptions::default(),
            &Settings::default(),
        ) else {
            continue;
        };
        reports += 1;
        let s = report.summary();
        assert_eq!(
            s.records_read,
            s.records_aggregated + s.records_unattributed + s.skipped.total(),
            "{}",
            name(&path)
        );
        assert_eq!(s.activity_aggregates, report.aggregates.activity.len());
        assert_eq!(s.baseline_entries, report.aggregates.baseline.len());
        assert_eq!(s.notable_events, report.aggregates.notable.len());
        assert!(s.activity_aggregates as u64 <= 4 * s.records_aggregated);
        assert!(!s.to_string().is_empty());
    }
    // 35 + 3 + 1 + 1 + 24 + 7 objects read; the invalid one and the two foreign events fail.
    assert_eq!(reports, 71);
}

/// Every Stratus detonation record in one S3 delivery, gzip: many principals, buckets days
/// apart, and records out of time order where one detonation's file follows another's.
fn stratus_delivery() -> Vec<u8> {
    let mut records = Vec::new();
    for path in files(STRATUS) {
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        records.extend(value.as_array().unwrap().iter().cloned());
    }
    assert!(records.len() >= 300, "{}", records.len());
    gzip(&serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap())
}

/// What readers make of aggregates however they were split: activity summed per subject,
/// bucket, call and caller, baselines merged, notable events and credential issues as multisets.
#[derive(Debug, Default, PartialEq)]
struct Decoded {
    activity: BTreeMap<(EntityKey, String, CallKey, Option<EntityKey>), Stats>,
    baseline: BTreeMap<(EntityKey, ObservationKind, String), Stats>,
    notable: Vec<String>,
    credentials: Vec<String>,
}

impl Decoded {
    fn add(&mut self, part: &Aggregates) {
        let merge = |stats: &mut Stats, more: &Stats| stats.merge(more);
        for a in &part.activity {
            let key = (
                a.subject.clone(),
                a.bucket_start.to_rfc3339(),
                a.call.clone(),
                a.caller.clone(),
            );
            self.activity
                .entry(key)
                .and_modify(|s| merge(s, &a.stats))
                .or_insert(a.stats);
        }
        for e in part.baseline.iter() {
            let key = (e.principal.clone(), e.kind, e.value.to_owned());
            self.baseline
                .entry(key)
                .and_modify(|s| merge(s, e.stats))
                .or_insert(*e.stats);
        }
        self.notable.extend(
            part.notable
                .iter()
                .map(|n| serde_json::to_string(n).unwrap()),
        );
        self.credentials.extend(
            part.credentials
                .iter()
                .map(|c| serde_json::to_string(c).unwrap()),
        );
        self.notable.sort();
        self.credentials.sort();
    }
}

fn streamed(bytes: &[u8], max_live_aggregates: usize) -> (Decoded, StreamReport) {
    let settings = Settings {
        max_live_aggregates,
        ..Settings::default()
    };
    let mut decoded = Decoded::default();
    let report = aggregate_stream(bytes, &ReadOptions::default(), &settings, |part| {
        decoded.add(&part)
    })
    .unwrap();
    (decoded, report)
}

#[test]
fn a_tiny_bound_decodes_to_the_same_totals_as_an_unbounded_run() {
    let bytes = stratus_delivery();
    let whole = aggregate_object(&bytes, &ReadOptions::default(), &Settings::default()).unwrap();
    let mut expected = Decoded::default();
    expected.add(&whole.aggregates);
    assert!(!expected.notable.is_empty() && !expected.credentials.is_empty());

    let (unbounded, report) = streamed(&bytes, usize::MAX);
    assert_eq!(report.parts, 1);
    assert_eq!(unbounded, expected);
    for bound in [1, 5, 50, 100] {
        let (decoded, report) = streamed(&bytes, bound);
        assert!(report.parts > 1, "bound {bound}: {} parts", report.parts);
        assert_eq!(decoded.activity, expected.activity, "bound {bound}");
        assert_eq!(decoded.baseline, expected.baseline, "bound {bound}");
        assert_eq!(decoded.notable, expected.notable, "bound {bound}");
        assert_eq!(decoded.credentials, expected.credentials, "bound {bound}");
        let (got, want) = (&report.summary, whole.summary());
        assert_eq!(
            (got.records_read, got.records_aggregated, &got.skipped),
            (want.records_read, want.records_aggregated, &want.skipped),
            "bound {bound}"
        );
    }
}

#[test]
fn the_live_state_stays_within_the_bound() {
    let bytes = stratus_delivery();
    let bound = 50;
    let settings = Settings {
        max_live_aggregates: bound,
        ..Settings::default()
    };
    let mut aggregator = Aggregator::new(settings);
    let mut most = 0;
    for_each_record(&bytes, &ReadOptions::default(), |record| {
        aggregator.push(record);
        aggregator.flush_if_full();
        most = most.max(aggregator.live());
    })
    .unwrap();
    // One record adds a few aggregates (one per principal key, the source IP, a notable event,
    // a credential issue) before the check.
    assert!(most <= bound + 8, "{most}");
}
