#!/usr/bin/env python3
"""Write one large gzip CloudTrail S3 delivery ({"Records":[...]}) from real records, varied.

    python3 scripts/gen-cloudtrail-object.py target/ct-big.json.gz [RECORDS [PRINCIPALS ADDRESSES AGENTS]]
    /usr/bin/time -v target/release/triage-cli ingest cloudtrail --dry-run target/ct-big.json.gz

RECORDS (default 1,000,000) records, each a copy of one of the Stratus Red Team detonation
records in tests/fixtures/cloudtrail/stratus_red_team_detonations/ (310 records, about 40 APIs,
successes and AccessDenied), varied so that aggregation has real work: one of PRINCIPALS (default 3,000) principals
(the access key, the session name and the user name get a numbered suffix), one of ADDRESSES
(20,000) public source addresses, one of AGENTS (50) user agents, and event times rising over 24 hours in the
order they are written (CloudTrail files are roughly time-ordered). The bulkiest fields are
trimmed (tlsDetails dropped, errorMessage cut to 120 characters, request parameters and
response elements over 300 bytes replaced by a stub), so that a million records decompress to
under the backfill's 1 GiB cap and the code that read objects whole can be measured on the
same object. Seeded, so the object (and
the figures in BENCHMARKS.md) are reproducible. Written as it is generated: the script holds
one record at a time.
"""
import copy
import glob
import gzip
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone

random.seed(11)
out_path = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
principals, addresses, agent_count = (
    (int(a) for a in sys.argv[3:6]) if len(sys.argv) > 5 else (3_000, 20_000, 50)
)
root = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "cloudtrail")
base = []
for path in sorted(glob.glob(os.path.join(root, "stratus_red_team_detonations", "*.json"))):
    with open(path) as f:
        base.extend(json.load(f))

start = datetime(2026, 1, 5, tzinfo=timezone.utc)
span = timedelta(hours=24).total_seconds()
ips = [
    f"{random.randint(1, 223)}.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    for _ in range(addresses)
]
agents = [f"aws-cli/2.{i}.0 Python/3.11 Linux/6.1 exe/x86_64" for i in range(agent_count)]


def trim(record):
    r = dict(record)
    r.pop("tlsDetails", None)
    if "errorMessage" in r:
        r["errorMessage"] = r["errorMessage"][:120]
    for key in ("requestParameters", "responseElements"):
        if len(json.dumps(r.get(key))) > 300:
            r[key] = {"trimmed": True}
    return r


base = [trim(r) for r in base]


def vary(record, i):
    r = copy.deepcopy(record)
    who = random.randrange(principals)
    seconds = span * i / total + random.uniform(-30, 30)  # roughly ordered, a little jitter
    r["eventTime"] = (start + timedelta(seconds=max(0, seconds))).strftime("%Y-%m-%dT%H:%M:%SZ")
    r["eventID"] = f"{i:08x}-0000-4000-8000-000000000000"
    if "." in r.get("sourceIPAddress", "") and not r["sourceIPAddress"].endswith("amazonaws.com"):
        r["sourceIPAddress"] = random.choice(ips)
    r["userAgent"] = random.choice(agents)
    identity = r.get("userIdentity") or {}
    if identity.get("accessKeyId"):
        identity["accessKeyId"] = f"{identity['accessKeyId'][:12]}{who:08d}"
    if identity.get("arn"):
        identity["arn"] = f"{identity['arn']}-{who}"
    if identity.get("userName"):
        identity["userName"] = f"{identity['userName']}-{who}"
    return r


with gzip.open(out_path, "wt", compresslevel=6) as out:
    out.write('{"Records":[')
    for i in range(total):
        if i:
            out.write(",")
        out.write(json.dumps(vary(random.choice(base), i), separators=(",", ":")))
    out.write("]}\n")
