#!/usr/bin/env python3
"""Write a gzip VPC Flow Log object (default format, as S3 delivers it) shaped like real traffic.

    python3 scripts/gen-flowlog-objects.py --shape friendly --records 2000000 target/flow-friendly.txt.gz
    python3 scripts/gen-flowlog-objects.py --shape internet --records 2000000 target/flow-internet.txt.gz
    target/release/triage-cli ingest flowlogs --dry-run target/flow-internet.txt.gz

Every line is one of the AWS documentation's default-format (v2) example records
(`flow-logs-records-examples.md`, shared corpus `vpcflow/awsdocs/`; `tests/fixtures/vpcflow/default-v2.txt`),
with its addresses, ports, counts and times varied:

- accepted SSH, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249
  1418530010 1418530070 ACCEPT OK": the model of every TCP connection. A connection is two records on
  the interface, as flow logs write it: the request direction (client -> server) and the response
  direction (server -> client), in the same capture window;
- rejected RDP, "... 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 ... REJECT OK": the model of a
  rejected connection attempt (one record, the request only);
- the ping and its reply, "... 203.0.113.12 172.31.16.139 0 0 1 4 336 ... ACCEPT OK": ICMP, ports 0;
- the IPv6 SSH record "... 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071
  34892 22 6 54 8855 ...": one connection in fifty is IPv6, with addresses in those two /64s (the
  remote among 8, or random where the shape asks for a random remote);
- one line in 1,000 is the NODATA example, one in 5,000 the SKIPDATA one.

What varies, for both shapes:
- 40 interfaces (`eni-` and 17 hex digits), each with a private address in 172.31.0.0/16, the VPC of the
  examples; account 123456789010;
- the client port of every connection is ephemeral, as real clients pick it: the Linux range
  32768-60999 for two connections in three, the IANA/Windows range 49152-65535 for the rest;
- half the connections are inbound (a remote client to a service of the interface: 22, 443, 80, 5432,
  or a rejected attempt on 3389 or 22), half outbound (the interface as the client of 443, 80, 53/UDP,
  123/UDP, 5432 on a remote);
- times: the capture windows move from the documentation's first start (1418530010) through
  `--minutes` (default 20, so the object spans three ten-minute buckets), each record starting up to
  60 s before its place in the stream and lasting up to 60 s (Nitro's one-minute aggregation
  interval): close to time order, never exactly;
- packets 1-40 per direction, 40-1500 bytes per packet.

The two shapes differ only in the remote side:
- `friendly`: 40 remote addresses in all (20 in the VPC, 20 public ones from the documentation ranges
  203.0.113.0/24 and 198.51.100.0/24), like a private service tier;
- `internet`: the same, except that 30 % of the records (connections chosen at random, so both
  records of a connection) have a random public IPv4 address on the remote side, the shape of an
  internet-facing load balancer, NAT gateway or web server.

Seeded (`--seed`, default 7): the same arguments write the same object, byte for byte. Written with
gzip level 6, like S3 delivery objects. Prints the share of random-remote records to stderr.
"""
import argparse
import gzip
import random
import sys

HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
          "start end action log-status")
ACCOUNT = "123456789010"
START = 1418530010  # the first start time of the documentation's examples
V6_PREFIX = "2001:db8:1234:a102"  # the /64 of the documentation's IPv6 example

INBOUND = [(6, 22), (6, 443), (6, 443), (6, 80), (6, 5432)]
OUTBOUND = [(6, 443), (6, 443), (6, 80), (17, 53), (17, 123), (6, 5432)]
REJECTED = [(6, 3389), (6, 22)]


