//! The reader and the aggregator on real records (`tests/fixtures/eks/`, provenance in its
//! README), in every shape an object comes in.

use super::*;
use crate::test_support::gzip;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::IpAddr;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/eks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

fn lines(name: &str) -> Vec<String> {
    String::from_utf8(fixture(name))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn kinds_of(line: &str) -> Vec<NotableKind> {
    let event: AuditObject<'_> = serde_json::from_str(line).unwrap();
    classify(&event).iter().collect()
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

/// A CloudWatch Logs subscription payload around `messages`, as CloudWatch Logs writes it.
fn payload(log_group: &str, log_stream: &str, messages: &[String]) -> String {
    let events: Vec<_> = messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            json!({
                "id": format!("3195310660696698337880902507980421114328961542429822156{i}"),
                "timestamp": 1_432_826_855_000_i64,
                "message": message,
            })
        })
        .collect();
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["Destination"],
        "logEvents": events,
    })
    .to_string()
}

const GROUP: &str = "/aws/eks/prod-cluster/cluster";
const STREAM: &str = "kube-apiserver-audit-0123456789abcdef0123456789abcdef";

#[test]
fn every_notable_kind_is_recognised_on_a_real_record() {
    let falco = lines("falco-k8s-audit.ndjson");
    let panther = lines("panther-k8s-notable.ndjson");
    use NotableKind::*;
    let expected: [(&str, Vec<NotableKind>); 17] = [
        (&falco[0], vec![Anonymous]),
        (&falco[1], vec![PrivilegedContainer]),
        (&falco[2], vec![HostPathMount]),
        (&falco[3], vec![HostNetwork]),
        (&falco[4], vec![PodExec]),
        (&falco[5], vec![PodAttach]),
        (&falco[6], vec![RbacChange, ClusterAdminBinding]),
        (&panther[0], vec![PodExec]),
        (&panther[1], vec![SecretRead]),
        (&panther[2], vec![SecretRead]),
        (&panther[3], vec![SecretRead]),
        (&panther[4], vec![TokenRequest]),
        (&panther[5], vec![HostPid]),
        (&panther[6], vec![PrivilegedContainer]),
        (&panther[7], vec![RbacChange, ClusterAdminBinding]),
        (&panther[8], vec![HostPathMount]),
        (&panther[9], vec![HostIpc]),
    ];
    for (line, kinds) in &expected {
        assert_eq!(&kinds_of(line), kinds, "{line}");
    }
    // Port forwarding has no public record: Falco's exec record, its subresource changed.
    let forward = falco[4].replace(
        "\"subresource\":\"exec\"",
        "\"subresource\":\"portforward\"",
    );
    assert_eq!(kinds_of(&forward), [PodPortForward]);
    let seen: NotableKinds = expected
        .iter()
        .flat_map(|(_, kinds)| kinds.iter().copied())
        .chain([PodPortForward])
        .collect();
    assert!(NotableKind::ALL.iter().all(|k| seen.contains(*k)));
    // Anonymous callers on the Panther EKS records, allowed or refused; an admin is not notable.
    let anonymous = lines("panther-eks-anonymous.ndjson");
    let kinds: Vec<_> = anonymous.iter().map(|l| kinds_of(l)).collect();
    assert_eq!(
        kinds,
        [vec![Anonymous], vec![], vec![Anonymous], vec![Anonymous]]
    );
}

