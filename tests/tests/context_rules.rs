//! Every context rule, fired or held back by real corpus records: Stratus Red Team CloudTrail
//! detonations and the AWS documentation's VPC Flow Log records (`tests/fixtures/`, provenance
//! in their READMEs). The records go through the production path, parse, aggregate, item
//! layout, lookups, summary, classifier and notice, with the table held in memory
//! ([`MemoryContextSource`]); `enrichment.rs` runs the same path against the local server.
//!
//! Where a scenario needs history the corpus does not have, it is built by shifting the real
//! records back in time (and, for "another network", rewriting their source address); each
//! test says what it varied.

use chrono::{DateTime, Duration, Utc};
use integration_tests::{event, weight_of};
use serde_json::{Value, json};
use triage_aws::MemoryContextSource;
use triage_aws::context_items::ObjectId;
use triage_aws::ingest;
use triage_domain::classify::Signal;
use triage_domain::classify::{Assessment, Verdict};
use triage_domain::dedupe::memory::MemoryStore;
use triage_domain::notice::Notice;
use triage_domain::pipeline::{Triage, TriageSettings};
use triage_domain::publish::RecordingPublisher;

fn fixture(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stratus(technique: &str) -> Vec<Value> {
    serde_json::from_str(&fixture(&format!(
        "cloudtrail/stratus_red_team_detonations/aws.{technique}.json"
    )))
    .unwrap()
}

/// The records moved `days` earlier, optionally from another source address; as copies they get
/// their own `eventID`s (CloudTrail's are unique, and triage keeps one event per ID).
fn shifted(records: &[Value], days: i64, source_ip: Option<&str>) -> Vec<Value> {
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let t: DateTime<Utc> = r["eventTime"].as_str().unwrap().parse().unwrap();
            r["eventTime"] = (t - Duration::days(days))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
                .into();
            if let Some(ip) = source_ip {
                r["sourceIPAddress"] = ip.into();
            }
            if let Some(id) = r["eventID"].as_str() {
                r["eventID"] = format!("{id}-{days}d-earlier").into();
            }
            r
        })
        .collect()
}

/// Ingest one CloudTrail object with the ingest functions' per-object code (S3 delivery shape).
fn ingest_cloudtrail(table: &mut MemoryContextSource, object: &str, records: &[Value]) {
    let body = serde_json::to_vec(&json!({ "Records": records })).unwrap();
    let read = ingest::cloudtrail_object_items(
        &body,
        &ingest::CloudTrailLimits::FUNCTION,
        &ObjectId::of(object),
        i64::MAX,
    )
    .unwrap();
    table.put_all(read.items);
}

fn ingest_flows(table: &mut MemoryContextSource, object: &str, text: &str) {
    let read = ingest::read_flow_log(text.as_bytes(), &ObjectId::of(object), i64::MAX).unwrap();
    table.put_all(read.items);
}

/// An IAM-user finding about the principal and access key of `records`, spanning their times,
/// with the first record's caller as remote IP and user agent.
fn iam_finding(template: &str, records: &[Value]) -> Value {
    let first = &records[0];
    let identity = &first["userIdentity"];
    let times: Vec<&str> = records
        .iter()
        .map(|r| r["eventTime"].as_str().unwrap())
        .collect();
    let mut raw = event(template, "context-rules");
    let detail = &mut raw["detail"];
    detail["accountId"] = identity["accountId"].clone();
    detail["resource"]["accessKeyDetails"] = json!({
        "accessKeyId": identity["accessKeyId"],
        "userName": identity["userName"],
        "userType": "IAMUser",
    });
    detail["service"]["eventFirstSeen"] = times.iter().min().unwrap().to_string().into();
    detail["service"]["eventLastSeen"] = times.iter().max().unwrap().to_string().into();
    let call = &mut detail["service"]["action"]["awsApiCallAction"];
    call["remoteIpDetails"]["ipAddressV4"] = first["sourceIPAddress"].clone();
    call["userAgent"] = first["userAgent"].clone();
    raw["account"] = identity["accountId"].clone();
    raw
}

/// Verbatim: christophe's key is refused AssumeRole twice, then succeeds, from one address (the
/// IAM user's 4 records of the detonation; the rest are the assumed role's).
fn denied_then_allowed() -> Vec<Value> {
    stratus("credential-access.ec2-get-password-data")
        .into_iter()
        .filter(|r| r["userIdentity"]["type"] == "IAMUser")
        .collect()
}

