#!/usr/bin/env bash
# The main job, on a fresh machine: start the local AWS stack, backfill the sample context of
# events/context/ (CloudTrail, flow, Resolver and EKS audit logs) with triage-cli, run the triage Lambda under
# `cargo lambda watch`, invoke it with every event in events/*.json through `cargo lambda invoke`, and
# print the notices as they arrive on the SQS queue subscribed to the notices topic.
#
#   scripts/demo.sh                 # from any directory
#   scripts/demo.sh --keep-state    # keep earlier dedupe records: a second run then shows no new notice
#   scripts/demo.sh events/x.json   # only these events
#
# The local stack stays up afterwards (infra/local/down.sh stops it); `cargo lambda watch` is stopped.
# Environment: TRIAGE_WATCH_PORT (default 9000), TRIAGE_LOCAL_PORT (default 4566), and the function's
# TRIAGE_QUIET_PERIOD_HOURS, TRIAGE_RECORD_TTL_DAYS, TRIAGE_LOOKBACK_MINUTES, TRIAGE_AWS_TIMEOUT_MS and
# AWS_LAMBDA_LOG_LEVEL if set.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/infra/local/.state"
watch_port="${TRIAGE_WATCH_PORT:-9000}"
log() { printf '\033[1mdemo:\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

keep_state=0
files=()
for arg in "$@"; do
  case "$arg" in
    --keep-state) keep_state=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $arg (try --help)" ;;
    *) files+=("$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")") ;;
  esac
done
cd "$root"
if ((${#files[@]} == 0)); then
  shopt -s nullglob
  files=("$root"/events/*.json)
  shopt -u nullglob
fi
((${#files[@]} > 0)) || die "no events/*.json to invoke the function with"

# 1. Local stack and tools (moto, cargo-lambda, zig on PATH).
log "starting the local AWS stack (infra/local/up.sh)"
eval "$("$root/infra/local/up.sh")"
py="$TRIAGE_LOCAL_VENV/bin/python"

# 2. Build first, so the watch server serves at once instead of compiling during the first invoke.
log "building the triage function and triage-cli (cargo build -p triage -p triage-cli)"
started=$SECONDS
cargo build -p triage -p triage-cli
log "built in $((SECONDS - started)) s"

# 3. A clean slate: notices left on the queue by earlier runs, and (unless --keep-state) the dedupe records.
"$py" "$root/scripts/print-notices.py" --drain
if ((keep_state == 0)); then
  "$py" - "$TRIAGE_TABLE_NAME" <<'PY'
import sys, boto3
name = sys.argv[1]
ddb = boto3.client("dynamodb")
keys = [k["AttributeName"] for k in ddb.describe_table(TableName=name)["Table"]["KeySchema"]]
names = {f"#k{i}": k for i, k in enumerate(keys)}
items = [item for page in ddb.get_paginator("scan").paginate(
    TableName=name, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names) for item in page["Items"]]
for i in range(0, len(items), 25):
    batch = [{"DeleteRequest": {"Key": item}} for item in items[i:i + 25]]
    while batch:
        batch = ddb.batch_write_item(RequestItems={name: batch}).get("UnprocessedItems", {}).get(name, [])
print(f"demo: cleared {len(items)} item(s) (finding records and context) from the local table {name} (--keep-state keeps them)",
      file=sys.stderr)
PY
fi

# 3b. The sample context (events/context/README.md): CloudTrail, flow, Resolver and EKS audit logs about the entities of four
# sample findings, backfilled with the ingest functions' code, so their notices show enrichment at work.
log "backfilling the sample context (triage-cli ingest, events/context/)"
"$root/target/debug/triage-cli" ingest cloudtrail "$root/events/context/cloudtrail" >&2
"$root/target/debug/triage-cli" ingest flowlogs "$root/events/context/flowlogs" >&2
"$root/target/debug/triage-cli" ingest resolver "$root/events/context/resolver" >&2
"$root/target/debug/triage-cli" ingest eks "$root/events/context/eks" >&2

# 4. cargo lambda watch, with the function's environment passed explicitly (as the template does).
env_file="$state/watch.env"
{
  echo "TRIAGE_TABLE_NAME=$TRIAGE_TABLE_NAME"
  echo "TRIAGE_TOPIC_ARN=$TRIAGE_TOPIC_ARN"
  echo "TRIAGE_QUIET_PERIOD_HOURS=${TRIAGE_QUIET_PERIOD_HOURS:-24}"
  echo "TRIAGE_RECORD_TTL_DAYS=${TRIAGE_RECORD_TTL_DAYS:-90}"
  echo "TRIAGE_LOOKBACK_MINUTES=${TRIAGE_LOOKBACK_MINUTES:-60}"
  echo "TRIAGE_AWS_TIMEOUT_MS=${TRIAGE_AWS_TIMEOUT_MS:-3000}"
  echo "AWS_LAMBDA_LOG_FORMAT=JSON"
  echo "AWS_LAMBDA_LOG_LEVEL=${AWS_LAMBDA_LOG_LEVEL:-INFO}"
  echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
  echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
  echo "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  echo "AWS_REGION=$AWS_REGION"
  echo "AWS_DEFAULT_REGION=$AWS_DEFAULT_REGION"
} >"$env_file"

port_open() { "$py" -c 'import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"; }
port_open "$watch_port" && die "port $watch_port is taken (another cargo lambda watch?); set TRIAGE_WATCH_PORT"

watch_log="$state/watch.log"
log "starting cargo lambda watch on 127.0.0.1:$watch_port (log: ${watch_log#"$root"/})"
# Its own process group, so that stopping it also stops the function process it runs.
watch_pid="$("$py" - "$watch_port" "$env_file" "$watch_log" <<'PY'
import subprocess, sys
port, env_file, log = sys.argv[1:]
with open(log, "wb") as out:
    p = subprocess.Popen(["cargo", "lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port", port,
                          "--env-file", env_file, "--ignore-changes"],
                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
print(p.pid)
PY
)"
stop_watch() {
  if kill -0 "$watch_pid" 2>/dev/null; then
    kill -TERM -- "-$watch_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$watch_pid" 2>/dev/null || true
    log "stopped cargo lambda watch"
  fi
}
trap stop_watch EXIT

for _ in $(seq 1 300); do
  port_open "$watch_port" && break
  kill -0 "$watch_pid" 2>/dev/null || { tail -n 30 "$watch_log" >&2; die "cargo lambda watch exited"; }
  sleep 0.2
done
port_open "$watch_port" || die "cargo lambda watch does not serve on port $watch_port after 60 s"
log "cargo lambda watch serves"

# 5. Invoke the function with every event.
ok=0
failed=0
for f in "${files[@]}"; do
  rel="${f#"$root"/}"
  if out="$(cargo lambda invoke triage --invoke-address 127.0.0.1 --invoke-port "$watch_port" --data-file "$f" 2>&1)"; then
    ok=$((ok + 1))
    printf '  invoked %-60s ok  %s\n' "$rel" "$(printf '%s' "$out" | tr -s '\n' ' ' | cut -c1-120)"
  else
    failed=$((failed + 1))
    printf '  invoked %-60s ERR %s\n' "$rel" "$(printf '%s' "$out" | tr -s '\n' ' ' | cut -c1-200)"
  fi
done
log "$((ok + failed)) event(s) invoked: $ok ok, $failed failed (function log: ${watch_log#"$root"/})"

# 6. The notices, as they arrive.
log "notices on ${TRIAGE_NOTICE_QUEUE_URL}:"
"$py" "$root/scripts/print-notices.py" --idle "${TRIAGE_DEMO_IDLE_SECONDS:-5}"
