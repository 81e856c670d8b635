#!/usr/bin/env python3
"""Write a gzip VPC Flow Log object where aggregation cannot help: every record has its own key.

    python3 scripts/gen-flowlog-worst-case.py target/flow-worst.txt.gz
    target/debug/triage-cli ingest flowlogs --dry-run target/flow-worst.txt.gz

200,000 default-format (v2) records modelled on the AWS documentation's example record
"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010
1418530070 ACCEPT OK": random public remote IPv4 and ports, 40 interfaces, start times over one
hour, ACCEPT or REJECT. Seeded, so the object (and the figure in BENCHMARKS.md) is reproducible.
"""
import gzip
import random
import sys

random.seed(7)
lines = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"]
t0 = 1764000000
for i in range(200000):
    eni = f"eni-{i % 40:017x}"
    local = f"10.0.{(i % 40) // 250}.{(i % 40) % 250 + 1}"
    remote = f"{random.randint(1, 223)}.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    rport = random.randint(1024, 65535)
    lport = random.choice([22, 443, 80, 3389, random.randint(1, 65535)])
    start = t0 + random.randint(0, 3600)
    action = random.choice(["ACCEPT", "REJECT"])
    lines.append(
        f"2 123456789010 {eni} {remote} {local} {rport} {lport} 6 {random.randint(1, 40)} "
        f"{random.randint(40, 90000)} {start} {start + 60} {action} OK"
    )
with open(sys.argv[1], "wb") as out:
    out.write(gzip.compress(("\n".join(lines) + "\n").encode()))
