#!/usr/bin/env bash
# Check the deployable infrastructure (infra/template.yaml, and infra/region-forwarder.yaml for other
# regions), offline:
#   1. sam validate --lint (template.yaml: the SAM template)
#   2. cfn-lint (both templates)
#   3. checkov (CloudFormation framework, both templates, and template.yaml again with its enabled/disabled
#      options on): zero failed checks; every skipped check must carry its reason next to the resource
#      (Metadata.checkov.skip[].comment)
#   4. sam build: an arm64 (aarch64) bootstrap for every function (cargo lambda, in the workspace target dir)
#
#   scripts/check-infra.sh               # everything
#   scripts/check-infra.sh --skip-build  # steps 1-3 only (seconds once the tools are installed)
#
# The tools live in venvs cached under ${XDG_CACHE_HOME:-~/.cache}/guardduty-triage/, one per set of pinned
# versions, reused while complete. cargo-lambda and zig come from infra/local/up.sh's venv.
set -euo pipefail

SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
CHECKOV_VERSION=3.3.30

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
template="$root/infra/template.yaml"
# The plain CloudFormation template deployed in the other regions (no SAM transform: sam validate does not apply).
forwarder="$root/infra/region-forwarder.yaml"
cfn_templates=("$template" "$forwarder")
cache="${XDG_CACHE_HOME:-$HOME/.cache}/guardduty-triage"
sam_venv="$cache/sam${SAM_CLI_VERSION}-cfnlint${CFN_LINT_VERSION}"
checkov_venv="$cache/checkov${CHECKOV_VERSION}"

build=1
case "${1:-}" in
  "") ;;
  --skip-build) build=0 ;;
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "check-infra.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

export SAM_CLI_TELEMETRY=0 SAM_CLI_BETA_RUST_CARGO_LAMBDA=1
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_REGION="${AWS_REGION:-us-east-1}"

timings=()
step_started=0
step() {
  step_started=$SECONDS
  printf '\n=== %s\n' "$1"
}
done_step() {
  local took=$((SECONDS - step_started))
  timings+=("$(printf '%-28s %4d s' "$1" "$took")")
  printf -- '--- %s: ok (%d s)\n' "$1" "$took"
}
fail() {
  printf -- '--- FAILED: %s\n' "$*" >&2
  exit 1
}

# venv DIR PACKAGE... : create DIR with the packages unless it is already complete.
venv() {
  local dir="$1"
  shift
  [[ -f "$dir/.complete" ]] && return 0
  echo "installing $* into $dir"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  local py="${PYTHON:-python3}"
  if ! "$py" -m venv "$dir"; then
    # Debian's python3 without python3-venv: fall back to virtualenv.
    rm -rf "$dir"
    if ! { { "$py" -m pip install --quiet --user virtualenv ||
      "$py" -m pip install --quiet --user --break-system-packages virtualenv; } &&
      "$py" -m virtualenv --quiet "$dir"; }; then
      fail "cannot create a venv: install python3-venv (apt-get install -y python3-venv) or virtualenv"
    fi
  fi
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  touch "$dir/.complete"
}

step "install tools"
mkdir -p "$cache"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.check-infra.lock"
  flock -w 900 9 || fail "timed out waiting for another check-infra.sh"
fi
# The two installs run side by side (about 30 s each when cold).
venv "$sam_venv" "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION" &
sam_install=$!
venv "$checkov_venv" "checkov==$CHECKOV_VERSION" || fail "installing checkov"
wait "$sam_install" || fail "installing aws-sam-cli and cfn-lint"
"$sam_venv/bin/sam" --version
"$sam_venv/bin/cfn-lint" --version
"$checkov_venv/bin/checkov" --version
done_step "install tools"

step "sam validate --lint"
(cd "$root/infra" && "$sam_venv/bin/sam" validate --lint --template "$template") || fail "sam validate --lint"
done_step "sam validate --lint"

step "cfn-lint"
"$sam_venv/bin/cfn-lint" "${cfn_templates[@]}" || fail "cfn-lint"
echo "cfn-lint: no findings"
done_step "cfn-lint"

step "checkov"
# Every skip must say why, next to the resource: Metadata.checkov.skip[].comment, or an inline
# `# checkov:skip=ID:reason` comment.
"$sam_venv/bin/python" - "${cfn_templates[@]}" <<'PY' || fail "a checkov skip without its reason"
import os, re, sys, yaml
class L(yaml.SafeLoader): pass
L.add_multi_constructor("!", lambda loader, suffix, node: None)
bad, n = [], 0
for path in sys.argv[1:]:
    file = os.path.basename(path)
    text = open(path).read()
    t = yaml.load(text, Loader=L)
    for name, res in (t.get("Resources") or {}).items():
        for skip in ((res.get("Metadata") or {}).get("checkov") or {}).get("skip") or []:
            n += 1
            if not str(skip.get("comment") or "").strip():
                bad.append(f"{file} {name}: {skip.get('id')}")
    for m in re.finditer(r"checkov:skip=([A-Za-z0-9_]+)(?::(.*))?", text):
        n += 1
        if not (m.group(2) or "").strip():
            bad.append(f"{file} inline {m.group(1)}")