#[test]
fn a_workload_is_notable_by_its_pod_template() {
    let deployment = String::from_utf8(fixture("falco-create-deployment.json")).unwrap();
    assert!(kinds_of(&deployment).is_empty(), "an ordinary template");
    // Falco's Deployment with a privileged container on the host's PID namespace in its template.
    let escaped = deployment
        .replace(
            "\"name\":\"nginx1\",",
            "\"name\":\"nginx1\",\"securityContext\":{\"privileged\":true},",
        )
        .replace("\"dnsPolicy\"", "\"hostPID\":true,\"dnsPolicy\"");
    assert_eq!(
        kinds_of(&escaped),
        [NotableKind::PrivilegedContainer, NotableKind::HostPid]
    );
    // The same template under a cron job's `jobTemplate`, as a CronJob holds it.
    let event: serde_json::Value = serde_json::from_str(&escaped).unwrap();
    let template = &event["requestObject"]["spec"]["template"];
    let mut cron = event.clone();
    cron["objectRef"]["resource"] = json!("cronjobs");
    cron["requestObject"]["spec"] = json!({"jobTemplate": {"spec": {"template": template}}});
    assert_eq!(
        kinds_of(&cron.to_string()),
        [NotableKind::PrivilegedContainer, NotableKind::HostPid]
    );
}

#[test]
fn a_kubelet_token_request_and_routine_calls_are_not_notable() {
    // A node asking a token for, or reading a secret of, a pod it runs is routine; so are reads
    // of other resources.
    let panther = lines("panther-k8s-notable.ndjson");
    for line in [&panther[1], &panther[4]] {
        let node = line.replace("attacker@example.com", "system:node:ip-10-0-1-2");
        assert!(kinds_of(&node).is_empty(), "{node}");
    }
    for line in lines("panther-eks-system-namespace.ndjson") {
        assert!(kinds_of(&line).is_empty(), "{line}");
    }
}

#[test]
fn calls_are_counted_once_and_sessions_when_they_started() {
    let (aggregates, summary) = read_cluster_object(
        &fixture("falco-k8s-audit.ndjson")[..],
        1 << 20,
        Some("minikube"),
    )
    .unwrap();
    assert_eq!(summary.records, 7);
    assert!(
        summary.skipped.is_empty(),
        "the exec and the attach count at ResponseStarted: {:?}",
        summary.skipped
    );
    let keys: Vec<_> = aggregates
        .iter()
        .map(|(k, _)| (k.username.as_str(), k.source_ip, k.bucket_start))
        .collect();
    let controller = "system:serviceaccount:kube-system:replicaset-controller";
    assert_eq!(
        keys,
        [
            ("minikube-user", ip("192.168.99.1"), 1_540_560_600),
            ("minikube-user", ip("192.168.99.1"), 1_540_561_200),
            ("minikube-user", ip("192.168.99.1"), 1_540_563_600),
            ("system:anonymous", ip("192.168.99.1"), 1_540_475_400),
            (controller, ip("::1"), 1_540_476_000),
            (controller, ip("::1"), 1_540_489_800),
            (controller, ip("::1"), 1_540_544_400),
        ]
    );
    assert!(aggregates.iter().all(|(k, _)| k.cluster == "minikube"));
    let (_, exec) = &aggregates[0];
    assert_eq!(
        exec.notable_counts,
        BTreeMap::from([(NotableKind::PodExec, 1)])
    );
    assert_eq!(exec.notable[0].code, Some(101));
    let (_, binding) = &aggregates[2];
    assert_eq!((binding.calls, binding.denied), (1, 0));
    assert_eq!(binding.verbs, BTreeMap::from([("create".into(), 1)]));
    assert_eq!(
        binding.resources,
        BTreeMap::from([("clusterrolebindings".into(), 1)])
    );
    let [call] = &binding.notable[..] else {
        panic!("{binding:?}");
    };
    assert_eq!(call.name.as_deref(), Some("some-reader-binding"));
    assert!(call.kinds.contains(NotableKind::ClusterAdminBinding));
    assert_eq!(call.time.to_rfc3339(), "2018-10-26T14:26:34.238974+00:00");
    let (_, privileged) = &aggregates[4];
    assert_eq!(
        privileged
            .groups
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "system:authenticated",
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system"
        ]
    );
    assert_eq!(
        privileged.uid.as_deref(),
        Some("8d5e1349-d30f-11e8-96d9-080027728ac4")
    );
    assert_eq!(
        privileged.notable_counts,
        BTreeMap::from([(NotableKind::PrivilegedContainer, 1)])
    );
}

