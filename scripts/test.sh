#!/usr/bin/env bash
# The tests, on a fresh machine (this is what CI runs, via .ci/run):
#   scripts/test.sh
# Installs what it needs (rustfmt/clippy components, the local-stack venv, the infra linters),
# starts the local AWS stack (moto), and runs: format check, the layering checks (no module
# cycles in the library crates, no AWS SDK or Lambda dependency in triage-domain), clippy, rustdoc, every workspace test
# (unit + integration against the local server), a 300-finding soak through a fault-injecting
# proxy (scripts/soak.sh), the verdicts on the labelled scenarios
# (triage-cli eval), the deploy rehearsal and the policy lint (scripts/deploy-rehearsal.sh,
# scripts/check-policies.sh), the integration tests again with DynamoDB on dynalite
# (scripts/conformance-dynalite.sh), the infrastructure checks, and the triage
# acceptance check when ../shared/acceptance is present.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)" >&2; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "local AWS stack"
eval "$(infra/local/up.sh)"
trap 'infra/local/down.sh >/dev/null 2>&1 || true' EXIT

step "cargo fmt --check"
cargo fmt --all --check

step "module layering: no two modules of a library crate import each other"
python3 scripts/check-module-cycles.py shared/domain shared/logs shared/aws

step "the domain crate has no AWS SDK or Lambda dependency"
if cargo tree -p triage-domain -e normal --prefix none | grep -E '^(aws-|lambda_runtime|aws_lambda_events)'; then
  echo "triage-domain must not depend on the AWS SDK or the Lambda runtime" >&2
  exit 1
fi

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc: the maintainers' documentation builds without a broken or private link"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "workspace tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

step "soak: 300 findings through the fault-injecting proxy (scripts/soak.sh)"
scripts/soak.sh --findings 300

step "verdicts on the labelled scenarios (triage-cli eval, floor in scripts/eval-floor)"
cargo run -q -p triage-cli --locked -- eval --min-exact "$(cat scripts/eval-floor)" tests/scenarios

step "deploy rehearsal: the expanded templates created in a private moto server, per parameter combination"
scripts/deploy-rehearsal.sh

step "policy lint: every IAM and resource policy of both templates"
scripts/check-policies.sh

step "DynamoDB conformance: integration tests with DynamoDB on dynalite"
scripts/conformance-dynalite.sh

if [[ -x scripts/check-infra.sh ]]; then
  step "infrastructure checks"
  scripts/check-infra.sh
fi

if [[ -x ../shared/acceptance/replay.sh ]]; then
  step "acceptance: ../shared/acceptance/replay.sh"
  ../shared/acceptance/replay.sh
fi
step "all checks passed"