if bad:
    print("checkov skips without a reason:", ", ".join(bad))
    sys.exit(1)
print(f"{n} checkov skip(s), each with its reason")
PY
checkov_json="$(mktemp)"
checkov_dir="$(mktemp -d)"
trap 'rm -rf "$checkov_json" "$checkov_dir"' EXIT
# checkov evaluates resource conditions with the parameters' defaults and leaves out the resources whose
# condition is false: those of an option that is off by default (CloudTrailApiEvents=disabled) would never be
# scanned. So it also scans a copy of template.yaml in which every enabled/disabled parameter defaults to
# enabled (same lines, so line numbers still point into template.yaml).
all_enabled="$checkov_dir/template.all-enabled.yaml"
"$sam_venv/bin/python" - "$template" "$all_enabled" <<'PY' || fail "writing the all-enabled copy of template.yaml"
import re, sys, yaml
class L(yaml.SafeLoader): pass
L.add_multi_constructor("!", lambda loader, suffix, node: None)
text = open(sys.argv[1]).read()
params = yaml.load(text, Loader=L).get("Parameters") or {}
switches = {name for name, spec in params.items() if sorted(spec.get("AllowedValues") or []) == ["disabled", "enabled"]}
out, section, param, flipped = [], None, None, set()
for line in text.splitlines(keepends=True):
    if re.match(r"^[A-Za-z]", line):
        section, param = line.split(":", 1)[0], None
    elif section == "Parameters" and (m := re.match(r"^  ([A-Za-z0-9]+):\s*$", line)):
        param = m.group(1)
    elif param in switches and re.match(r"^    Default:\s*disabled\s*$", line):
        line = line.replace("disabled", "enabled")
        flipped.add(param)
    out.append(line)
open(sys.argv[2], "w").write("".join(out))
print("checkov also scans template.yaml with", ", ".join(sorted(flipped)) or "nothing", "enabled")
PY
checkov_rc=0
"$checkov_venv/bin/checkov" -f "$template" -f "$all_enabled" -f "$forwarder" --framework cloudformation --skip-download \
  --output json >"$checkov_json" || checkov_rc=$?
"$checkov_venv/bin/python" - "$checkov_json" "${cfn_templates[@]}" "$all_enabled" <<'PY' || checkov_rc=1
import json, os, sys
report = json.load(open(sys.argv[1]))
report = report[0] if isinstance(report, list) else report
results, summary = report.get("results", {}), report.get("summary", {})
print(f"passed {summary.get('passed')}, failed {summary.get('failed')}, skipped {summary.get('skipped')}, "
      f"parsing errors {summary.get('parsing_errors')}")
for c in results.get("failed_checks", []):
    print(f"  FAILED  {c['check_id']} {c['file_path']} {c['resource']} (lines {c['file_line_range']}): "
          f"{c['check_name']}")
for c in results.get("skipped_checks", []):
    print(f"  skipped {c['check_id']} {c['file_path']} {c['resource']}: "
          f"{(c.get('check_result') or {}).get('suppress_comment', '')}")
# Every template must have been scanned (checked resources name their file).
scanned = {os.path.basename(c["file_path"]) for kind in ("passed_checks", "failed_checks", "skipped_checks")
           for c in results.get(kind, [])}
unscanned = [os.path.basename(t) for t in sys.argv[2:] if os.path.basename(t) not in scanned]
if unscanned:
    print("  not scanned:", ", ".join(unscanned))
sys.exit(1 if summary.get("failed") or summary.get("parsing_errors") or not summary.get("passed") or unscanned
         else 0)
PY
((checkov_rc == 0)) || fail "checkov: failed checks"
done_step "checkov"

if ((build)); then
  step "sam build (arm64)"
  rustup target add aarch64-unknown-linux-gnu
  # cargo-lambda and zig (found through `python3 -m ziglang`, hence the venv's bin first on PATH).
  eval "$("$root/infra/local/up.sh" --tools-only)"
  cargo lambda --version
  rm -rf "$root/infra/.aws-sam/build"
  (cd "$root/infra" && "$sam_venv/bin/sam" build --template "$template") || fail "sam build"
  found=0
  for bootstrap in "$root"/infra/.aws-sam/build/*/bootstrap; do
    [[ -f "$bootstrap" ]] || continue
    found=$((found + 1))
    machine="$(python3 - "$bootstrap" <<'PY'
import struct, sys
h = open(sys.argv[1], "rb").read(20)
if h[:4] != b"\x7fELF":
    print("not-elf")
else:
    order = "<" if h[5] == 1 else ">"
    print({183: "aarch64", 62: "x86_64"}.get(struct.unpack(order + "H", h[18:20])[0], "other"))
PY
)"
    if command -v file >/dev/null 2>&1; then file "$bootstrap"; fi
    printf '%s: ELF machine %s, %s bytes\n' "${bootstrap#"$root"/}" "$machine" "$(wc -c <"$bootstrap")"
    [[ "$machine" == aarch64 ]] || fail "$bootstrap is not an aarch64 executable ($machine)"
  done
  ((found > 0)) || fail "sam build produced no bootstrap"
  done_step "sam build (arm64)"
fi

printf '\n=== infrastructure checks passed\n'
printf '  %s\n' "${timings[@]}"