#[test]
fn a_session_is_not_counted_again_when_it_ends() {
    let falco = lines("falco-k8s-audit.ndjson");
    let started = &falco[4];
    assert!(
        started.contains("\"stage\":\"ResponseStarted\""),
        "{started}"
    );
    let ended = started.replace(
        "\"stage\":\"ResponseStarted\"",
        "\"stage\":\"ResponseComplete\"",
    );
    let object = format!("{started}\n{ended}\n");
    let (aggregates, summary) = read_object(object.as_bytes(), 1 << 20).unwrap();
    assert_eq!(
        summary.skipped,
        BTreeMap::from([(SkipReason::SessionEnd, 1)])
    );
    let [(_, stats)] = &aggregates[..] else {
        panic!("{aggregates:?}");
    };
    assert_eq!(stats.calls, 1);
}

#[test]
fn eks_records_count_refusals_and_keep_the_paths_anonymous_callers_tried() {
    let mut object = fixture("panther-eks-anonymous.ndjson");
    object.extend(fixture("panther-eks-system-namespace.ndjson"));
    let (aggregates, summary) = read_object(&object[..], 1 << 20).unwrap();
    assert_eq!((summary.records, summary.skipped_total()), (8, 1));
    assert_eq!(summary.skipped[&SkipReason::NotFinalStage], 1);
    assert_eq!(summary.text_bytes, object.len() as u64);
    let find = |user: &str, address: &str| {
        aggregates
            .iter()
            .find(|(k, _)| k.username == user && k.source_ip == ip(address))
            .map(|(_, s)| s)
            .unwrap()
    };
    let scanner = find("system:anonymous", "8.216.81.10");
    assert_eq!((scanner.calls, scanner.denied), (1, 1), "403 and forbid");
    assert_eq!(
        scanner.resources,
        BTreeMap::from([(NON_RESOURCE.into(), 1)])
    );
    assert_eq!(
        scanner.notable[0].name.as_deref(),
        Some("/vendor/phpunit/src/Util/PHP/eval-stdin.php")
    );
    assert_eq!(
        scanner.user_agents.iter().collect::<Vec<_>>(),
        ["Custom-AsyncHttpClient"]
    );
    let version = find("system:anonymous", "44.238.138.237");
    assert_eq!((version.calls, version.denied), (1, 0));
    assert_eq!(version.notable[0].name.as_deref(), Some("/version"));
    assert!(version.refused.is_empty());
    assert_eq!(
        scanner.refused,
        BTreeMap::from([(format!("get {NON_RESOURCE}"), 1)]),
        "a path is not an action: a scanner's paths are one"
    );
    let coredns = find("system:serviceaccount:kube-system:coredns", "5.5.5.5");
    assert_eq!((coredns.calls, coredns.denied), (1, 1));
    assert!(coredns.notable.is_empty());
    assert_eq!(
        coredns.refused,
        BTreeMap::from([("watch endpointslices".into(), 1)])
    );
    // Panther's "2022-11-29 22:46:37.995" (no zone) is read as UTC.
    assert_eq!(coredns.first.to_rfc3339(), "2022-11-29T22:46:37.995+00:00");
    let admin = find("kubernetes-admin", "8.8.8.8");
    assert_eq!(
        admin.verbs,
        BTreeMap::from([("-".into(), 1)]),
        "no verb logged"
    );
    assert!(aggregates.iter().all(|(k, _)| k.cluster == UNKNOWN_CLUSTER));
}

#[test]
fn a_call_is_filed_under_the_address_the_api_server_saw_not_a_forwarded_one() {
    // Falco's binding record as if sent through a proxy, with a forwarded-for the client chose.
    let binding = &lines("falco-k8s-audit.ndjson")[6];
    let proxied = binding.replace(
        "\"sourceIPs\":[\"192.168.99.1\"]",
        "\"sourceIPs\":[\"203.0.113.9\",\"10.0.0.7\",\"192.168.99.1\"]",
    );
    assert_ne!(&proxied, binding);
    let (aggregates, _) =
        read_object(format!("{binding}\n{proxied}\n").as_bytes(), 1 << 20).unwrap();
    let [(key, stats)] = &aggregates[..] else {
        panic!("{aggregates:?}");
    };
    assert_eq!((key.source_ip, stats.calls), (ip("192.168.99.1"), 2));
    assert_eq!(
        stats.forwarded_for.iter().copied().collect::<Vec<_>>(),
        [ip("203.0.113.9").unwrap()]
    );
}

