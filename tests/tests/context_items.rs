//! Context items on the wire: the flow aggregates of a real object written with `BatchWriter`
//! and read back, rows intact; writing the same object twice leaves the same items; a subject
//! whose items exceed a `Query` page is read whole.

use integration_tests::{LocalStack, unique};
use triage_aws::context_items::{ObjectId, decode_flow_rows, flow_items};
use triage_aws::{BatchWriter, DynamoContextSource};
use triage_domain::enrich::{ContextSource, Subjects};
use triage_domain::scope::ScopeWindow;
use triage_logs::flowlogs;

#[tokio::test]
async fn flow_items_round_trip_and_rewriting_an_object_is_idempotent() {
    let stack = LocalStack::start().await;
    // The documentation's default-format records, with a unique interface so the test owns its keys.
    let fixture = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vpcflow/default-v2.txt"),
    )
    .unwrap();
    let eni = unique("eni");
    let text = fixture.replace("eni-1235b8ca123456789", &eni);
    let (aggregates, _) =
        flowlogs::ingest(text.as_bytes(), &flowlogs::IngestOptions::default()).unwrap();
    let expected_rows = aggregates
        .iter()
        .filter(|a| a.interface_id == Some(eni.as_str()))
        .count();
    assert!(expected_rows > 0, "fixture has records of that interface");
    let items = flow_items(&aggregates, &ObjectId::of(&eni), 2_000_000_000);
    let writer = BatchWriter::new(stack.dynamodb.clone(), &stack.table);
    writer.put_all(items.clone()).await.unwrap();
    writer.put_all(items).await.unwrap();

    let stored = stack.partition(format!("FLOW#{eni}")).await;
    let mut rows = 0;
    for item in stored.items() {
        let decoded = decode_flow_rows(item["rows"].as_b().unwrap().as_ref());
        assert_eq!(decoded.len().to_string(), *item["rows_n"].as_n().unwrap());
        assert!(decoded.iter().all(|r| r.flows > 0 && r.first <= r.last));
        rows += decoded.len();
    }
    assert_eq!(rows, expected_rows, "written twice, stored once");
}

/// A busy interface fills more than one 1 MB page of a `Query`: every page must be read. 200,000
/// flows from random remotes in one 10-minute bucket (the documentation's SSH record, varied:
/// remote address, port, packets and bytes) make over 1 MB of items after deflate.
#[tokio::test]
async fn context_queries_read_every_page_of_a_busy_subject() {
    let stack = LocalStack::start().await;
    let eni = unique("eni");
    let mut text = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    let t = 1_770_091_869;
    // xorshift: addresses, ports and sizes that compress like real traffic, not like a counter.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..200_000 {
        let r = next();
        let remote = std::net::Ipv4Addr::from((r >> 32) as u32 | 0x0100_0000);
        text.push_str(&format!(
            "2 123456789010 {eni} {remote} 172.31.16.21 {} 22 6 {} {} {t} {} ACCEPT OK\n",
            1024 + r % 60_000,
            1 + (r >> 16) % 90,
            40 + (r >> 24) % 90_000,
            t + 60
        ));
    }
    let (aggregates, _) =
        flowlogs::ingest(text.as_bytes(), &flowlogs::IngestOptions::default()).unwrap();
    let expected = aggregates.iter().count();
    let items = flow_items(&aggregates, &ObjectId::of(&eni), 2_000_000_000);
    let stored_bytes: usize = items.iter().map(triage_aws::item_size).sum();
    assert!(
        stored_bytes > 1024 * 1024,
        "{stored_bytes} bytes: not enough for a second page"
    );
    BatchWriter::new(stack.dynamodb.clone(), &stack.table)
        .put_all(items)
        .await
        .unwrap();

    let subjects = Subjects {
        interfaces: [format!("FLOW#{eni}")].into(),
        ..Subjects::default()
    };
    let start = chrono::DateTime::from_timestamp(t - 3600, 0).unwrap();
    let window = ScopeWindow {
        start,
        end: start + chrono::Duration::hours(2),
        look_back: chrono::Duration::hours(1),
    };
    let before = stack.requests.get();
    let context = DynamoContextSource::new(stack.dynamodb.clone(), &stack.table)
        .load(&subjects, &window)
        .await
        .unwrap();
    assert_eq!(context.flows.len(), expected, "every row of every page");
    let queries = stack.requests.get() - before;
    // DynamoDB (and dynalite) stop a page at 1 MB; moto returns everything at once.
    if std::env::var_os("TRIAGE_DYNAMODB_IS_DYNALITE").is_some() {
        assert!(
            queries >= 2,
            "{queries} Query call(s): the 1 MB page was not followed"
        );
    }
}

