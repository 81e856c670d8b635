#!/usr/bin/env bash
# The triage path under load and faults, against the local stack:
#   scripts/soak.sh                 # 10,000 findings, concurrency 32 (about ten minutes)
#   scripts/soak.sh --findings 300  # the CI run
# Any option of the `soak` binary passes through (--seed, --duplicates, --updates, --concurrency,
# --no-faults; `cargo run -p integration-tests --bin soak -- --help`). Deliveries go through a
# fault-injecting proxy (503s, throttling, resets, latency, responses lost after the server applied
# the request); the notice queue is then drained and checked: every expected notice exactly once,
# doubled only where a Publish response was lost, no lease left held, no delivery failing after
# Lambda's retries. Exits non-zero on any violation. Starts the local stack unless one is running
# (AWS_ENDPOINT_URL set).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
  eval "$(infra/local/up.sh)"
  trap 'infra/local/down.sh >/dev/null 2>&1 || true' EXIT
fi
cargo build -q -p integration-tests --bin soak --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$target_dir/debug/soak" "$@"