#[test]
fn records_without_a_stage_or_a_time_are_counted_skips() {
    let (aggregates, summary) =
        read_object(&fixture("panther-k8s-notable.ndjson")[..], 1 << 20).unwrap();
    assert!(aggregates.is_empty());
    assert_eq!(
        summary.skipped,
        BTreeMap::from([(SkipReason::UnknownStage, 6), (SkipReason::MissingTime, 4)])
    );
}

#[test]
fn gzip_and_plain_read_the_same() {
    let plain = fixture("falco-k8s-audit.ndjson");
    let from_plain = read_object(&plain[..], 1 << 20).unwrap();
    let from_gzip = read_object(&gzip(&plain)[..], 1 << 20).unwrap();
    assert_eq!(from_gzip, from_plain);
    assert_eq!(from_gzip.1.text_bytes, plain.len() as u64);
}

#[test]
fn subscription_payloads_gzip_and_concatenated_name_the_cluster() {
    let falco = lines("falco-k8s-audit.ndjson");
    let first = payload(GROUP, STREAM, &falco[..4]);
    let second = payload(GROUP, STREAM, &falco[4..]);
    let expected = read_cluster_object(
        &fixture("falco-k8s-audit.ndjson")[..],
        1 << 20,
        Some("prod-cluster"),
    )
    .unwrap();
    // As Firehose writes them to S3: gzip records back to back, no separator between them.
    let mut firehose = gzip(first.as_bytes());
    firehose.extend(gzip(second.as_bytes()));
    // As a function's subscription receives one (after base64), and as a newline-delimited
    // delivery holds them.
    let one_line = format!("{first}{second}");
    let delimited = format!("{first}\n{second}\n");
    for object in [firehose, gzip(one_line.as_bytes()), delimited.into_bytes()] {
        let (aggregates, summary) = read_object(&object[..], 1 << 20).unwrap();
        assert_eq!(
            (aggregates.clone(), summary.records),
            (expected.0.clone(), 7)
        );
        assert!(aggregates.iter().all(|(k, _)| k.cluster == "prod-cluster"));
    }
}

#[test]
fn payloads_back_to_back_past_the_line_bound_are_read_one_at_a_time() {
    let falco = lines("falco-k8s-audit.ndjson");
    let one = payload(GROUP, STREAM, &falco);
    let copies = (LINE_MAX as usize) / one.len() + 2;
    let long = one.repeat(copies);
    assert!(long.len() as u64 > LINE_MAX && !long.contains('\n'));
    for object in [long.clone().into_bytes(), gzip(long.as_bytes())] {
        let (aggregates, summary) = read_object(&object[..], 64 << 20).unwrap();
        assert_eq!(summary.records, 7 * copies as u64);
        assert_eq!(summary.skipped_total(), 0);
        assert_eq!(aggregates.len(), 7);
    }
    // A damaged payload ends the reading there: no newline to start again after.
    let damaged = format!("{long}{{\"messageType\": {one}");
    let (_, summary) = read_object(damaged.as_bytes(), 64 << 20).unwrap();
    assert_eq!(summary.records, 7 * copies as u64 + 1);
    assert_eq!(summary.skipped[&SkipReason::NotAnEvent], 1);
}

