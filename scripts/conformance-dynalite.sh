#!/usr/bin/env bash
# Conformance run of the DynamoDB adapters against dynalite, a DynamoDB stricter than moto: it
# rejects, like AWS, what moto lets through (unused ExpressionAttributeValues, 26-item batches,
# malformed expressions). DynamoDB goes to dynalite, everything else (SNS, SQS, S3, EventBridge)
# stays on the moto server of infra/local/up.sh.
#
#   scripts/conformance-dynalite.sh                          # the integration tests, DynamoDB on dynalite
#   scripts/conformance-dynalite.sh -E 'binary(dedupe)'      # a nextest filter instead of all integration tests
#
# What it does: installs dynalite@4.0.0 with npm into a cache dir (once), starts the moto stack
# (`eval "$(infra/local/up.sh)"`, stopped again on exit only if this script started it), starts an
# in-memory dynalite on 127.0.0.1, creates the triage table there with the key schema, attributes and
# indexes that infra/local/provision.py derives from infra/template.yaml (its own code, imported), and
# runs the integration tests (`cargo nextest run --workspace -E 'package(integration-tests)'`) with
#   AWS_ENDPOINT_URL_DYNAMODB   the dynalite endpoint (the SDK prefers it to AWS_ENDPOINT_URL for DynamoDB)
#   TRIAGE_TABLE_NAME           a table name that exists on dynalite only, so a request that still went
#                               to moto fails with ResourceNotFoundException instead of passing unseen
#   TRIAGE_DYNAMODB_IS_DYNALITE=1  for a test that must skip what dynalite lacks, saying why: dynalite
#                               lacks UpdateTimeToLive and TransactWriteItems (unused by the adapters)
#                               and ignores ReturnValuesOnConditionCheckFailure, which the two
#                               lost-response tests of tests/tests/dedupe.rs rest on (they skip)
# Before the tests it checks that dynalite still rejects what AWS rejects and moto accepts; after them,
# that items reached it and that it rejected no request as invalid (ValidationException: AWS would
# reject it too, even if no test noticed). dynalite is stopped on exit.
#
# Environment:
#   TRIAGE_DYNALITE_PORT   port of dynalite on 127.0.0.1 (default 4567; when left unset and 4567 is
#                          taken, a free port is picked)
#   TRIAGE_LOCAL_PORT      port of the moto server (see infra/local/up.sh)
#   XDG_CACHE_HOME         dynalite lives in ${XDG_CACHE_HOME:-~/.cache}/guardduty-triage/dynalite-4.0.0/
#
# Needs Node.js and npm (as scripts/demo.sh does), plus what infra/local/up.sh needs.
set -euo pipefail

DYNALITE_VERSION=4.0.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/guardduty-triage"
dynalite_dir="$cache/dynalite-$DYNALITE_VERSION"
table=guardduty-triage-dynalite

