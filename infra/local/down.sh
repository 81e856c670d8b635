#!/usr/bin/env bash
# Stop the local AWS server that infra/local/up.sh started (by the PID it recorded in
# infra/local/.state/). Harmless when nothing runs; never touches a server up.sh did not start.
#
#   infra/local/down.sh          # the server on TRIAGE_LOCAL_PORT (default 4566)
#   infra/local/down.sh --all    # every server up.sh started, whatever its port
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$here/.state"
log() { printf 'down.sh: %s\n' "$*" >&2; }

if [[ "${1:-}" == "--all" ]]; then
  shopt -s nullglob
  pidfiles=("$state"/moto-*.pid)
else
  pidfiles=("$state/moto-${TRIAGE_LOCAL_PORT:-4566}.pid")
fi

for pidfile in "${pidfiles[@]}"; do
  [[ -f "$pidfile" ]] || { log "nothing to stop ($(basename "$pidfile") absent)"; continue; }
  pid="$(cat "$pidfile")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q moto_server; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped moto server pid $pid"
  else
    log "pid $pid from $(basename "$pidfile") is not running a moto server any more"
  fi
  rm -f "$pidfile"
done
