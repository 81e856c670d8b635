#!/usr/bin/env python3
"""Write the context the demo ingests before replaying the sample findings, so that two of their
notices show what enrichment adds (events/context/README.md says which, and what to expect).

    python3 scripts/gen-demo-context.py      # rewrites events/context/{cloudtrail,flowlogs,resolver,eks}/

- cloudtrail/ops-automation-history.json.gz: two weeks of routine for the IAM user of
  events/tor-ip-caller-iam.json (ops-automation, key AKIAQ3EGRT7KMB6C2D8E): the 10 real read-only
  SSM calls of the Stratus Red Team detonation "ssm-retrieve-securestring-parameters", once a day
  from the office address 203.0.113.7 with the AWS CLI.
- cloudtrail/ops-automation-window.json.gz: the 3 real calls of the Stratus detonation
  "iam-create-admin-user" (CreateUser, AttachUserPolicy, CreateAccessKey) made by that user from
  the finding's Tor exit address at the finding's time, after two AccessDenied attempts.
- flowlogs/ssh-brute-force-target.log.gz: default-format (v2) records, modelled on the AWS
  documentation's SSH record, for the interface of events/ssh-brute-force-target.json: 400
  rejected connections from 198.51.100.23 to port 22 over five hours, then 3 accepted sessions
  carrying 18 MB out.
- resolver/bitcoin-tool-dns.log.gz and flowlogs/bitcoin-tool-dns.log.gz: for the instance of
  events/cryptocurrency-bitcoin-tool-dns.json, Route 53 Resolver query-log entries in the shape of
  the Route 53 Developer Guide's example (tests/fixtures/resolver/awsdocs-example.json): its usual
  AWS endpoints every ten minutes from an hour before the finding, then the flagged mining pool
  pool.supportxmr.com answered with 203.0.113.50 (a documentation address standing in for the
  pool's), re-resolved hourly; and default-format flow records of the instance connecting to that
  answer on the Stratum port 3333 every ten minutes after the first lookup.

- eks/platform-eks-audit.json.gz: for the user of events/kubernetes-privileged-container.json
  (alice, through the eks-admins role, from 10.20.4.17 on cluster platform-eks), EKS audit events in
  the shape of the public EKS records (tests/fixtures/eks/, Panther's), wrapped in the CloudWatch
  Logs subscription payload Firehose delivers: an hour of her routine reads (pods, deployments,
  logs) every ten minutes, the finding's privileged pod node-debugger, then an exec session into
  it (logged at ResponseStarted, 101) and a list of kube-system's secrets.

The CloudTrail records keep their real shape and fields; only identity, address, user agent, time
and event ID are rewritten (the Stratus files are in tests/fixtures/cloudtrail/, Apache-2.0).
"""
import copy
import gzip
import datetime as dt
import json
import pathlib
import uuid

root = pathlib.Path(__file__).resolve().parent.parent
stratus = root / "tests/fixtures/cloudtrail/stratus_red_team_detonations"
out = root / "events/context"

ACCOUNT = "123456789012"
USER = "ops-automation"
KEY = "AKIAQ3EGRT7KMB6C2D8E"
OFFICE_IP = "203.0.113.7"
TOR_IP = "198.51.100.0"
CLI = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2023 prompt/off command/ssm.get-parameters"
FINDING_TIME = dt.datetime(2026, 2, 9, 15, 32, 49, tzinfo=dt.timezone.utc)


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def as_ops_automation(record, when, ip, agent):
    r = copy.deepcopy(record)
    # Every copy is its own call: a fresh, reproducible eventID (readers dedupe on it).
    r["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{record.get('eventID')}@{stamp(when)}@{ip}"))
    r["userIdentity"].update({
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{USER}",
        "accountId": ACCOUNT,
        "accessKeyId": KEY,
        "userName": USER,
    })
    r["userIdentity"].pop("sessionContext", None)
    r.update({"eventTime": stamp(when), "sourceIPAddress": ip, "userAgent": agent,
              "recipientAccountId": ACCOUNT, "awsRegion": "us-east-1"})
    return r


def load(technique):
    return json.loads((stratus / f"aws.{technique}.json").read_text())


routine = load("credential-access.ssm-retrieve-securestring-parameters")
history = []
for day in range(14, 0, -1):
    start = FINDING_TIME - dt.timedelta(days=day, hours=6)
    for i, record in enumerate(routine):
        history.append(as_ops_automation(record, start + dt.timedelta(seconds=3 * i), OFFICE_IP, CLI))

attack = load("persistence.iam-create-admin-user")
stratus_agent = attack[0]["userAgent"]
window = []
denied = copy.deepcopy(next(r for r in attack if r["eventName"] == "CreateUser"))
denied.update({"errorCode": "AccessDenied",
               "errorMessage": f"User: arn:aws:iam::{ACCOUNT}:user/{USER} is not authorized to perform: iam:CreateUser"})
