#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ (gitignored) from the real inputs already in the repo, plus the
# few hand-made seeds in fuzz/seeds/. Re-running it is harmless: libFuzzer dedupes by content.
# Files over 64 KiB are left out: they slow every execution and add little coverage.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
max=65536

add() { # add <target> <file>...
    local target=$1; shift
    mkdir -p "$corpus/$target"
    for f in "$@"; do
        [ -f "$f" ] && [ "$(stat -c %s "$f")" -le $max ] || continue
        cp "$f" "$corpus/$target/$(echo "$f" | tr / _)"
    done
}

# flow_log: the first byte is the mode (0: read_flow_log, whole reads), the rest the object.
add_flow() {
    mkdir -p "$corpus/flow_log"
    for f in "$@"; do
        [ -f "$f" ] || continue
        { printf '\x00'; cat "$f"; } > "$corpus/flow_log/$(echo "$f" | tr / _)"
    done
}

shopt -s nullglob globstar
add finding_event events/*.json tests/fixtures/bad/*.json tests/scenarios/*/finding.json \
    fuzz/seeds/finding_event/*
ct=(tests/fixtures/cloudtrail/**/*.json tests/fixtures/cloudtrail/**/*.jsonl
    tests/scenarios/*/cloudtrail/* events/context/cloudtrail/*.json.gz
    events/ingest/eventbridge-cloudtrail-api-call.json)
add cloudtrail_object "${ct[@]}"
add cloudtrail_items "${ct[@]}"
add_flow tests/fixtures/vpcflow/*.txt events/context/flowlogs/*.gz
add flow_log fuzz/seeds/flow_log/*
add notification events/ingest/*.json
# The SQS message bodies on their own, as parse_notification sees them.
for f in events/ingest/sqs-*.json; do
    python3 - "$f" "$corpus/notification" <<'PY'
import json, sys, os
src, out = sys.argv[1], sys.argv[2]
for i, record in enumerate(json.load(open(src)).get("Records", [])):
    name = os.path.join(out, os.path.basename(src) + f".body{i}")
    open(name, "w").write(record["body"])
PY
done
add context_rows fuzz/seeds/context_rows/*
add resolver_log tests/fixtures/resolver/*.json tests/fixtures/resolver/*.ndjson
add eks_audit tests/fixtures/eks/*.json tests/fixtures/eks/*.ndjson fuzz/seeds/eks_audit/*
for t in "$corpus"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"; done
