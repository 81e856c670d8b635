#!/usr/bin/env bash
# Start the local AWS stack (one moto server for DynamoDB, SNS, SQS and EventBridge) and create the
# responder's resources, derived from infra/template.yaml by provision.py.
#
#   eval "$(infra/local/up.sh)"               # from any directory
#   eval "$(infra/local/up.sh --tools-only)"  # only the tool venv (cargo-lambda, zig): TRIAGE_LOCAL_VENV, PATH
#
# Idempotent: a second run reuses the running server and the existing resources and prints the same
# lines. Only `export NAME=value` lines go to stdout; progress goes to stderr.
#
# Environment:
#   TRIAGE_LOCAL_PORT                  port of the server on 127.0.0.1 (default 4566)
#   TRIAGE_LOCAL_PARAMETER_OVERRIDES   template parameters for the local stack, e.g. "MinSeverity=4"
#   XDG_CACHE_HOME                     the tool venv lives in ${XDG_CACHE_HOME:-~/.cache}/guardduty-triage/
#   PYTHON                             interpreter used to create the venv (default python3, needs >= 3.9)
#
# State (pid, port, logs) is kept in infra/local/.state/; infra/local/down.sh stops the server.
set -euo pipefail

MOTO_VERSION=5.2.5
CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
state="$here/.state"
port="${TRIAGE_LOCAL_PORT:-4566}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/guardduty-triage"
venv="$cache/local-moto${MOTO_VERSION}-cargolambda${CARGO_LAMBDA_VERSION}-zig${ZIGLANG_VERSION}"
endpoint="http://127.0.0.1:$port"

log() { printf 'up.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

tools_only=0
case "${1:-}" in
  "") ;;
  --tools-only) tools_only=1 ;;
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

case "$port" in '' | *[!0-9]*) die "TRIAGE_LOCAL_PORT must be a port number, got '$port'" ;; esac
mkdir -p "$state" "$cache"

# Serialise concurrent runs (several test binaries may call up.sh at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.local.lock"
  flock -w 600 9 || die "timed out waiting for another up.sh"
fi

# --- 1. Tools: a venv keyed by the pinned versions, reused while it is complete. -------------------
if [[ ! -f "$venv/.complete" ]]; then
  started=$SECONDS
  log "installing moto[server]==$MOTO_VERSION cargo-lambda==$CARGO_LAMBDA_VERSION ziglang==$ZIGLANG_VERSION into $venv"
  rm -rf "$venv"
  py="${PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || die "$py not found: install Python 3 with pip"
  if ! "$py" -m venv "$venv" >&2 2>&1; then
    # Debian's python3 without python3-venv: fall back to virtualenv.
    rm -rf "$venv"
    if ! { { "$py" -m pip install --quiet --user virtualenv ||
      "$py" -m pip install --quiet --user --break-system-packages virtualenv; } >&2 &&
      "$py" -m virtualenv --quiet "$venv" >&2; }; then
      die "cannot create a venv: install python3-venv (apt-get install -y python3-venv) or virtualenv"
    fi
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION" \
    "PyYAML>=6,<7" >&2 || die "pip install failed"
  touch "$venv/.complete"
  log "installed in $((SECONDS - started)) s"
fi
py="$venv/bin/python"

# PATH with the venv's bin first, once (so a second eval in the same shell prints the same PATH).
path=":$PATH:"
path="${path//:$venv\/bin:/:}"
path="${path#:}"
path="${path%:}"
q() { printf 'export %s=%q\n' "$1" "$2"; }
if ((tools_only)); then
  q TRIAGE_LOCAL_VENV "$venv"
  q PATH "$venv/bin${path:+:$path}"
  exit 0
fi

# --- 2. Server: reuse ours (or any moto already answering on the port), else start one. -------------
answers() { # does a moto server answer on $endpoint?
  "$py" - "$endpoint" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}
pidfile="$state/moto-$port.pid"
ours_running() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q moto_server
}

if ours_running && answers; then
  log "reusing moto server pid $(cat "$pidfile") on $endpoint"
elif answers; then
  rm -f "$pidfile"
  log "a moto server not started by up.sh answers on $endpoint: using it (down.sh will not stop it)"
else
  if ours_running; then
    die "moto server pid $(cat "$pidfile") runs but does not answer on $endpoint; run infra/local/down.sh"
  fi
  rm -f "$pidfile"
  if "$py" -c 'import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$port"; then
    die "port $port on 127.0.0.1 is taken by something that is not a moto server; set TRIAGE_LOCAL_PORT"
  fi
  started=$SECONDS
  # Detached (own session, output to the log, not our stdout) so that `eval "$(up.sh)"` returns.
  # moto_server_locked.py: moto's server with DynamoDB writes serialised, as DynamoDB applies them.
  "$py" - "$py" "$here/moto_server_locked.py" "$port" "$state/moto-$port.log" >"$pidfile" <<'PY'
import subprocess, sys
python, server, port, logfile = sys.argv[1:]
with open(logfile, "ab") as out:
    p = subprocess.Popen([python, server, "127.0.0.1", port], stdin=subprocess.DEVNULL,
                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
print(p.pid)
PY
  for _ in $(seq 1 200); do
    answers && break
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -n 20 "$state/moto-$port.log" >&2; die "moto server exited"; }
    sleep 0.1
  done
  answers || die "moto server did not answer on $endpoint within 20 s (log: $state/moto-$port.log)"
  log "started moto server pid $(cat "$pidfile") on $endpoint in $((SECONDS - started)) s"
fi

# --- 3. Resources, from the template. provision.py prints the TRIAGE_* export lines. ------------------
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
resources="$("$py" "$here/provision.py" --endpoint "$endpoint" --template "$root/infra/template.yaml")" ||
  die "provision.py failed"

q AWS_ENDPOINT_URL "$endpoint"
q AWS_ACCESS_KEY_ID test
q AWS_SECRET_ACCESS_KEY test
q AWS_REGION us-east-1
q AWS_DEFAULT_REGION us-east-1
printf '%s\n' "$resources"
q TRIAGE_LOCAL_VENV "$venv"
q PATH "$venv/bin${path:+:$path}"