#[test]
fn control_messages_other_streams_and_bad_messages_are_counted_skips() {
    let falco = lines("falco-k8s-audit.ndjson");
    let control = json!({
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [{
            "id": "",
            "timestamp": 1_432_826_855_000_i64,
            "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."
        }]
    })
    .to_string();
    let authenticator = payload(
        GROUP,
        "authenticator-0123456789abcdef",
        &["time=\"2022-11-29T00:09:04Z\" level=info msg=\"access granted\"".to_string()],
    );
    let broken = payload(
        GROUP,
        STREAM,
        &[
            "not json".to_string(),
            payload(GROUP, STREAM, &falco[..1]),
            falco[0].clone(),
        ],
    );
    let object = format!("{control}\n{authenticator}\n{broken}\n");
    let (aggregates, summary) = read_object(object.as_bytes(), 1 << 20).unwrap();
    assert_eq!(summary.records, 5);
    assert_eq!(
        summary.skipped,
        BTreeMap::from([
            (SkipReason::NotAnEvent, 2),
            (SkipReason::ControlMessage, 1),
            (SkipReason::NotAuditStream, 1),
        ])
    );
    let [(key, _)] = &aggregates[..] else {
        panic!("{aggregates:?}");
    };
    assert_eq!(
        (key.cluster.as_str(), key.username.as_str()),
        ("prod-cluster", "system:anonymous")
    );
    assert_eq!(cluster_name("/aws/eks/a/cluster"), "a");
    assert_eq!(cluster_name("/aws/eks//cluster"), "/aws/eks//cluster");
    assert_eq!(cluster_name("my-export"), "my-export");
}

#[test]
fn an_array_export_reads_as_its_records_and_malformed_lines_are_skipped() {
    let falco = lines("falco-k8s-audit.ndjson");
    let array = format!("[\n{},\n42,\n{}\n]", falco[0], falco[6]);
    let (aggregates, summary) = read_object(array.as_bytes(), 1 << 20).unwrap();
    assert_eq!((summary.records, summary.skipped_total()), (3, 1));
    assert_eq!(aggregates.len(), 2);
    // Damaged lines of a delivery, and Falco's fuzzing regression record, are counted skips;
    // the others are kept.
    let mut lines = fixture("falco-k8s-audit.ndjson");
    lines.extend(b"{\"stage\": \n");
    lines.extend(b"[1, 2]\n\x00\xff\n");
    lines.extend(fixture("falco-fal_01_003.json"));
    let (aggregates, summary) = read_object(&lines[..], 1 << 20).unwrap();
    assert_eq!(summary.records, 11);
    assert_eq!(
        summary.skipped,
        BTreeMap::from([(SkipReason::NotAnEvent, 3), (SkipReason::UnknownStage, 1),])
    );
    assert_eq!(aggregates.len(), 7);
}

#[test]
fn a_broken_array_fails_whole_and_a_bomb_stops_at_the_cap() {
    assert!(matches!(
        read_object(&b"[{\"stage\": "[..], 1 << 20),
        Err(InputError::Json(_))
    ));
    let big = fixture("falco-k8s-audit.ndjson").repeat(100);
    let bomb = gzip(&big);
    assert!(bomb.len() < big.len() / 10, "{}", bomb.len());
    assert!(matches!(
        read_object(&bomb[..], 1 << 20),
        Err(InputError::TooLarge { limit: 1_048_576 })
    ));
    assert_eq!(read_object(&big[..], 2 << 20).unwrap().1.records, 700);
}

#[test]
fn aggregates_stay_bounded_however_many_calls() {
    // Falco's anonymous call, repeated with ever new names and agents in one bucket.
    let anonymous = &lines("falco-k8s-audit.ndjson")[0];
    let object: String = (0..200)
        .map(|i| {
            anonymous
                .replace(
                    "\"resource\":\"namespaces\"",
                    &format!("\"resource\":\"r{i}\""),
                )
                .replace(
                    "\"verb\":\"create\"",
                    &format!("\"verb\":\"v{i}\",\"userAgent\":\"a{i}\""),
                )
                + "\n"
        })
        .collect();
    let (aggregates, _) = read_object(object.as_bytes(), 1 << 20).unwrap();
    let [(_, stats)] = &aggregates[..] else {
        panic!("{aggregates:?}");
    };
    assert_eq!(stats.calls, 200);
    assert_eq!(stats.resources.len(), COUNTS_MAX + 1);
    assert_eq!(stats.resources[OTHER], 200 - COUNTS_MAX as u64);
    assert_eq!(stats.verbs.len(), COUNTS_MAX + 1);
    assert_eq!(stats.user_agents.len(), USER_AGENTS_MAX);
    assert_eq!(stats.notable.len(), NOTABLE_MAX);
    assert_eq!(stats.notable_dropped(), 200 - NOTABLE_MAX as u64);
    assert_eq!(stats.notable_counts[&NotableKind::Anonymous], 200);
}

