//! EKS audit aggregates as items. A Kubernetes finding names its cluster
//! (`resource.eksClusterDetails.name`), its user (`kubernetesDetails.kubernetesUserDetails.username`)
//! and the addresses the calls came from (`service.action.kubernetesApiCallAction.sourceIps`), so
//! each aggregate is filed twice:
//! - under its user, `K8S#<cluster>#user#<username>`: what else the finding's user did, from
//!   anywhere (a stolen credential used from a second address);
//! - under its address, `K8S#<cluster>#ip#<address>`: what else came from the finding's
//!   addresses under other names (anonymous scanning, several stolen credentials used from one
//!   host). Calls logged without an address are filed under their user only.
//!
//! The same row is in both partitions: a reader sums within one subject, and a row read under
//! both (the finding's user from the finding's address) is one aggregate, told apart by its
//! cluster, user, address and bucket. Both partitions cost one item per chunk, so about twice the
//! write units of filing once, for lookups that need no scan. A user keyed per cluster keeps two
//! clusters' `kubernetes-admin` apart. Rows are JSON lines (nested counts and notable calls do
//! not fit a tab-separated line), deflated: the repeated keys cost almost nothing once compressed.

use super::{ChunkNumbers, ObjectId, Packer, bucket_items, inflate};
use crate::Item;
use crate::context_lookup::Lookup;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use triage_domain::enrich::{Context, Subjects};
use triage_domain::kube::{
    KubeCaller, KubeRow, NotableCall, NotableKind, NotableKinds, address_subject, is_anonymous,
    is_user_subject, user_subject,
};
use triage_domain::scope::ScopeWindow;
use triage_logs::eks::{BUCKET_SECS, CallKey, CallStats};

/// The window's ten-minute buckets (the reader's) of the finding's user and of its addresses.
pub(crate) fn lookups(subjects: &Subjects, window: &ScopeWindow) -> Vec<Lookup> {
    let keys = &subjects.sources.kube;
    let users =
        (keys.users.iter()).map(|pk| Lookup::buckets(pk, "", window, BUCKET_SECS, absorb_user));
    let addresses = (keys.addresses.iter())
        .map(|pk| Lookup::buckets(pk, "", window, BUCKET_SECS, absorb_address));
    users.chain(addresses).collect()
}

fn absorb_user(context: &mut Context, _: &Subjects, _pk: &str, _sk: &str, blob: &[u8]) {
    context.sources.kube.rows.extend(decode_kube_rows(blob));
}

/// An address's rows: anonymous calls whole (an anonymous finding's own calls are only here),
/// every other user's as counts, and none of a user read under its own key: the ingest files
/// every aggregate under its user and under its address, so that row would be read twice.
fn absorb_address(context: &mut Context, subjects: &Subjects, _pk: &str, _sk: &str, blob: &[u8]) {
    let users = &subjects.sources.kube.users;
    let (rows, callers) = decode_kube_callers(
        blob,
        |_, user| is_anonymous(user),
        |cluster, user| users.iter().any(|pk| is_user_subject(pk, cluster, user)),
    );
    let kube = &mut context.sources.kube;
    kube.rows.extend(rows);
    kube.callers.extend(callers);
}

/// The EKS audit aggregates of one object as items, read in one part. Objects read in parts
/// number their chunks with [`ChunkNumbers::kube_items`].
pub fn kube_items(
    aggregates: &[(CallKey, CallStats)],
    object: &ObjectId,
    expires_at: i64,
) -> Vec<Item> {
    ChunkNumbers::default().kube_items(aggregates, object, expires_at)
}

impl ChunkNumbers {
    /// The items of the next part of an EKS audit log object.
    pub fn kube_items(
        &mut self,
        aggregates: &[(CallKey, CallStats)],
        object: &ObjectId,
        expires_at: i64,
    ) -> Vec<Item> {
        self.part(expires_at, |packed| {
            kube_part_items(aggregates, object, packed)
        })
    }
}

