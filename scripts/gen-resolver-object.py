#!/usr/bin/env python3
"""Write a gzip Route 53 Resolver query log object (one JSON entry per line) shaped like a busy VPC.

    python3 scripts/gen-resolver-object.py --records 1000000 target/resolver-1m.log.gz
    target/release/triage-cli ingest resolver --dry-run target/resolver-1m.log.gz

Every entry is the Route 53 Developer Guide's example entry (`tests/fixtures/resolver/awsdocs-example.json`)
with its asker, name, type, answer, response code and time varied (seeded, so the object is the same
on every run):

- 200 instances (`i-` and 17 hex digits) in one VPC, each with a private address in 10.0.0.0/16;
- names: 90 % from a pool of 400 (AWS endpoints of 20 services in 4 regions, and 320 other
  hosts under 40 domains: what services resolve all day), answered with 1-4 A records each;
- 9 % of lookups a fresh random host under those domains (a CDN or a service discovery name):
  the cardinality a cache in front of the resolver does not remove;
- 1 % random 12-letter `.com` names answered NXDOMAIN (what a domain-generation algorithm looks like);
- one entry in 2,000 blocked by a DNS Firewall rule;
- times over `--minutes` (default 20) in order, as the resolver writes them.
"""
import argparse
import gzip
import json
import random

SERVICES = ["s3", "dynamodb", "sts", "ec2", "ssm", "logs", "monitoring", "sqs", "sns", "kms",
            "secretsmanager", "ecr", "api.ecr", "lambda", "events", "kinesis", "elasticloadbalancing",
            "autoscaling", "rds", "cloudformation"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=53)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    template = json.load(open("tests/fixtures/resolver/awsdocs-example.json"))
    instances = [("i-%017x" % rng.getrandbits(68), "10.0.%d.%d" % (rng.randrange(256), rng.randrange(1, 255)))
                 for _ in range(200)]
    domains = ["example%d.com" % i for i in range(40)]
    pool = [f"{s}.{r}.amazonaws.com" for s in SERVICES for r in REGIONS]
    pool += [f"host{i}.{rng.choice(domains)}" for i in range(400 - len(pool))]
    answers = {name: ["203.0.113.%d" % rng.randrange(1, 255) for _ in range(rng.randrange(1, 5))]
               for name in pool}
    start = 1612460400  # 2021-02-04T17:40:00Z, ten minutes before the example's query
    span = args.minutes * 60
    with gzip.open(args.out, "wt", compresslevel=6) as out:
        for i in range(args.records):
            instance, address = rng.choice(instances)
            roll = rng.random()
            rcode, qtype = "NOERROR", "A"
            if roll < 0.90:
                name = rng.choice(pool)
                ips = answers[name]
            elif roll < 0.99:
                name = "h%x.%s" % (rng.getrandbits(32), rng.choice(domains))
                ips = ["198.51.100.%d" % rng.randrange(1, 255)]
            else:
                name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12)) + ".com"
                ips, rcode = [], "NXDOMAIN"
            entry = dict(template)
            entry["srcaddr"] = address
            entry["srcport"] = str(rng.randrange(32768, 61000))
            entry["srcids"] = {"instance": instance}
            entry["query_name"] = name + "."
            entry["query_type"] = qtype
            entry["rcode"] = rcode
            entry["answers"] = [{"Rdata": ip, "Type": "A", "Class": "IN"} for ip in ips]
            t = start + span * i // args.records
            entry["query_timestamp"] = "%sZ" % __import__("datetime").datetime.fromtimestamp(
                t, __import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
            if i % 2000 == 0:
                entry["firewall_rule_action"] = "BLOCK"
            else:
                for k in ("firewall_rule_action", "firewall_rule_group_id", "firewall_domain_list_id"):
                    entry.pop(k, None)
            out.write(json.dumps(entry, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
