#!/usr/bin/env python3
"""Write a gzip EKS audit log object (one audit event per line, as a Firehose delivery that
extracts the CloudWatch Logs messages writes it) shaped like a busy cluster.

    python3 scripts/gen-eks-audit-object.py --records 1000000 target/eks-1m.jsonl.gz
    EKS_AUDIT_OBJECT=target/eks-1m.jsonl.gz cargo bench -p triage-logs --bench eks

Every event is one of the public EKS records of `tests/fixtures/eks/` (Panther's CoreDNS watch,
`eks:addon-manager` read, anonymous probe; Falco's privileged pod) with its user, address, verb,
resource, stage and time varied (seeded, so the object is the same on every run):

- 50 % controllers and system service accounts (20 of them, on 10.0.0.0/16 addresses): get,
  list, watch and update of leases, endpoints, configmaps, nodes, pods;
- 30 % kubelets of 100 nodes (`system:node:ip-10-0-x-y...`): node and pod status, service
  account tokens, secrets and configmaps of their pods;
- 15 % people and CI roles (30 IAM-mapped users, kubectl from 30 public addresses): reads of
  pods, deployments, services, logs; one call in 200 of theirs an exec, one in 500 a secret read,
  one in 2,000 a privileged pod (Falco's body);
- 5 % anonymous probes from 500 public addresses, refused (403, `forbid`) but for `/version`;
- one event in 10 logged twice: at `ResponseStarted` then `ResponseComplete` (watches and
  long requests), which the reader must count once;
- times over `--minutes` (default 20) in order, as the API server writes them.
"""
import argparse
import datetime
import gzip
import json
import random

FIX = "tests/fixtures/eks/"