def public_ipv4(rng):
    """A random address outside private, shared, loopback, link-local, multicast and reserved space."""
    while True:
        a = rng.randint(1, 223)
        b = rng.randint(0, 255)
        if a in (10, 127) or (a == 100 and 64 <= b < 128) or (a == 169 and b == 254) \
                or (a == 172 and 16 <= b < 32) or (a == 192 and b == 168):
            continue
        return f"{a}.{b}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=["friendly", "internet"], required=True)
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--minutes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("out")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    interfaces = [(f"eni-{0x1235b8ca123456789 + i:017x}", f"172.31.{16 + i // 200}.{20 + i % 200}")
                  for i in range(40)]
    remotes = [f"172.31.{9 + i // 10}.{69 + i}" for i in range(20)]
    remotes += [f"203.0.113.{12 + i}" for i in range(10)] + [f"198.51.100.{7 + i}" for i in range(10)]
    random_share = 0.3 if args.shape == "internet" else 0.0
    span = args.minutes * 60
    total = args.records

    lines = [HEADER]
    random_records = 0
    n = 0

    def emit(line):
        nonlocal n
        lines.append(line)
        n += 1

    def window():
        now = START + n * span // total
        start = now - rng.randint(0, 60)
        return start, start + rng.randint(0, 60)

    while n < total:
        if n % 1000 == 999 or n % 5000 == 4999:
            eni, _ = interfaces[rng.randrange(40)]
            start, end = window()
            status = "SKIPDATA" if n % 5000 == 4999 else "NODATA"
            emit(f"2 {ACCOUNT} {eni} - - - - - - - {start} {end} - {status}")
            continue
        eni, local = interfaces[rng.randrange(40)]
        is_random = rng.random() < random_share
        remote = public_ipv4(rng) if is_random else rng.choice(remotes)
        client_port = rng.randint(32768, 60999) if rng.random() < 2 / 3 else rng.randint(49152, 65535)
        start, end = window()
        kind = rng.random()
        before = n
        if kind < 0.01:
            # The ping of the example, and its reply.
            packets = rng.randint(1, 10)
            emit(f"2 {ACCOUNT} {eni} {remote} {local} 0 0 1 {packets} {packets * 84} {start} {end} ACCEPT OK")
            emit(f"2 {ACCOUNT} {eni} {local} {remote} 0 0 1 {packets} {packets * 84} {start} {end} ACCEPT OK")
        elif kind < 0.08:
            # A rejected attempt on an inbound service (the RDP example).
            protocol, port = rng.choice(REJECTED)
            packets = rng.randint(1, 3)
            emit(f"2 {ACCOUNT} {eni} {remote} {local} {client_port} {port} {protocol} {packets} "
                 f"{packets * rng.randint(40, 60)} {start} {end} REJECT OK")
        else:
            inbound = kind < 0.54
            protocol, port = rng.choice(INBOUND if inbound else OUTBOUND)
            if rng.random() < 0.02:
                # The IPv6 example's addresses, varied in their interface part.
                host = rng.randrange(1 << 32) if is_random else rng.randrange(8)
                remote = f"2001:db8:1234:a100:{host >> 16:x}:{host & 0xffff:x}:df66:f105"
                local_addr = f"{V6_PREFIX}:3304:8879:34cf:{4071 + interfaces.index((eni, local)):x}"
            else:
                local_addr = local
            client, server = (remote, local_addr) if inbound else (local_addr, remote)
            for src, dst, sport, dport in ((client, server, client_port, port),
                                           (server, client, port, client_port)):
                packets = rng.randint(1, 40)
                emit(f"2 {ACCOUNT} {eni} {src} {dst} {sport} {dport} {protocol} {packets} "
                     f"{packets * rng.randint(40, 1500)} {start} {end} ACCEPT OK")
        if is_random:
            random_records += n - before

    # No file name and a zero time in the gzip header, so the bytes depend on the arguments only.
    with open(args.out, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0) as out:
        out.write(("\n".join(lines[:total + 1]) + "\n").encode())
    print(f"{args.out}: {total} records, {args.shape}, "
          f"{100 * random_records / max(total, 1):.1f} % with a random public remote", file=sys.stderr)


if __name__ == "__main__":
    main()