fn kube_part_items(
    aggregates: &[(CallKey, CallStats)],
    object: &ObjectId,
    packed: &mut Packer<'_>,
) -> Vec<Item> {
    let mut groups: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
    for (key, stats) in aggregates {
        let row = stored(key, stats);
        if let Some(address) = &key.source_ip {
            groups
                .entry((address_subject(&key.cluster, address), key.bucket_start))
                .or_default()
                .push(row.clone());
        }
        groups
            .entry((user_subject(&key.cluster, &key.username), key.bucket_start))
            .or_default()
            .push(row);
    }
    bucket_items(groups, object, packed)
}

/// A row as stored, keys kept short: they are repeated on every line.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    c: String,
    u: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    g: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ua: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    imp: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fwd: Vec<IpAddr>,
    n: u64,
    #[serde(default)]
    d: u64,
    f: DateTime<Utc>,
    l: DateTime<Utc>,
    #[serde(default)]
    v: BTreeMap<String, u64>,
    #[serde(default)]
    r: BTreeMap<String, u64>,
    /// Refused calls by action; absent from rows written before it was kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    dr: BTreeMap<String, u64>,
    #[serde(default)]
    nn: u64,
    /// Per kind by stored name: a name this version does not know is left out on reading.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    nc: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    k: Vec<StoredCall>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredCall {
    t: DateTime<Utc>,
    /// [`NotableKinds::to_stored`].
    k: String,
    v: String,
    r: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
    #[serde(default)]
    den: bool,
}

fn stored(key: &CallKey, stats: &CallStats) -> String {
    let row = Stored {
        c: key.cluster.clone(),
        u: key.username.clone(),
        ip: key.source_ip,
        uid: stats.uid.clone(),
        g: stats.groups.iter().cloned().collect(),
        ua: stats.user_agents.iter().cloned().collect(),
        imp: stats.impersonated.iter().cloned().collect(),
        fwd: stats.forwarded_for.iter().copied().collect(),
        n: stats.calls,
        d: stats.denied,
        f: stats.first,
        l: stats.last,
        v: stats.verbs.clone(),
        r: stats.resources.clone(),
        dr: stats.refused.clone(),
        nn: stats.notable_calls,
        nc: stats
            .notable_counts
            .iter()
            .map(|(kind, n)| (kind.as_str().to_owned(), *n))
            .collect(),
        k: stats
            .notable
            .iter()
            .map(|call| StoredCall {
                t: call.time,
                k: call.kinds.to_stored(),
                v: call.verb.clone(),
                r: call.resource.clone(),
                ns: call.namespace.clone(),
                nm: call.name.clone(),
                code: call.code,
                den: call.denied,
            })
            .collect(),
    };
    // Strings, numbers, addresses and times only: serialising into memory does not fail.
    serde_json::to_string(&row).unwrap_or_default()
}

/// The Kubernetes rows of one item, as written by [`kube_items`]; a line that does not read
/// (damaged, or of another shape) is left out.
pub fn decode_kube_rows(blob: &[u8]) -> Vec<KubeRow> {
    inflate(blob)
        .lines()
        .filter_map(|line| serde_json::from_str::<Stored>(line).ok())
        .map(row)
        .collect()
}

/// The head of a stored row: who, from where, how many. Borrowed, and every other field skipped
/// unparsed.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow)]
    c: Cow<'a, str>,
    #[serde(borrow)]
    u: Cow<'a, str>,
    #[serde(default)]
    ip: Option<IpAddr>,
    n: u64,
    #[serde(default)]
    d: u64,
}

/// The rows of an address's item, read as far as needed: whole for the users `whole` picks,
/// counts only ([`KubeCaller`]) for the others, none for those `skip` picks (read whole under
/// their own key). An address behind a NAT gateway carries thousands of users' aggregates, of
/// which a notice shows names and counts: decoding each whole cost 3.6 us.
pub fn decode_kube_callers(
    blob: &[u8],
    whole: impl Fn(&str, &str) -> bool,
    skip: impl Fn(&str, &str) -> bool,
) -> (Vec<KubeRow>, Vec<KubeCaller>) {
    let mut rows = Vec::new();
    let mut callers = Vec::new();
    for line in inflate(blob).lines() {
        let Ok(head) = serde_json::from_str::<Head>(line) else {
            continue;
        };
        if skip(&head.c, &head.u) {
            continue;
        }
        if whole(&head.c, &head.u) {
            rows.extend(serde_json::from_str::<Stored>(line).ok().map(row));
        } else {
            callers.push(KubeCaller {
                cluster: head.c.into_owned(),
                username: head.u.into_owned(),
                source_ip: head.ip,
                calls: head.n,
                denied: head.d,
            });
        }
    }
    (rows, callers)
}