/// The detonation's 3 admin-user calls (CreateUser, AttachUserPolicy, CreateAccessKey), and a
/// table holding the same calls 30 days earlier from 192.0.2.10 (varied: time and network).
fn admin_user_after_history_elsewhere() -> (Vec<Value>, MemoryContextSource) {
    let records = stratus("persistence.iam-create-admin-user");
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(
        &mut table,
        "history",
        &shifted(&records, 30, Some("192.0.2.10")),
    );
    (records, table)
}

/// Triage with the in-memory table as context: the assessment and the notice's body.
async fn triage(table: MemoryContextSource, raw: Value) -> (Assessment, String) {
    let (assessment, notice) = triage_notice(table, raw).await;
    (assessment, notice.body)
}

async fn triage_notice(table: MemoryContextSource, raw: Value) -> (Assessment, Notice) {
    let pipeline = Triage::new(
        MemoryStore::new(),
        RecordingPublisher::default(),
        TriageSettings::default(),
    )
    .with_context(table);
    let outcome = pipeline
        .handle_raw(raw, Utc::now() + Duration::seconds(30), Utc::now())
        .await
        .unwrap()
        .outcome;
    (outcome.assessment, outcome.notice.unwrap())
}

#[tokio::test]
async fn failed_then_successful_calls_from_one_address_are_evidence_and_their_timeline_shows_it() {
    let records = denied_then_allowed();
    assert_eq!(records.len(), 4);
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "get-password-data", &records);
    let (a, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &records)).await;
    assert_eq!(
        weight_of(&a, Signal::FailuresThenSuccesses),
        Some(20),
        "{body}"
    );
    assert!(
        body.contains(
            "denied calls then successful ones from 200.249.253.51 (2 of 4 calls denied)"
        ),
        "{body}"
    );
    assert!(
        body.contains("API calls: 4 (2 failed); top: sts:AssumeRole x4"),
        "{body}"
    );
}

#[tokio::test]
async fn calls_that_all_succeeded_are_not_failures_then_successes() {
    let records = stratus("credential-access.ssm-retrieve-securestring-parameters");
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "ssm", &records);
    let (a, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &records)).await;
    assert_eq!(weight_of(&a, Signal::FailuresThenSuccesses), None, "{body}");
    assert!(body.contains("API calls: 10 (0 failed)"), "{body}");
}

#[tokio::test]
async fn admin_user_created_from_a_network_never_used_is_sensitive_and_new() {
    // Window: the verbatim detonation; history: the same calls from another network.
    let (records, mut table) = admin_user_after_history_elsewhere();
    ingest_cloudtrail(&mut table, "window", &records);
    let (a, notice) = triage_notice(table, iam_finding("tor-ip-caller-iam.json", &records)).await;
    let body = notice.body;
    assert_eq!(
        weight_of(&a, Signal::SensitiveCallsFromNewNetwork),
        Some(25),
        "{body}"
    );
    assert!(
        notice
            .subject
            .contains("Medium IAMUser/TorIPCaller - admin policy attached |"),
        "{}",
        notice.subject
    );
    assert!(
        body.contains(
            "3 sensitive calls (iam:AttachUserPolicy, iam:CreateAccessKey, iam:CreateUser) from 75.50.255.0/24, a network this principal never used in 29 days"
        ),
        "{body}"
    );
    assert_eq!(
        weight_of(&a, Signal::NewIpForPrincipal),
        None,
        "the new address is counted once, as the new network its sensitive calls came from: {body}"
    );
    assert_eq!(
        weight_of(&a, Signal::NewUserAgent),
        None,
        "same tool as before"
    );
    assert!(
        body.contains("New for this principal: IP 75.50.255.67, network 75.50.255.0/24"),
        "{body}"
    );
    assert!(
        body.contains("History available: 29 days of CloudTrail baseline"),
        "{body}"
    );
    assert_eq!(weight_of(&a, Signal::UsualBehaviour), None);
    assert!(
        body.contains("\n  1. Delete or disable what the principal created or widened")
            && body
                .contains("\n  2. Review and revert the sensitive calls made from the new network"),
        "{body}"
    );
}

#[tokio::test]
async fn the_same_sensitive_calls_from_the_usual_network_weigh_nothing() {
    // History: the same calls 30 days earlier from the same address (varied: time only).
    let records = stratus("persistence.iam-create-admin-user");
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "history", &shifted(&records, 30, None));
    ingest_cloudtrail(&mut table, "window", &records);
    let (a, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &records)).await;
    assert_eq!(
        weight_of(&a, Signal::SensitiveCallsFromNewNetwork),
        None,
        "{body}"
    );
    assert_eq!(
        weight_of(&a, Signal::KnownIpForPrincipal),
        Some(-15),
        "{body}"
    );
    assert_eq!(
        weight_of(&a, Signal::UsualBehaviour),
        None,
        "sensitive calls are never 'usual'"
    );
}