/// Falco's anonymous namespace creation, from `address` at `time`.
fn anonymous_call(address: &str, time: &str) -> String {
    let mut record: serde_json::Value =
        serde_json::from_str(&lines("falco-k8s-audit.ndjson")[0]).unwrap();
    record["sourceIPs"] = json!([address]);
    for field in ["timestamp", "requestReceivedTimestamp", "stageTimestamp"] {
        record[field] = json!(time);
    }
    record.to_string()
}

#[test]
fn a_bounded_read_counts_every_call_once_in_parts_within_the_bound() {
    // Anonymous scanning: Falco's record from 400 addresses, one call a second for an hour and a
    // half (nine buckets), then one call of the first bucket arriving last.
    let start = chrono::DateTime::parse_from_rfc3339("2018-10-25T14:00:00Z").unwrap();
    let mut object = String::new();
    for i in 0..5400 {
        let time = (start + chrono::Duration::seconds(i)).to_rfc3339();
        let address = format!("198.51.100.{}", i % 200);
        let address = if i % 2 == 0 {
            address
        } else {
            format!("2001:db8::{}", i % 200)
        };
        object.push_str(&anonymous_call(&address, &time));
        object.push('\n');
    }
    object.push_str(&anonymous_call("203.0.113.7", "2018-10-25T14:05:00Z"));
    object.push('\n');
    let (whole, whole_summary) = read_object(object.as_bytes(), 64 << 20).unwrap();
    let limits = Limits {
        max_live: 100,
        grace_secs: 600,
    };
    let mut parts = Vec::new();
    let summary =
        read_object_within(object.as_bytes(), 64 << 20, limits, |part| parts.push(part)).unwrap();
    assert_eq!(summary.records, 5401);
    assert_eq!(summary.records, whole_summary.records);
    assert!(
        summary.peak_live <= limits.max_live + 1,
        "{}",
        summary.peak_live
    );
    assert!(
        whole_summary.peak_live >= 400,
        "unbounded, a bucket's addresses are all live"
    );
    assert!(
        parts.len() > 9,
        "the bound splits buckets: {} parts",
        parts.len()
    );
    let calls = |aggregates: &[(CallKey, CallStats)]| -> BTreeMap<(Option<IpAddr>, i64), u64> {
        let mut calls = BTreeMap::new();
        for (key, stats) in aggregates {
            *calls.entry((key.source_ip, key.bucket_start)).or_default() += stats.calls;
        }
        calls
    };
    let bounded: Vec<_> = parts.concat();
    assert_eq!(calls(&bounded), calls(&whole), "every call counted once");
    assert_eq!(bounded.iter().map(|(_, s)| s.calls).sum::<u64>(), 5401);
    assert!(
        bounded
            .iter()
            .all(|(k, _)| k.username == "system:anonymous")
    );
    // The late call's bucket was handed over long before: it starts the bucket again and is
    // handed over at once, a part of its own, so it adds to the bucket instead of replacing it.
    let late = ip("203.0.113.7");
    let part = parts
        .iter()
        .find(|part| part.iter().any(|(k, _)| k.source_ip == late))
        .unwrap();
    assert_eq!(part.len(), 1, "{part:?}");
    assert_eq!(
        part[0].0.bucket_start, 1_540_476_000,
        "2018-10-25T14:00:00Z"
    );
}