denied.pop("responseElements", None)
for i in range(2):
    window.append(as_ops_automation(denied, FINDING_TIME - dt.timedelta(minutes=40 - i), TOR_IP, stratus_agent))
for i, record in enumerate(sorted(attack, key=lambda r: r["eventTime"])):
    window.append(as_ops_automation(record, FINDING_TIME + dt.timedelta(seconds=2 * i), TOR_IP, stratus_agent))

(out / "cloudtrail").mkdir(parents=True, exist_ok=True)
for name, records in [("ops-automation-history", history), ("ops-automation-window", window)]:
    # Gzip, as CloudTrail delivers to S3 (and so that the replays of events/**/*.json skip them).
    body = json.dumps({"Records": records}, separators=(",", ":")).encode() + b"\n"
    (out / "cloudtrail" / f"{name}.json.gz").write_bytes(gzip.compress(body, mtime=0))

eni, local, attacker = "eni-0c1d2e3f4a5b6c7d8", "10.0.1.25", "198.51.100.23"
start = 1770091869  # 2026-02-03T04:11:09Z, the finding's first sighting
lines = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"]
for i in range(400):
    t = start + i * 50
    lines.append(f"2 {ACCOUNT} {eni} {attacker} {local} {40000 + i} 22 6 3 180 {t} {t + 10} REJECT OK")
for i in range(3):
    t = start + 20500 + i * 300
    lines.append(f"2 {ACCOUNT} {eni} {attacker} {local} {50000 + i} 22 6 900 120000 {t} {t + 60} ACCEPT OK")
    lines.append(f"2 {ACCOUNT} {eni} {local} {attacker} 22 {50000 + i} 6 4000 6000000 {t} {t + 60} ACCEPT OK")
(out / "flowlogs").mkdir(parents=True, exist_ok=True)
# Gzip, as VPC Flow Logs deliver to S3.
body = ("\n".join(lines) + "\n").encode()
(out / "flowlogs" / "ssh-brute-force-target.log.gz").write_bytes(gzip.compress(body, mtime=0))

# The mining instance: what it resolved, then its connections to the pool's answer.
docs_entry = json.loads((root / "tests/fixtures/resolver/awsdocs-example.json").read_text())
instance, miner_eni, miner_ip, pool, pool_ip = (
    "i-0d3e4f5a6b7c8d9e0", "eni-0b2c3d4e5f6a7b8c1", "10.90.6.120", "pool.supportxmr.com", "203.0.113.50")
first_seen = dt.datetime(2026, 2, 26, 0, 0, 14, tzinfo=dt.timezone.utc)
last_seen = dt.datetime(2026, 2, 27, 23, 58, 40, tzinfo=dt.timezone.utc)


def lookup(when, name, answer):
    e = {k: v for k, v in docs_entry.items() if not k.startswith("firewall_")}
    e.update({"account_id": ACCOUNT, "region": "ap-northeast-1", "vpc_id": "vpc-0a1b2c3d4e5f60718",
              "query_timestamp": stamp(when), "query_name": f"{name}.", "query_type": "A",
              "rcode": "NOERROR", "answers": [{"Rdata": answer, "Type": "A", "Class": "IN"}],
              "srcaddr": miner_ip, "srcport": str(40000 + int(when.timestamp()) % 20000),
              "srcids": {"instance": instance}})
    return e


usual = [("ssm.ap-northeast-1.amazonaws.com", "52.119.161.5"), ("dynamodb.ap-northeast-1.amazonaws.com", "52.94.8.1"),
         ("sqs.ap-northeast-1.amazonaws.com", "52.119.160.202")]
entries = []
t = first_seen - dt.timedelta(hours=1)
while t <= last_seen:
    for i, (name, answer) in enumerate(usual):
        entries.append(lookup(t + dt.timedelta(seconds=i), name, answer))
    t += dt.timedelta(minutes=10)
t = first_seen
while t <= last_seen:
    entries.append(lookup(t, pool, pool_ip))
    t += dt.timedelta(hours=1)
entries.sort(key=lambda e: e["query_timestamp"])
(out / "resolver").mkdir(parents=True, exist_ok=True)
# One entry per line, gzip, as Resolver query logging delivers to S3.
body = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries).encode()
(out / "resolver" / "bitcoin-tool-dns.log.gz").write_bytes(gzip.compress(body, mtime=0))
miner = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"]
t = int(first_seen.timestamp()) + 6
while t <= int(last_seen.timestamp()):
    miner.append(f"2 {ACCOUNT} {miner_eni} {miner_ip} {pool_ip} 51514 3333 6 40 6200 {t} {t + 600} ACCEPT OK")
    miner.append(f"2 {ACCOUNT} {miner_eni} {pool_ip} {miner_ip} 3333 51514 6 38 9800 {t} {t + 600} ACCEPT OK")
    t += 600
body = ("\n".join(miner) + "\n").encode()
(out / "flowlogs" / "bitcoin-tool-dns.log.gz").write_bytes(gzip.compress(body, mtime=0))