#[tokio::test]
async fn a_principal_repeating_its_read_only_routine_from_known_addresses_is_usual() {
    // History: the same 5 DescribeParameters calls two weeks earlier, same address and tool
    // (varied: only the detonation's plain reads are kept; its decrypting GetParameters are
    // secret reads, which are never "usual").
    let records: Vec<Value> = stratus("credential-access.ssm-retrieve-securestring-parameters")
        .into_iter()
        .filter(|r| r["eventName"] == "DescribeParameters")
        .collect();
    assert_eq!(records.len(), 5);
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "history", &shifted(&records, 14, None));
    ingest_cloudtrail(&mut table, "window", &records);
    let (a, body) = triage(
        table,
        iam_finding("iam-anomalous-behavior-credential-access.json", &records),
    )
    .await;
    assert_eq!(weight_of(&a, Signal::UsualBehaviour), Some(-20), "{body}");
    assert_eq!(
        weight_of(&a, Signal::KnownIpForPrincipal),
        Some(-15),
        "{body}"
    );
    assert!(
        body.contains("Known to this principal: IP 250.202.242.232 (first used 13 days before)"),
        "{body}"
    );
    assert!(!body.contains("New for this principal"), "{body}");
}

#[tokio::test]
async fn a_tool_the_principal_never_used_is_a_new_user_agent() {
    // History: the same calls two weeks earlier from the same address with the AWS CLI (varied:
    // user agent); the window's Stratus user agent is then new.
    let records = stratus("credential-access.ssm-retrieve-securestring-parameters");
    let mut history = shifted(&records, 14, None);
    for r in &mut history {
        r["userAgent"] = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023".into();
    }
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "history", &history);
    ingest_cloudtrail(&mut table, "window", &records);
    let (a, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &records)).await;
    assert_eq!(weight_of(&a, Signal::NewUserAgent), Some(10), "{body}");
    assert_eq!(weight_of(&a, Signal::UsualBehaviour), None, "{body}");
}

#[tokio::test]
async fn without_history_before_the_window_nothing_is_called_new() {
    let records = stratus("persistence.iam-create-admin-user");
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "window", &records);
    let (a, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &records)).await;
    for signal in [
        Signal::NewIpForPrincipal,
        Signal::NewUserAgent,
        Signal::SensitiveCallsFromNewNetwork,
        Signal::UsualBehaviour,
    ] {
        assert_eq!(weight_of(&a, signal), None, "{signal}: {body}");
    }
    assert!(
        body.contains("History available: no CloudTrail baseline before the window"),
        "{body}"
    );
    assert!(
        body.contains(
            "Notable calls (changes, errors, identity, audit and key services): iam:AttachUserPolicy, iam:CreateAccessKey, iam:CreateUser"
        ),
        "{body}"
    );
}

/// Each record as the `AWS API Call via CloudTrail` event EventBridge delivers, ingested as the
/// function does it (one live object per event).
fn ingest_live_events(table: &mut MemoryContextSource, records: &[Value]) {
    for (i, record) in records.iter().enumerate() {
        let event = json!({
            "version": "0", "id": format!("live-{i}"), "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.iam", "account": record["recipientAccountId"], "time": record["eventTime"],
            "region": record["awsRegion"], "resources": [], "detail": record,
        });
        let bytes = serde_json::to_vec(&event).unwrap();
        let id = ObjectId::live(&format!("eventbridge:live-{i}"));
        let read = ingest::cloudtrail_object_items(
            &bytes,
            &ingest::CloudTrailLimits::FUNCTION,
            &id,
            i64::MAX,
        )
        .unwrap();
        table.put_all(read.items);
    }
}

#[tokio::test]
async fn calls_delivered_live_and_again_by_s3_are_counted_once() {
    // The same 4 real calls through both CloudTrail paths: EventBridge within seconds, then the
    // S3 file. Before the file arrives the live events alone are counted.
    let records = denied_then_allowed();
    let raw = iam_finding("tor-ip-caller-iam.json", &records);
    let mut table = MemoryContextSource::new();
    ingest_live_events(&mut table, &records);
    let (_, live_only) = triage(table.clone(), raw.clone()).await;
    assert!(live_only.contains("API calls: 4 (2 failed)"), "{live_only}");
    ingest_cloudtrail(&mut table, "s3-file", &records);
    let (a, both) = triage(table, raw).await;
    assert!(both.contains("API calls: 4 (2 failed)"), "{both}");
    assert_eq!(
        weight_of(&a, Signal::FailuresThenSuccesses),
        Some(20),
        "{both}"
    );
}