/// Route 53 Resolver query aggregates written with `BatchWriter` and read back from the server,
/// twice written, stored once.
#[tokio::test]
async fn resolver_items_round_trip_and_rewriting_an_object_is_idempotent() {
    let stack = LocalStack::start().await;
    let fixture = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/resolver/panther-vpcdns.ndjson"),
    )
    .unwrap();
    let instance = unique("i");
    let text = fixture.replace("i-0abc234", &instance);
    let (aggregates, _) = triage_logs::resolver::read_object(text.as_bytes(), 1 << 20).unwrap();
    let items = triage_aws::context_items::resolver_items(
        &aggregates,
        &ObjectId::of(&instance),
        2_000_000_000,
    );
    let writer = BatchWriter::new(stack.dynamodb.clone(), &stack.table);
    writer.put_all(items.clone()).await.unwrap();
    writer.put_all(items).await.unwrap();
    let stored = stack.partition(format!("DNS#{instance}")).await;
    let rows: Vec<_> = stored
        .items()
        .iter()
        .flat_map(|item| {
            triage_aws::context_items::decode_resolver_rows(item["rows"].as_b().unwrap().as_ref())
        })
        .collect();
    assert_eq!(rows.len(), 4, "four names, each once: {rows:?}");
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 8);
}

/// A finding's instance's Resolver queries read back through `DynamoContextSource::load`: the
/// Panther records filed under the instance, and the documentation's example with its `srcids`
/// removed (as a query from an address with no instance is logged) filed under its address, are
/// found by the subjects of a finding naming that instance and address; a window a day later
/// finds none of them (the sort-key range bounds the query).
#[tokio::test]
async fn resolver_rows_of_a_findings_instance_and_its_addresses_are_loaded() {
    let stack = LocalStack::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/resolver");
    let instance = unique("i");
    let address = format!(
        "10.{}.{}.{}",
        fastrand::u8(1..255),
        fastrand::u8(1..255),
        fastrand::u8(1..255)
    );
    let panther = std::fs::read_to_string(dir.join("panther-vpcdns.ndjson"))
        .unwrap()
        .replace("i-0abc234", &instance);
    let mut docs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("awsdocs-example.json")).unwrap()).unwrap();
    docs.as_object_mut().unwrap().remove("srcids");
    docs["srcaddr"] = serde_json::Value::String(address.clone());
    let writer = BatchWriter::new(stack.dynamodb.clone(), &stack.table);
    for (name, text) in [("panther", panther), ("docs", docs.to_string())] {
        let (aggregates, _) = triage_logs::resolver::read_object(text.as_bytes(), 1 << 20).unwrap();
        let items = triage_aws::context_items::resolver_items(
            &aggregates,
            &ObjectId::of(&format!("{name}{instance}")),
            2_000_000_000,
        );
        writer.put_all(items).await.unwrap();
    }
    let event = triage_domain::finding::parse_event(serde_json::json!({
        "id": "a", "type": "CryptoCurrency:EC2/BitcoinTool.B!DNS", "severity": 8,
        "resource": {"instanceDetails": {"instanceId": instance,
            "networkInterfaces": [{"networkInterfaceId": "eni-0", "privateIpAddress": address}]}}
    }))
    .unwrap();
    let subjects = triage_domain::enrich::subjects(&event);
    let source = DynamoContextSource::new(stack.dynamodb.clone(), &stack.table);
    let window = |start: &str, end: &str| ScopeWindow {
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        look_back: chrono::Duration::hours(1),
    };

    let june = source
        .load(
            &subjects,
            &window("2022-06-25T00:00:00Z", "2022-06-25T01:00:00Z"),
        )
        .await
        .unwrap();
    let mut names: Vec<&str> = june.sources.dns.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "abc.abc.moneropool.ru",
            "dynamodb.us-west-2.amazonaws.com",
            "moneropool.ru",
            "webservicepag.webhop.net"
        ]
    );
    assert_eq!(june.sources.dns.iter().map(|r| r.count).sum::<u64>(), 8);

    let february = source
        .load(
            &subjects,
            &window("2021-02-04T17:00:00Z", "2021-02-04T18:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(february.sources.dns.len(), 1, "{:?}", february.sources.dns);
    let ptr = &february.sources.dns[0];
    assert_eq!(
        (ptr.name.as_str(), ptr.firewall_action),
        (
            "15.3.4.32.in-addr.arpa",
            Some(triage_domain::dns::FirewallAction::Block)
        )
    );

    let later = source
        .load(
            &subjects,
            &window("2022-06-26T00:00:00Z", "2022-06-26T01:00:00Z"),
        )
        .await
        .unwrap();
    assert!(later.sources.dns.is_empty(), "{:?}", later.sources.dns);
}

/// Falco's audit records (minikube, 2018) under a cluster of the test's own, written twice: each
/// aggregate reads back once under its user's key and once under its address's, notable calls
/// with their kinds.
#[tokio::test]
async fn kube_items_round_trip_under_user_and_address_and_rewriting_is_idempotent() {
    use triage_aws::context_items::{decode_kube_rows, kube_items};
    use triage_domain::kube::NotableKind;
    use triage_domain::kube::{address_subject, user_subject};
    let stack = LocalStack::start().await;
    let object = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/eks/falco-k8s-audit.ndjson"),
    )
    .unwrap();
    let cluster = unique("eks");
    let (aggregates, _) =
        triage_logs::eks::read_cluster_object(&object[..], 1 << 20, Some(&cluster)).unwrap();
    let items = kube_items(&aggregates, &ObjectId::of(&cluster), 2_000_000_000);
    let writer = BatchWriter::new(stack.dynamodb.clone(), &stack.table);
    writer.put_all(items.clone()).await.unwrap();
    writer.put_all(items).await.unwrap();
    let rows = |pk: String| {
        let stack = &stack;
        async move {
            let stored = stack.partition(pk).await;
            stored
                .items()
                .iter()
                .flat_map(|item| decode_kube_rows(item["rows"].as_b().unwrap().as_ref()))
                .collect::<Vec<_>>()
        }
    };
    let admin = rows(user_subject(&cluster, "minikube-user")).await;
    // The exec, the attach and the binding: three buckets, each aggregate stored once.
    let [exec, attach, binding] = &admin[..] else {
        panic!("three aggregates, each stored once: {admin:?}");
    };
    assert_eq!(exec.resources.keys().collect::<Vec<_>>(), ["pods/exec"]);
    assert_eq!(attach.resources.keys().collect::<Vec<_>>(), ["pods/attach"]);
    assert_eq!((binding.calls, binding.denied), (1, 0));
    assert!(
        binding.notable[0]
            .kinds
            .contains(NotableKind::ClusterAdminBinding)
    );
    let address = rows(address_subject(&cluster, &"192.168.99.1".parse().unwrap())).await;
    let mut users: Vec<_> = address.iter().map(|r| r.username.as_str()).collect();
    users.sort();
    assert_eq!(
        users,
        [
            "minikube-user",
            "minikube-user",
            "minikube-user",
            "system:anonymous"
        ]
    );
    assert!(address.contains(binding), "the same row under the address");
    let controller = rows(user_subject(
        &cluster,
        "system:serviceaccount:kube-system:replicaset-controller",
    ))
    .await;
    assert_eq!(controller.len(), 3, "three buckets");
    assert_eq!(
        controller.iter().map(|r| r.notable_calls).sum::<u64>(),
        3,
        "privileged, sensitive mount, host network"
    );
}
