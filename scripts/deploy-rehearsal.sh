#!/usr/bin/env bash
# Deploy rehearsal without AWS: create infra/template.yaml (SAM, expanded offline with aws-sam-translator) and
# infra/region-forwarder.yaml in the CloudFormation of a local moto server, for every documented parameter
# combination, and check what the stacks create:
#   - before anything is created: the parameter constraints and the Rules section (moto evaluates neither)
#     accept the documented combinations and refuse the ones they are there to refuse;
#   - through the server's AWS APIs (boto3): the EventBridge rules' patterns and targets (retries, DLQ) and
#     the functions' invoke permissions; the table's keys; the queues' redrive policies, retention, encryption
#     and visibility timeouts (>= 6 x the consumer's timeout + batching window); the functions' environment,
#     memory, timeout, role and reserved concurrency; the event source mappings; the roles' trust and inline
#     policies; the KMS key, its policy and alias; the topics; the outputs (each names an existing resource);
#   - from the expanded template, resolved against the created stack, what moto does not create or drops
#     (subscriptions, topic and queue policies, alarms, async invoke configs, arm64, TTL, log group keys);
#   - a finding through the created resources: `triage-cli replay --json events/ssh-brute-force-target.json`
#     with TRIAGE_TABLE_NAME / TRIAGE_TOPIC_ARN from the stack's outputs publishes once (the notice reaches a
#     queue subscribed to the topic), and a second replay publishes nothing;
#   - the stack deletes cleanly.
# FUNCTION CODE IS NOT REHEARSED: each function's code is a placeholder zip uploaded to a moto bucket (moto
# never runs it). The code is covered by the workspace tests; `scripts/check-infra.sh` builds it for arm64.
#
#   scripts/deploy-rehearsal.sh                 # everything (~20 s once the venv exists)
#   scripts/deploy-rehearsal.sh --only emails   # the combinations whose name contains "emails"
#   scripts/deploy-rehearsal.sh --keep          # leave the stacks on the server (stopped at exit anyway)
#
# The moto server is this script's own (127.0.0.1, a free port, or REHEARSAL_PORT), started from the venv of
# infra/rehearsal/requirements.txt (cached under ~/.cache/guardduty-triage/, keyed by the pinned versions; moto
# is the version infra/local/up.sh installs) with the moto fixes of infra/rehearsal/moto_server.py, and
# stopped at exit. triage-cli must be built (target/debug/triage-cli, or TRIAGE_CLI); this script never runs
# cargo. Exits non-zero on any failed check; the last line is 'rehearsal: N passed, M failed'.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac

fail() {
  printf 'deploy-rehearsal.sh: FAILED: %s\n' "$*" >&2
  exit 1
}
started=$SECONDS
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in infra/rehearsal/

# moto: the same version as the local stack (infra/local/up.sh), so the rehearsal and the tests agree.
up_moto="$(sed -n 's/^MOTO_VERSION=//p' "$root/infra/local/up.sh")"
our_moto="$(sed -n 's/^moto\[server\]==//p' "$root/infra/rehearsal/requirements.txt")"
[[ "$up_moto" == "$our_moto" ]] ||
  fail "infra/rehearsal/requirements.txt pins moto $our_moto, infra/local/up.sh installs $up_moto: keep them equal"

cli="${TRIAGE_CLI:-$root/target/debug/triage-cli}"
[[ -x "$cli" ]] || fail "$cli not found: build it first (cargo build -p triage-cli), or set TRIAGE_CLI"

# shellcheck source-path=SCRIPTDIR/..
# shellcheck source=infra/rehearsal/venv.sh
source "$root/infra/rehearsal/venv.sh"
rehearsal_venv
venv_ready=$SECONDS

# --- our own moto server, stopped on exit ----------------------------------------------------------
work="$(mktemp -d)"
moto_pid=""
cleanup() {
  if [[ -n "$moto_pid" ]] && kill -0 "$moto_pid" 2>/dev/null; then
    kill -TERM "$moto_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$moto_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$moto_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="${REHEARSAL_PORT:-$("$REHEARSAL_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
endpoint="http://127.0.0.1:$port"
"$REHEARSAL_PY" "$root/infra/rehearsal/moto_server.py" 127.0.0.1 "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
answers() {
  "$REHEARSAL_PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)' \
    "$endpoint" 2>/dev/null
}
for _ in $(seq 1 200); do
  answers && break
  kill -0 "$moto_pid" 2>/dev/null || { tail -n 20 "$work/moto.log" >&2; fail "moto server exited"; }
  sleep 0.1
done
answers || fail "moto server did not answer on $endpoint within 20 s"
echo "moto server pid $moto_pid on $endpoint (stopped at exit)"

rc=0
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true \
  "$REHEARSAL_PY" "$root/infra/rehearsal/rehearse.py" --endpoint "$endpoint" --triage-cli "$cli" "$@" || rc=$?
if ((rc != 0)) && grep -q 'Traceback' "$work/moto.log"; then
  echo "--- moto server errors (last 40 lines of its log):"
  grep -v '^\s*$' "$work/moto.log" | grep -A40 'Error on request' | tail -n 40
fi
echo "deploy-rehearsal.sh: venv $((venv_ready - started)) s, rehearsal $((SECONDS - venv_ready)) s, total $((SECONDS - started)) s"
exit "$rc"