#[tokio::test]
async fn sensitive_calls_delivered_twice_are_one_each() {
    let (records, mut table) = admin_user_after_history_elsewhere();
    ingest_live_events(&mut table, &records);
    ingest_cloudtrail(&mut table, "window", &records);
    let (_, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &records)).await;
    assert!(body.contains("API calls: 3 (0 failed)"), "{body}");
    assert!(
        body.contains("3 sensitive calls (iam:AttachUserPolicy, iam:CreateAccessKey, iam:CreateUser) from 75.50.255.0/24"),
        "{body}"
    );
}

/// The documentation's RDP record (172.31.9.69 to 172.31.9.12:3389, REJECT), repeated a minute
/// apart from successive source ports over `n` minutes (varied: port and time).
fn rejected_rdp(n: i64) -> String {
    let text = fixture("vpcflow/default-v2.txt");
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let record = lines.find(|l| l.contains(" 3389 ")).unwrap();
    let mut out = format!("{header}\n");
    for i in 0..n {
        let fields: Vec<String> = record
            .split(' ')
            .enumerate()
            .map(|(k, v)| match k {
                5 => (49761 + i).to_string(),
                10 => (1418530010 + 60 * i).to_string(),
                11 => (1418530070 + 60 * i).to_string(),
                _ => v.to_owned(),
            })
            .collect();
        out.push_str(&fields.join(" "));
        out.push('\n');
    }
    out
}

/// An instance finding on the documentation's interface, with `remote` as the remote IP.
fn instance_finding(template: &str, remote: &str, first: i64, last: i64) -> Value {
    let time = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let mut raw = event(template, "context-rules-flows");
    let detail = &mut raw["detail"];
    detail["resource"]["instanceDetails"]["networkInterfaces"] =
        json!([{ "networkInterfaceId": "eni-1235b8ca123456789", "privateIpAddress": "10.0.0.62" }]);
    detail["service"]["eventFirstSeen"] = time(first).into();
    detail["service"]["eventLastSeen"] = time(last).into();
    let action = &mut detail["service"]["action"];
    for kind in ["networkConnectionAction", "portProbeAction"] {
        if let Some(a) = action.get_mut(kind) {
            if kind == "networkConnectionAction" {
                a["remoteIpDetails"]["ipAddressV4"] = remote.into();
            } else if let Some(details) = a["portProbeDetails"].as_array_mut() {
                for d in details {
                    d["remoteIpDetails"]["ipAddressV4"] = remote.into();
                }
            }
        }
    }
    raw
}

#[tokio::test]
async fn a_brute_force_whose_flows_were_all_rejected_leans_benign() {
    let mut table = MemoryContextSource::new();
    ingest_flows(&mut table, "rdp", &rejected_rdp(30));
    let raw = instance_finding(
        "rdp-brute-force-blocked.json",
        "172.31.9.69",
        1418530010,
        1418530010 + 30 * 60,
    );
    let (a, body) = triage(table, raw).await;
    assert_eq!(
        weight_of(&a, Signal::BruteForceAllRejected),
        Some(-15),
        "{body}"
    );
    assert!(
        body.contains("all 30 flows from the attacking IP(s) were rejected"),
        "{body}"
    );
    assert!(
        !body.contains("History available"),
        "no CloudTrail, no baseline line: {body}"
    );
    // 30 minutes of rejections from 04:06:50, one sparkline slot per 10 minutes: 4, 10, 10, 6.
    assert!(
        body.contains("Flows with 172.31.9.69 per 10 min, 2014-12-14 04:00 - 04:40 UTC:"),
        "{body}"
    );
    assert!(body.contains("\n    accepted  ····  0\n"), "{body}");
    assert!(body.contains("\n    rejected  ▄██▅  30\n"), "{body}");
    assert!(
        body.contains("All flows of the resource: 0 accepted, 30 rejected, 0.0 MB in, 0.0 MB out; top remotes: none; top ports: 3389 (local): 30 flows"),
        "{body}"
    );
}

#[tokio::test]
async fn a_probe_that_met_only_rejections_found_nothing_open() {
    let mut table = MemoryContextSource::new();
    ingest_flows(&mut table, "rdp", &rejected_rdp(5));
    let raw = instance_finding(
        "port-probe-scanner-shodan.json",
        "172.31.9.69",
        1418530010,
        1418530010 + 300,
    );
    let (a, body) = triage(table, raw).await;
    assert_eq!(weight_of(&a, Signal::ProbeAllRejected), Some(-20), "{body}");
}