def lines(name):
    return [json.loads(line) for line in open(FIX + name)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    system = lines("panther-eks-system-namespace.ndjson")
    coredns, addon = system[1], system[3]
    scanner = lines("panther-eks-anonymous.ndjson")[3]
    privileged = lines("falco-k8s-audit.ndjson")[1]
    for template in (coredns, addon, scanner):
        for k in [k for k in template if k.startswith("p_")]:
            del template[k]

    controllers = ["system:serviceaccount:kube-system:%s" % n for n in (
        "coredns", "aws-node", "kube-proxy", "ebs-csi-controller-sa", "cluster-autoscaler",
        "aws-load-balancer-controller", "metrics-server", "replicaset-controller",
        "deployment-controller", "endpoint-controller", "endpointslice-controller",
        "namespace-controller", "node-controller", "daemon-set-controller", "job-controller",
        "cronjob-controller", "statefulset-controller", "generic-garbage-collector",
        "resourcequota-controller", "horizontal-pod-autoscaler")]
    controller_ips = {c: "10.0.%d.%d" % (rng.randrange(256), rng.randrange(1, 255)) for c in controllers}
    controller_uids = {c: "%032x" % rng.getrandbits(128) for c in controllers}
    nodes = {"ip-10-0-%d-%d.ec2.internal" % (a, b): "10.0.%d.%d" % (a, b)
             for a, b in ((rng.randrange(256), rng.randrange(1, 255)) for _ in range(100))}
    people = ["user-%02d" % i for i in range(25)] + ["kubernetes-admin"] + ["ci-deployer-%d" % i for i in range(4)]
    people_ips = {p: "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
                  for p in people}
    scanners = ["%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
                for _ in range(500)]
    namespaces = ["default", "kube-system", "payments", "web", "batch", "monitoring"]
    start = 1669680000  # 2022-11-29T00:00:00Z, the day of Panther's records
    span = args.minutes * 60

    def stamp(t):
        return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def call(template, user, uid, groups, ip, agent, verb, resource, sub, ns, name, code):
        event = dict(template)
        event["auditID"] = "%032x" % rng.getrandbits(128)
        event["user"] = {"username": user, "uid": uid, "groups": groups}
        event["sourceIPs"] = [ip]
        event["userAgent"] = agent
        event["verb"] = verb
        ref = {"apiVersion": "v1", "resource": resource}
        if sub:
            ref["subresource"] = sub
        if ns:
            ref["namespace"] = ns
        if name:
            ref["name"] = name
        event["objectRef"] = ref
        path = "/api/v1/" + ("namespaces/%s/" % ns if ns else "") + resource + ("/" + name if name else "")
        event["requestURI"] = path + ("/" + sub if sub else "")
        event["responseStatus"] = {"code": code}
        return event

    with gzip.open(args.out, "wt", compresslevel=6) as out:
        i = 0
        while i < args.records:
            t = start + span * i / args.records
            roll = rng.random()
            if roll < 0.50:
                user = rng.choice(controllers)
                verb = rng.choice(["get", "list", "watch", "update", "get", "watch"])
                resource = rng.choice(["leases", "endpoints", "endpointslices", "configmaps", "nodes", "pods"])
                event = call(coredns, user, controller_uids[user], coredns["user"]["groups"], controller_ips[user],
                             "kube-controller-manager/v1.28.3-eks (linux/amd64) kubernetes/1234567/system:serviceaccount",
                             verb, resource, None, rng.choice(namespaces), None, 200)
            elif roll < 0.80:
                node = rng.choice(list(nodes))
                kind = rng.random()
                if kind < 0.5:
                    resource, sub, verb, code = "nodes", "status", "patch", 200
                elif kind < 0.8:
                    resource, sub, verb, code = "pods", "status", "patch", 200
                elif kind < 0.9:
                    resource, sub, verb, code = "serviceaccounts", "token", "create", 201
                else:
                    resource, sub, verb, code = rng.choice(["secrets", "configmaps"]), None, "get", 200
                event = call(coredns, "system:node:" + node, "aws-iam-authenticator:123412341234:AROANODEROLE",
                             ["system:bootstrappers", "system:nodes", "system:authenticated"],
                             nodes[node],
                             "kubelet/v1.28.3-eks-e71965b (linux/amd64) kubernetes/46c4d1f", verb, resource, sub,
                             rng.choice(namespaces), "x%d" % rng.randrange(1000), code)
            elif roll < 0.95:
                person = rng.choice(people)
                kind = rng.random()
                ns = rng.choice(namespaces)
                if kind < 0.005:
                    template, resource, sub, verb, code = addon, "pods", "exec", "create", 101
                elif kind < 0.007:
                    template, resource, sub, verb, code = addon, "secrets", None, "get", 200
                elif kind < 0.0075:
                    template, resource, sub, verb, code = privileged, "pods", None, "create", 201
                else:
                    template, sub, code = addon, None, 200
                    resource = rng.choice(["pods", "deployments", "services", "pods", "events"])
                    verb = rng.choice(["get", "list"])
                    if rng.random() < 0.05:
                        resource, sub = "pods", "log"
                event = call(template, person, "aws-iam-authenticator:123412341234:AROA%s" % person.upper(),
                             ["system:masters", "system:authenticated"] if person == "kubernetes-admin"
                             else ["developers", "system:authenticated"],
                             people_ips[person], "kubectl/v1.28.4 (darwin/arm64) kubernetes/bae2c62",
                             verb, resource, sub, ns, "web-%d" % rng.randrange(50), code)
            else:
                event = dict(scanner)
                event["auditID"] = "%032x" % rng.getrandbits(128)
                event["sourceIPs"] = [rng.choice(scanners)]
                path = rng.choice(["/version", "/", "/api", "/.env", "/vendor/phpunit/src/Util/PHP/eval-stdin.php",
                                   "/api/v1/pods", "/apis", "/metrics"])
                event["requestURI"] = path
                if path == "/version":
                    event["responseStatus"] = {"code": 200}
                    event["annotations"] = {"authorization.k8s.io/decision": "allow",
                                            "authorization.k8s.io/reason": ""}
            event["requestReceivedTimestamp"] = stamp(t)
            event["stageTimestamp"] = stamp(t + 0.004)
            if rng.random() < 0.1 and i + 1 < args.records:
                event["stage"] = "ResponseStarted"
                out.write(json.dumps(event, separators=(",", ":")) + "\n")
                i += 1
            event["stage"] = "ResponseComplete"
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
            i += 1


if __name__ == "__main__":
    main()