fn row(row: Stored) -> KubeRow {
    KubeRow {
        cluster: row.c,
        username: row.u,
        source_ip: row.ip,
        uid: row.uid,
        groups: row.g,
        user_agents: row.ua,
        impersonated: row.imp,
        forwarded_for: row.fwd,
        calls: row.n,
        denied: row.d,
        first: row.f,
        last: row.l,
        verbs: row.v,
        resources: row.r,
        refused: row.dr,
        notable_calls: row.nn,
        notable_counts: row
            .nc
            .into_iter()
            .filter_map(|(name, n)| Some((NotableKind::parse(&name)?, n)))
            .collect(),
        notable: row
            .k
            .into_iter()
            .map(|call| NotableCall {
                time: call.t,
                kinds: NotableKinds::from_stored(&call.k),
                verb: call.v,
                resource: call.r,
                namespace: call.ns,
                name: call.nm,
                code: call.code,
                denied: call.den,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use triage_logs::eks::read_cluster_object;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../tests/fixtures/eks/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    /// Rows by partition key, each item's `rows_n` checked against its rows.
    fn decoded(items: &[Item]) -> BTreeMap<String, Vec<KubeRow>> {
        let mut rows: BTreeMap<String, Vec<KubeRow>> = BTreeMap::new();
        for item in items {
            let decoded = decode_kube_rows(item["rows"].as_b().unwrap().as_ref());
            assert_eq!(decoded.len().to_string(), *item["rows_n"].as_n().unwrap());
            rows.entry(item["pk"].as_s().unwrap().clone())
                .or_default()
                .extend(decoded);
        }
        rows
    }

    #[test]
    fn each_aggregate_reads_back_whole_under_its_user_and_its_address() {
        let (aggregates, _) = read_cluster_object(
            &fixture("falco-k8s-audit.ndjson")[..],
            1 << 20,
            Some("minikube"),
        )
        .unwrap();
        assert_eq!(aggregates.len(), 7);
        let id = ObjectId::of("eks");
        let items = kube_items(&aggregates, &id, 7);
        let rows = decoded(&items);
        let controller = "system:serviceaccount:kube-system:replicaset-controller";
        assert_eq!(
            rows.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "K8S#minikube#ip#192.168.99.1",
                "K8S#minikube#ip#::1",
                "K8S#minikube#user#minikube-user",
                "K8S#minikube#user#system:anonymous",
                &format!("K8S#minikube#user#{controller}"),
            ]
        );
        // One item per subject and bucket: the controller's three buckets are three items, and
        // the host's address carries the anonymous call's bucket and the user's three.
        assert_eq!(items.len(), 4 + 3 + 3 + 1 + 3);
        let sks: Vec<&str> = items
            .iter()
            .filter(|i| i["pk"].as_s().unwrap() == "K8S#minikube#user#minikube-user")
            .map(|i| i["sk"].as_s().unwrap().as_str())
            .collect();
        assert_eq!(
            sks,
            ["13:30", "13:40", "14:20"].map(|t| format!("2018-10-26T{t}:00Z#{}#0", id.as_str()))
        );
        for (key, stats) in &aggregates {
            let user = &rows[&user_subject(&key.cluster, &key.username)];
            let address = &rows[&address_subject(&key.cluster, &key.source_ip.unwrap())];
            let row = user
                .iter()
                .find(|r| r.source_ip == key.source_ip && r.first == stats.first)
                .unwrap();
            assert!(address.contains(row), "the same row under both keys");
            assert_eq!(
                (row.cluster.as_str(), row.username.as_str()),
                (key.cluster.as_str(), key.username.as_str())
            );
            assert_eq!(
                (row.calls, row.denied, row.last),
                (stats.calls, stats.denied, stats.last)
            );
            assert_eq!(
                (&row.verbs, &row.resources, &row.refused),
                (&stats.verbs, &stats.resources, &stats.refused)
            );
            assert_eq!(row.groups, stats.groups.iter().cloned().collect::<Vec<_>>());
            assert_eq!(row.uid, stats.uid);
            assert_eq!(row.notable_calls, stats.notable_calls);
            assert_eq!(row.notable_counts, stats.notable_counts);
            assert_eq!(row.notable, stats.notable);
        }
        let admin = &rows["K8S#minikube#user#minikube-user"][2];
        assert_eq!(
            admin.notable[0].kinds.iter().collect::<Vec<_>>(),
            [NotableKind::RbacChange, NotableKind::ClusterAdminBinding]
        );
        assert_eq!(
            admin.notable[0].time.to_rfc3339(),
            "2018-10-26T14:26:34.238974+00:00",
            "times keep their fraction"
        );
    }

    #[test]
    fn an_address_reads_whole_only_the_users_asked_and_counts_the_rest() {
        let (aggregates, _) = read_cluster_object(
            &fixture("falco-k8s-audit.ndjson")[..],
            1 << 20,
            Some("minikube"),
        )
        .unwrap();
        let items = kube_items(&aggregates, &ObjectId::of("eks"), 7);
        let host = address_subject("minikube", &"192.168.99.1".parse().unwrap());
        let blobs: Vec<&[u8]> = items
            .iter()
            .filter(|i| *i["pk"].as_s().unwrap() == host)
            .map(|i| i["rows"].as_b().unwrap().as_ref())
            .collect();
        let read = |skip_admin: bool| {
            let (mut rows, mut callers) = (Vec::new(), Vec::new());
            for blob in &blobs {
                let (r, c) = decode_kube_callers(
                    blob,
                    |_, user| user == "system:anonymous",
                    |_, user| skip_admin && user == "minikube-user",
                );
                rows.extend(r);
                callers.extend(c);
            }
            (rows, callers)
        };
        let (rows, callers) = read(true);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].username, "system:anonymous");
        assert_eq!(
            rows[0].resources,
            BTreeMap::from([("namespaces".into(), 1)])
        );
        assert!(callers.is_empty(), "the admin is read under its own key");
        let (_, callers) = read(false);
        assert_eq!(
            callers.len(),
            3,
            "the exec, the attach and the binding's buckets"
        );
        assert!(callers.iter().all(|c| c.username == "minikube-user"
            && c.cluster == "minikube"
            && c.source_ip == "192.168.99.1".parse().ok()
            && (c.calls, c.denied) == (1, 0)));
        let whole: Vec<KubeRow> = blobs.iter().flat_map(|b| decode_kube_rows(b)).collect();
        assert_eq!(whole.len(), 4, "the same lines, read whole");
    }

    #[test]
    fn a_call_without_an_address_is_filed_under_its_user_only_and_bad_lines_are_left_out() {
        let (mut aggregates, _) =
            read_cluster_object(&fixture("falco-k8s-audit.ndjson")[..], 1 << 20, None).unwrap();
        aggregates.truncate(1);
        aggregates[0].0.source_ip = None;
        let items = kube_items(&aggregates, &ObjectId::of("eks"), 7);
        let [item] = &items[..] else {
            panic!("{items:?}");
        };
        assert_eq!(item["pk"].as_s().unwrap(), "K8S#-#user#minikube-user");
        assert_eq!(
            decode_kube_rows(item["rows"].as_b().unwrap().as_ref()).len(),
            1
        );
        let damaged = super::super::deflate("{\"c\":\"x\"}\nnot json\n");
        assert!(decode_kube_rows(&damaged).is_empty());
        assert!(decode_kube_rows(b"garbage").is_empty());
    }
}
