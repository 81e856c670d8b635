# shellcheck shell=bash disable=SC2154,SC2034  # root and fail() come from, REHEARSAL_PY goes to, the caller
# Sourced by scripts/deploy-rehearsal.sh and scripts/check-policies.sh: the venv of
# infra/rehearsal/requirements.txt, cached under ${XDG_CACHE_HOME:-~/.cache}/guardduty-triage/ and keyed by a
# hash of that file (every version in it is pinned), so a changed pin builds a new venv and an unchanged one
# is reused while complete. Sets REHEARSAL_PY to the venv's python.
#
# Needs: $root (the repository root) and a fail() function.

rehearsal_venv() {
  local requirements="$root/infra/rehearsal/requirements.txt"
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/guardduty-triage"
  local key
  key="$(sha256sum "$requirements" | cut -c1-12)"
  local dir="$cache/rehearsal-$key"
  mkdir -p "$cache"
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$cache/.rehearsal.lock"
    flock -w 900 8 || fail "timed out waiting for another install of $dir"
  fi
  if [[ ! -f "$dir/.complete" ]]; then
    local started=$SECONDS py="${PYTHON:-python3}"
    echo "installing infra/rehearsal/requirements.txt into $dir"
    rm -rf "$dir"
    if ! "$py" -m venv "$dir"; then
      # Debian's python3 without python3-venv: fall back to virtualenv.
      rm -rf "$dir"
      { { "$py" -m pip install --quiet --user virtualenv ||
        "$py" -m pip install --quiet --user --break-system-packages virtualenv; } &&
        "$py" -m virtualenv --quiet "$dir"; } ||
        fail "cannot create a venv: install python3-venv (apt-get install -y python3-venv) or virtualenv"
    fi
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" ||
      fail "pip install -r infra/rehearsal/requirements.txt"
    touch "$dir/.complete"
    echo "installed in $((SECONDS - started)) s"
  fi
  if command -v flock >/dev/null 2>&1; then
    flock -u 8
  fi
  REHEARSAL_PY="$dir/bin/python"
}