log() { printf 'conformance-dynalite.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
esac

started=$SECONDS
cd "$root"

# --- 1. dynalite, installed once per version (npm, no install scripts: the in-memory store needs none).
if [[ ! -f "$dynalite_dir/.complete" ]]; then
  command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js and npm"
  mkdir -p "$cache"
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$cache/.dynalite.lock"
    flock -w 300 8 || die "timed out waiting for another dynalite install"
  fi
  if [[ ! -f "$dynalite_dir/.complete" ]]; then
    log "installing dynalite@$DYNALITE_VERSION into $dynalite_dir"
    rm -rf "$dynalite_dir"
    mkdir -p "$dynalite_dir"
    npm install --prefix "$dynalite_dir" --no-audit --no-fund --ignore-scripts --loglevel=error \
      "dynalite@$DYNALITE_VERSION" >&2 || die "npm install dynalite@$DYNALITE_VERSION failed"
    touch "$dynalite_dir/.complete"
  fi
fi
command -v node >/dev/null 2>&1 || die "node not found: install Node.js"
dynalite_cli="$dynalite_dir/node_modules/dynalite/cli.js"
[[ -f "$dynalite_cli" ]] || die "$dynalite_cli missing: remove $dynalite_dir and run again"

# --- 2. The moto stack for SNS, SQS, S3 and EventBridge (and the tool venv: python with boto3, PyYAML).
moto_was_up=0
if [[ -f "$root/infra/local/.state/moto-${TRIAGE_LOCAL_PORT:-4566}.pid" ]] &&
  kill -0 "$(cat "$root/infra/local/.state/moto-${TRIAGE_LOCAL_PORT:-4566}.pid")" 2>/dev/null; then
  moto_was_up=1
fi
eval "$(infra/local/up.sh)"
py="$TRIAGE_LOCAL_VENV/bin/python"
moto_endpoint="$AWS_ENDPOINT_URL"

dynalite_pid=""
workdir="$(mktemp -d "${TMPDIR:-/tmp}/conformance-dynalite.XXXXXX")"
cleanup() {
  if [[ -n "$dynalite_pid" ]]; then
    kill -TERM "$dynalite_pid" 2>/dev/null || true
    wait "$dynalite_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
  if ((!moto_was_up)); then infra/local/down.sh >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# --- 3. dynalite on a free port, in memory, tables ACTIVE at once.
port_free() { # nothing accepts connections on it (as up.sh checks; lingering TIME_WAIT sockets do not count)
  "$py" -c 'import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(1 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 0)' "$1"
}
if [[ -n "${TRIAGE_DYNALITE_PORT:-}" ]]; then
  port="$TRIAGE_DYNALITE_PORT"
  case "$port" in *[!0-9]*) die "TRIAGE_DYNALITE_PORT must be a port number, got '$port'" ;; esac
  port_free "$port" || die "port $port on 127.0.0.1 is taken: set TRIAGE_DYNALITE_PORT to a free one"
else
  port=4567
  if ! port_free "$port"; then
    port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    log "port 4567 is taken: using $port"
  fi
fi
endpoint="http://127.0.0.1:$port"
node "$dynalite_cli" --host 127.0.0.1 --port "$port" --createTableMs 0 --deleteTableMs 0 --verbose \
  </dev/null >"$workdir/dynalite.log" 2>&1 &
dynalite_pid=$!
answers() { # any HTTP answer (dynalite says 400 UnknownOperationException to a bare POST)
  "$py" - "$endpoint" <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b"", method="POST"), timeout=1)
except urllib.error.HTTPError:
    sys.exit(0)
except Exception:
    sys.exit(1)
PY
}
for _ in $(seq 1 100); do
  answers && break
  kill -0 "$dynalite_pid" 2>/dev/null || { cat "$workdir/dynalite.log" >&2; die "dynalite exited"; }
  sleep 0.1
done
answers || die "dynalite did not answer on $endpoint within 10 s"
log "dynalite $DYNALITE_VERSION pid $dynalite_pid on $endpoint"

# --- 4. The table, as provision.py derives it from the template (its own functions, imported: the
# module has no side effects at import). Skipped: UpdateTimeToLive, which dynalite does not implement
# (UnknownOperationException); items keep their expires_at attribute, TTL is simply not enabled
# (moto never expires items either). Before the tests, the table name must not exist on
# moto, so a DynamoDB request that ignored AWS_ENDPOINT_URL_DYNAMODB cannot succeed there.
"$py" - "$root/infra/local" "$root/infra/template.yaml" "$endpoint" "$moto_endpoint" "$table" <<'PY' ||
import os, sys, time
from pathlib import Path

local, template, endpoint, moto_endpoint, table = sys.argv[1:]
sys.path.insert(0, local)
sys.dont_write_bytecode = True  # no infra/local/__pycache__ in the work tree
import boto3
import provision

derived = provision.derive(
    provision.load_template(Path(template)),
    provision.parse_overrides(os.environ.get("TRIAGE_LOCAL_PARAMETER_OVERRIDES", "")),
)
spec = derived["table"]
session = boto3.session.Session(region_name=provision.PSEUDO["AWS::Region"])
dynalite = session.client("dynamodb", endpoint_url=endpoint)
moto = session.client("dynamodb", endpoint_url=moto_endpoint)
if table in moto.list_tables()["TableNames"]:
    sys.exit(f"table {table} exists on moto ({moto_endpoint}): misrouted requests would pass unseen")
dynalite.create_table(TableName=table, **spec)
for _ in range(100):
    desc = dynalite.describe_table(TableName=table)["Table"]
    if desc["TableStatus"] == "ACTIVE":
        break
    time.sleep(0.1)
else:
    sys.exit(f"table {table} on dynalite is still {desc['TableStatus']}")
if provision.table_shape(desc) != provision.table_shape(spec):
    sys.exit(f"table {table} on dynalite does not have the derived shape: {desc} vs {spec}")