#[tokio::test]
async fn accepted_sessions_with_data_after_a_brute_force_are_strong_evidence() {
    // Verbatim: the documentation's TCP flag sequence, 52.213.180.42 moving 23 MB to the
    // instance on port 5001 in accepted flows.
    let mut table = MemoryContextSource::new();
    ingest_flows(&mut table, "v3", &fixture("vpcflow/tcp-flags-v3.txt"));
    let raw = instance_finding(
        "ssh-brute-force-target.json",
        "52.213.180.42",
        1566848875,
        1566849113,
    );
    let (a, notice) = triage_notice(table, raw).await;
    let body = notice.body;
    // A Low finding that got in says so on the lock screen.
    assert_eq!(
        notice.subject,
        format!(
            "[LIKELY TP {}] Low EC2/SSHBruteForce - accepted sessions | 123456789012 us-east-1",
            a.confidence
        )
    );
    assert_eq!(
        weight_of(&a, Signal::AcceptedAfterBruteForce),
        Some(50),
        "{body}"
    );
    assert_eq!(a.verdict, Verdict::LikelyTruePositive, "{body}");
    assert!(body.contains("Traffic with 52.213.180.42:"), "{body}");
    // Containment comes first once the context shows the attacker got in.
    assert!(
        body.contains("\n  1. Treat i-0a1b2c3d4e5f60718 as compromised: sessions from the attacking IP were accepted."),
        "{body}"
    );
}

#[tokio::test]
async fn megabytes_sent_to_a_command_and_control_address_are_evidence() {
    // The documentation's 23 MB record mirrored (varied: direction), so the instance is the
    // sender, as an implant exfiltrating to its controller would be.
    let text = fixture("vpcflow/tcp-flags-v3.txt");
    let mut lines = text.lines();
    let mut mirrored = format!("{}\n", lines.next().unwrap());
    for line in lines.filter(|l| l.contains(" 23294588 ")) {
        let mut f: Vec<&str> = line.split(' ').collect();
        f.swap(7, 8); // srcaddr, dstaddr
        f.swap(9, 10); // srcport, dstport
        f.swap(11, 12); // pkt-srcaddr, pkt-dstaddr
        mirrored.push_str(&f.join(" "));
        mirrored.push('\n');
    }
    let mut table = MemoryContextSource::new();
    ingest_flows(&mut table, "mirrored", &mirrored);
    let raw = instance_finding(
        "backdoor-cc-activity-threat-list.json",
        "52.213.180.42",
        1566848933,
        1566849113,
    );
    let (a, body) = triage(table, raw).await;
    assert_eq!(weight_of(&a, Signal::DataSentToRemote), Some(20), "{body}");
    assert!(
        body.contains("23.3 MB sent to 52.213.180.42 in accepted flows"),
        "{body}"
    );
}

/// Panther's Resolver test records (moneropool.ru and a subdomain of it, a dynamic-DNS name, a
/// DynamoDB endpoint) made the instance's: varied are the instance ID (to the finding's), the
/// time (to `at`, Panther's normalised spelling kept) and the answer 1.2.3.4 (to `answer`).
fn panther_lookups(instance: &str, at: &str, answer: &str) -> String {
    fixture("resolver/panther-vpcdns.ndjson")
        .replace("i-0abc234", instance)
        .replace("2022-06-25 00:27:53", at)
        .replace("1.2.3.4", answer)
}