# EKS audit events for events/kubernetes-privileged-container.json.
kube_time = dt.datetime(2026, 1, 30, 12, 2, 45, tzinfo=dt.timezone.utc)
alice = {
    "username": "arn:aws:sts::123456789012:assumed-role/eks-admins/alice",
    "uid": "aws-iam-authenticator:123456789012:AROAQ3EGRT7KN1B2V3C4X",
    "groups": ["system:authenticated", "eks-admins"],
    "extra": {"accessKeyId": ["ASIAQ3EGRT7KN5D6E7F8"],
              "arn": ["arn:aws:sts::123456789012:assumed-role/eks-admins/alice"],
              "canonicalArn": ["arn:aws:iam::123456789012:role/eks-admins"],
              "sessionName": ["alice"]},
}
kubectl = "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46"


def audit(when, verb, uri, resource, code, namespace=None, name=None, subresource=None, stage="ResponseComplete",
          request=None):
    ref = {"resource": resource, "apiVersion": "v1"}
    if namespace:
        ref["namespace"] = namespace
    if name:
        ref["name"] = name
    if subresource:
        ref["subresource"] = subresource
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata" if request is None else "Request",
         "auditID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{uri}@{when.isoformat()}@{verb}")), "stage": stage,
         "requestURI": uri, "verb": verb, "user": alice, "sourceIPs": ["10.20.4.17"], "userAgent": kubectl,
         "objectRef": ref, "responseStatus": {"metadata": {}, "code": code},
         "requestReceivedTimestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
         "stageTimestamp": (when + dt.timedelta(milliseconds=12)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
         "annotations": {"authorization.k8s.io/decision": "allow",
                         "authorization.k8s.io/reason": "EKS Access Policy: allowed by ClusterRoleBinding \"arn:aws:iam::123456789012:role/eks-admins+arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\" of ClusterRole \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\" to User \"eks-admins\""}}
    if request is not None:
        e["requestObject"] = request
    return e


kube = []
t = kube_time - dt.timedelta(hours=1)
while t < kube_time:
    kube.append(audit(t, "list", "/api/v1/namespaces/web/pods", "pods", 200, namespace="web"))
    kube.append(audit(t + dt.timedelta(seconds=2), "get", "/apis/apps/v1/namespaces/web/deployments/storefront",
                      "deployments", 200, namespace="web", name="storefront"))
    kube.append(audit(t + dt.timedelta(seconds=5), "get", "/api/v1/namespaces/web/pods/storefront-7c9d8-x2k4p/log",
                      "pods", 200, namespace="web", name="storefront-7c9d8-x2k4p", subresource="log"))
    t += dt.timedelta(minutes=10)
debugger = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "node-debugger", "namespace": "default"},
            "spec": {"hostPID": True, "hostNetwork": True,
                     "containers": [{"name": "debugger", "image": "docker.io/library/busybox:1.36",
                                     "securityContext": {"privileged": True},
                                     "volumeMounts": [{"name": "host-root", "mountPath": "/host"}]}],
                     "volumes": [{"name": "host-root", "hostPath": {"path": "/"}}]}}
kube.append(audit(kube_time, "create", "/api/v1/namespaces/default/pods", "pods", 201, namespace="default",
                  name="node-debugger", request=debugger))
kube.append(audit(kube_time + dt.timedelta(seconds=45),
                  "create", "/api/v1/namespaces/default/pods/node-debugger/exec?command=chroot&command=%2Fhost&stdin=true&tty=true",
                  "pods", 101, namespace="default", name="node-debugger", subresource="exec", stage="ResponseStarted"))
kube.append(audit(kube_time + dt.timedelta(minutes=4), "list", "/api/v1/namespaces/kube-system/secrets", "secrets", 200,
                  namespace="kube-system"))
payload = {"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": "/aws/eks/platform-eks/cluster",
           "logStream": "kube-apiserver-audit-8f2b7c1d9e0a4b3c5d6e7f8a9b0c1d2e", "subscriptionFilters": ["audit-to-firehose"],
           "logEvents": [{"id": str(36000000000000000000000000000000000000 + i),
                          "timestamp": int(dt.datetime.strptime(e["stageTimestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
                                           .replace(tzinfo=dt.timezone.utc).timestamp() * 1000),
                          "message": json.dumps(e, separators=(",", ":"))} for i, e in enumerate(kube)]}
(out / "eks").mkdir(parents=True, exist_ok=True)
# One payload per line, gzip, as Firehose writes a subscription's records to S3.
body = (json.dumps(payload, separators=(",", ":")) + "\n").encode()
(out / "eks" / "platform-eks-audit.json.gz").write_bytes(gzip.compress(body, mtime=0))
print(f"wrote {len(history)} + {len(window)} CloudTrail records, {len(lines) - 1} + {len(miner) - 1} flow records, "
      f"{len(entries)} Resolver entries and {len(kube)} EKS audit events under {out}")