# The run is only worth something while the server is strict: check that it rejects, as AWS does,
# what moto accepts (nothing is written by these requests).
key = {"pk": {"S": "CONFORMANCE#canary"}, "sk": {"S": "STATE"}}
probes = {
    "an unused ExpressionAttributeValue": lambda: dynalite.update_item(
        TableName=table, Key=key, UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "1"}, ":unused": {"N": "2"}}),
    "a reserved word without an alias": lambda: dynalite.update_item(
        TableName=table, Key=key, UpdateExpression="SET count = :v", ExpressionAttributeValues={":v": {"N": "1"}}),
    "a 26-item BatchWriteItem": lambda: dynalite.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"pk": key["pk"], "sk": {"S": f"{i:02}"}}}} for i in range(26)]}),
}
for what, probe in probes.items():
    try:
        probe()
    except dynalite.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "ValidationException":
            continue
        raise
    sys.exit(f"dynalite accepted {what}: it is no stricter than moto, the conformance run would prove nothing")
ttl = derived["ttl_attribute"]
print(f"conformance-dynalite.sh: created table {table} on dynalite"
      + (f" (TTL on {ttl} not enabled: dynalite lacks UpdateTimeToLive)" if ttl else ""), file=sys.stderr)
PY
  die "creating the table on dynalite failed"

# --- 5. The integration tests, DynamoDB on dynalite.
export AWS_ENDPOINT_URL_DYNAMODB="$endpoint"
export TRIAGE_TABLE_NAME="$table"
export TRIAGE_DYNAMODB_IS_DYNALITE=1
log "integration tests with AWS_ENDPOINT_URL_DYNAMODB=$endpoint TRIAGE_TABLE_NAME=$table (rest on $moto_endpoint)"
logged_before_tests="$(wc -c <"$workdir/dynalite.log")" # the canary's own rejections come before
status=0
# --workspace with a filter, not -p integration-tests: the same feature resolution as the workspace
# run before it, so the test binaries are reused instead of every dependency being rebuilt (~60 s).
if command -v cargo-nextest >/dev/null 2>&1; then
  filter=(-E 'package(integration-tests)')
  (($# > 0)) && filter=("$@")
  cargo nextest run --workspace --locked --no-fail-fast "${filter[@]}" || status=$?
else
  cargo test -p integration-tests --locked --no-fail-fast "$@" || status=$?
fi

# The tests must really have written to dynalite (not only read a table that happens to exist).
items="$("$py" - "$endpoint" "$table" <<'PY'
import sys, boto3
endpoint, table = sys.argv[1:]
ddb = boto3.session.Session(region_name="us-east-1").client("dynamodb", endpoint_url=endpoint)
print(sum(page["Count"] for page in ddb.get_paginator("scan").paginate(TableName=table, Select="COUNT")))
PY
)" || items="?"
log "dynalite table $table holds $items item(s) after the run"
# Requests dynalite rejected, by error type. ConditionalCheckFailedException (lost races, live leases)
# and ResourceNotFoundException (the missing-table test) are expected; a ValidationException is a
# request AWS would reject too, and fails the run even when no test noticed (the dedupe complete
# write, for one, only logs its failure).
tail -c "+$((logged_before_tests + 1))" "$workdir/dynalite.log" >"$workdir/tests.log"
errors="$(grep -o "__type: '[^']*'" "$workdir/tests.log" | sed "s/.*#//; s/'\$//" | sort | uniq -c |
  awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}' || true)"
log "requests dynalite rejected during the tests: ${errors:-none}"
if ((status != 0)) || grep -q 'Validation error' "$workdir/tests.log"; then
  log "dynalite's validation errors during the tests (at most 20):"
  grep -A3 --no-group-separator 'Validation error' "$workdir/tests.log" | head -n 80 >&2 || true
  ((status != 0)) || die "dynalite rejected requests as invalid (ValidationException above): AWS would too"
  die "integration tests failed on dynalite (exit $status) after $((SECONDS - started)) s"
fi
if (($# == 0)) && ! [[ "$items" =~ ^[1-9][0-9]*$ ]]; then # (a filtered run may write nothing)
  die "no item reached dynalite: the tests did not use AWS_ENDPOINT_URL_DYNAMODB"
fi
log "passed on dynalite in $((SECONDS - started)) s"