/// The BitcoinTool.B!DNS sample as a lookup of moneropool.ru (Panther's records' pool) with the
/// remote address and span the flows give, and its instance ID, which the lookups are made
/// under.
fn mining_pool_lookup(remote: &str, first: i64, last: i64) -> (Value, String) {
    let mut raw = instance_finding("cryptocurrency-bitcoin-tool-dns.json", remote, first, last);
    let instance = raw["detail"]["resource"]["instanceDetails"]["instanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    raw["detail"]["service"]["action"]["dnsRequestAction"]["domain"] = "moneropool.ru".into();
    (raw, instance)
}

fn ingest_resolver(table: &mut MemoryContextSource, object: &str, text: &str) {
    let read = ingest::ResolverSource::read_whole(
        text.as_bytes(),
        1 << 20,
        &ObjectId::of(object),
        i64::MAX,
    )
    .unwrap();
    table.put_all(read.items);
}

#[tokio::test]
async fn a_mining_pool_lookup_then_traffic_to_its_answer_is_evidence_and_the_notice_says_so() {
    // Verbatim: the documentation's v5 records of an instance connecting out to 52.95.128.179:80
    // (egress request, ingress response). The lookups answer that address 12 seconds before.
    let mut table = MemoryContextSource::new();
    ingest_flows(&mut table, "v5", &fixture("vpcflow/traffic-path-v5.txt"));
    let (raw, instance) = mining_pool_lookup("52.95.128.179", 1616729280, 1616729349);
    ingest_resolver(
        &mut table,
        "dns",
        &panther_lookups(&instance, "2021-03-26 03:28:00", "52.95.128.179"),
    );
    let (a, notice) = triage_notice(table, raw).await;
    let body = notice.body;
    assert_eq!(
        weight_of(&a, Signal::DnsResolvedThenReached),
        Some(20),
        "{body}"
    );
    assert!(
        notice.subject.contains(" - resolved, then connected |"),
        "{}",
        notice.subject
    );
    assert!(
        body.contains("DNS (Route 53 Resolver logs, scope window): 8 lookups of 4 names"),
        "{body}"
    );
    assert!(
        body.contains("moneropool.ru: 4 lookups of 2 name(s) (NOERROR 4) -> 52.95.128.179; then 2 accepted flows to 52.95.128.179:80 (1 KB sent)"),
        "{body}"
    );
    assert!(
        body.contains(
            "Other names: 2 (top: dynamodb.us-west-2.amazonaws.com x2, webservicepag.webhop.net x2)"
        ),
        "{body}"
    );
    // The lookup named no address; the Resolver logs give the ones to block.
    assert!(
        body.contains(
            "\n  2. Block moneropool.ru in DNS Firewall and 52.95.128.179 at the network firewall;"
        ),
        "{body}"
    );
}

/// The documentation's iperf flows mirrored (the test above's 23 MB): the instance sends from
/// its port 5001 to the address the pool answered, but as the server of that connection, not
/// its client: it did not reach out to the answer, so the lookup is not followed by contact.
#[tokio::test]
async fn traffic_the_answer_started_is_not_the_instance_reaching_it() {
    let text = fixture("vpcflow/tcp-flags-v3.txt");
    let mut lines = text.lines();
    let mut mirrored = format!("{}\n", lines.next().unwrap());
    for line in lines.filter(|l| l.contains(" 23294588 ")) {
        let mut f: Vec<&str> = line.split(' ').collect();
        f.swap(7, 8);
        f.swap(9, 10);
        f.swap(11, 12);
        mirrored.push_str(&f.join(" "));
        mirrored.push('\n');
    }
    let mut table = MemoryContextSource::new();
    ingest_flows(&mut table, "mirrored", &mirrored);
    let (raw, instance) = mining_pool_lookup("52.213.180.42", 1566848880, 1566849113);
    ingest_resolver(
        &mut table,
        "dns",
        &panther_lookups(&instance, "2019-08-26 19:48:00", "52.213.180.42"),
    );
    let (a, body) = triage(table, raw).await;
    assert_eq!(
        weight_of(&a, Signal::DnsResolvedThenReached),
        None,
        "{body}"
    );
    assert!(
        body.contains("-> 52.213.180.42; no accepted flow to its addresses after the lookup"),
        "{body}"
    );
}

#[tokio::test]
async fn a_mining_pool_lookup_without_traffic_to_its_answer_weighs_nothing_either_way() {
    // The same lookups answering 1.2.3.4, which no flow reached: no evidence, not a benign lean.
    let mut table = MemoryContextSource::new();
    ingest_flows(&mut table, "v3", &fixture("vpcflow/tcp-flags-v3.txt"));
    let (raw, instance) = mining_pool_lookup("52.213.180.42", 1566848880, 1566849113);
    let (without, _) = triage(MemoryContextSource::new(), raw.clone()).await;
    ingest_resolver(
        &mut table,
        "dns",
        &panther_lookups(&instance, "2019-08-26 19:48:00", "1.2.3.4"),
    );
    let (a, body) = triage(table, raw).await;
    assert_eq!(
        weight_of(&a, Signal::DnsResolvedThenReached),
        None,
        "{body}"
    );
    assert_eq!(
        (a.verdict, a.score),
        (without.verdict, without.score),
        "{body}"
    );
    assert!(
        body.contains("-> 1.2.3.4; no accepted flow to its addresses after the lookup"),
        "{body}"
    );
}

/// Every technique of the behaviour catalogue that a Stratus Red Team detonation by an IAM user
/// shows, recognised from the verbatim records with no history at all (the IAM user's records
/// of each detonation; set-up calls by the roles it assumes are left out).
#[tokio::test]
async fn each_detonation_is_recognised_as_its_technique_without_history() {
    let cases = [
        (
            "defense-evasion.cloudtrail-stop",
            Signal::ImpairCloudLogs,
            "T1562.008",
        ),
        (
            "defense-evasion.cloudtrail-delete",
            Signal::ImpairCloudLogs,
            "T1562.008",
        ),
        (
            "defense-evasion.cloudtrail-event-selectors",
            Signal::ImpairCloudLogs,
            "T1562.008",
        ),
        (
            "defense-evasion.vpc-remove-flow-logs",
            Signal::ImpairCloudLogs,
            "T1562.008",
        ),
        (
            "defense-evasion.dns-delete-logs",
            Signal::ImpairCloudLogs,
            "T1562.008",
        ),
        (
            "exfiltration.ec2-share-ami",
            Signal::ShareOutsideAccount,
            "T1537",
        ),
        (
            "exfiltration.ec2-share-ebs-snapshot",
            Signal::ShareOutsideAccount,
            "T1537",
        ),
        (
            "exfiltration.rds-share-snapshot",
            Signal::ShareOutsideAccount,
            "T1537",
        ),
        (
            "exfiltration.ec2-security-group-open-port-22-ingress",
            Signal::OpenCloudFirewall,
            "T1562.007",
        ),
        (
            "persistence.iam-backdoor-role",
            Signal::TrustOutsideAccount,
            "T1098.003",
        ),
        (
            "persistence.iam-create-backdoor-role",
            Signal::TrustOutsideAccount,
            "T1098.003",
        ),
        (
            "persistence.iam-backdoor-user",
            Signal::CredentialsForOthers,
            "T1098.001",
        ),
        (
            "persistence.iam-create-admin-user",
            Signal::PrivilegedPolicyAttached,
            "T1098.003",
        ),
        (
            "persistence.iam-create-admin-user",
            Signal::CloudAccountCreated,
            "T1136.003",
        ),
        (
            "persistence.iam-create-user-login-profile",
            Signal::CredentialsForOthers,
            "T1098.001",
        ),
        (
            "privilege-escalation.iam-update-user-login-profile",
            Signal::CredentialsForOthers,
            "T1098.001",
        ),
        (
            "persistence.lambda-backdoor-function",
            Signal::FunctionOpenedOutside,
            "T1098",
        ),
        (
            "persistence.lambda-overwrite-code",
            Signal::FunctionCodeChanged,
            "T1648",
        ),
        (
            "persistence.rolesanywhere-create-trust-anchor",
            Signal::CredentialsForOthers,
            "T1098.001",
        ),
        (
            "persistence.sts-federation-token",
            Signal::CredentialsForOthers,
            "T1098.001",
        ),
        (
            "credential-access.secretsmanager-retrieve-secrets",
            Signal::SecretsHarvest,
            "T1555.006",
        ),
        (
            "credential-access.secretsmanager-batch-retrieve-secrets",
            Signal::SecretsHarvest,
            "T1555.006",
        ),
        (
            "credential-access.ssm-retrieve-securestring-parameters",
            Signal::SecretsHarvest,
            "T1555.006",
        ),
        (
            "execution.ec2-user-data",
            Signal::UserDataChanged,
            "T1059.009",
        ),
        ("execution.ssm-send-command", Signal::RemoteCommand, "T1651"),
        (
            "execution.ssm-start-session",
            Signal::RemoteCommand,
            "T1651",
        ),
        (
            "lateral-movement.ec2-instance-connect",
            Signal::DirectVmConnection,
            "T1021.008",
        ),
        (
            "initial-access.console-login-without-mfa",
            Signal::ConsoleWithoutMfa,
            "T1078.004",
        ),
    ];
    for (technique, signal, id) in cases {
        let records: Vec<Value> = stratus(technique)
            .into_iter()
            .filter(|r| r["userIdentity"]["type"] == "IAMUser")
            .collect();
        let mut table = MemoryContextSource::new();
        ingest_cloudtrail(&mut table, technique, &records);
        let finding = iam_finding("iam-anomalous-behavior-credential-access.json", &records);
        let (a, body) = triage(table, finding).await;
        assert!(
            weight_of(&a, signal).is_some_and(|w| w > 0),
            "{technique}: no {signal}\n{body}"
        );
        assert!(
            body.contains("Behaviour observed") && body.contains(id),
            "{technique}: the notice names {id}\n{body}"
        );
        assert!(
            !body.contains("History available: 0 days")
                || weight_of(&a, Signal::NewUserAgent).is_none(),
            "{technique}: nothing is new without history"
        );
    }
}

/// A baseline shorter than the minimum (a week by default) calls nothing new: here the same
/// detonation's calls an hour earlier from another network and tool (varied: time, address and
/// user agent), which is history of 0 days.
#[tokio::test]
async fn a_baseline_of_zero_days_calls_nothing_new() {
    let records = stratus("persistence.iam-create-admin-user");
    let mut earlier: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let t = chrono::DateTime::parse_from_rfc3339(r["eventTime"].as_str().unwrap()).unwrap()
                - Duration::minutes(90);
            r["eventTime"] = t.format("%Y-%m-%dT%H:%M:%SZ").to_string().into();
            r["sourceIPAddress"] = "192.0.2.10".into();
            r["eventID"] = format!("{}-earlier", r["eventID"].as_str().unwrap()).into();
            r
        })
        .collect();
    for r in &mut earlier {
        r["userAgent"] = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023".into();
    }
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "earlier", &earlier);
    ingest_cloudtrail(&mut table, "window", &records);
    let (a, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &records)).await;
    assert!(body.contains("History available: 0 days"), "{body}");
    for signal in [
        Signal::NewIpForPrincipal,
        Signal::NewUserAgent,
        Signal::SensitiveCallsFromNewNetwork,
        Signal::KnownIpForPrincipal,
        Signal::UsualBehaviour,
    ] {
        assert_eq!(weight_of(&a, signal), None, "{signal}\n{body}");
    }
    assert!(!body.contains("New for this principal"), "{body}");
    assert!(
        weight_of(&a, Signal::PrivilegedPolicyAttached).is_some(),
        "the window's own behaviour still counts: {body}"
    );
}

/// Reads only clear a finding that claims a change; for a finding about reading (discovery,
/// credential access) they are what was claimed. The detonation's 5 plain DescribeParameters
/// reads (varied: only those records kept), under two finding types.
#[tokio::test]
async fn reads_only_clear_a_finding_that_claims_a_change() {
    let records: Vec<Value> = stratus("credential-access.ssm-retrieve-securestring-parameters")
        .into_iter()
        .filter(|r| r["eventName"] == "DescribeParameters")
        .collect();
    for (finding_type, expected) in [
        ("Persistence:IAMUser/AnomalousBehavior", Some(-15)),
        ("Discovery:IAMUser/AnomalousBehavior", None),
    ] {
        let mut table = MemoryContextSource::new();
        ingest_cloudtrail(&mut table, "reads", &records);
        let mut finding = iam_finding("iam-anomalous-behavior-credential-access.json", &records);
        finding["detail"]["type"] = finding_type.into();
        let (a, body) = triage(table, finding).await;
        assert_eq!(
            weight_of(&a, Signal::ReadOnlyWindow),
            expected,
            "{finding_type}\n{body}"
        );
    }
}

/// A role or user shared by several sessions or keys files every session's notable calls under
/// one principal; the behaviour of another key is not the finding's. The admin-user detonation
/// made with a second key of the same user (varied: access key), beside a read the finding's own
/// key made (the DescribeParameters reads of another detonation, varied: identity and time).
#[tokio::test]
async fn behaviour_of_another_key_of_the_same_principal_is_not_the_findings() {
    let admin = stratus("persistence.iam-create-admin-user");
    let identity = admin[0]["userIdentity"].clone();
    let time = admin[0]["eventTime"].clone();
    let mut other_key = admin.clone();
    for r in &mut other_key {
        r["userIdentity"]["accessKeyId"] = "AKIAOTHERSESSION0001".into();
    }
    let mut own: Vec<Value> = stratus("credential-access.ssm-retrieve-securestring-parameters")
        .into_iter()
        .filter(|r| r["eventName"] == "DescribeParameters")
        .collect();
    for r in &mut own {
        r["userIdentity"] = identity.clone();
        r["eventTime"] = time.clone();
    }
    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "other-key", &other_key);
    ingest_cloudtrail(&mut table, "own-key", &own);
    let (a, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &own)).await;
    assert_eq!(
        weight_of(&a, Signal::PrivilegedPolicyAttached),
        None,
        "{body}"
    );

    let mut table = MemoryContextSource::new();
    ingest_cloudtrail(&mut table, "other-key", &other_key);
    ingest_cloudtrail(&mut table, "own-key", &own);
    let (a, body) = triage(table, iam_finding("tor-ip-caller-iam.json", &other_key)).await;
    assert_eq!(
        weight_of(&a, Signal::PrivilegedPolicyAttached),
        Some(30),
        "{body}"
    );
}
