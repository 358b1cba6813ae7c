#!/usr/bin/env bash
# Installs the Python-packaged tools into one venv, only when missing:
#   aws-sam-cli (sam), cfn-lint, cargo-lambda, ziglang (the linker cargo-lambda uses), and
#   schemathesis (pinned; tests/e2e/test_schema.py fuzzes both adapters against openapi.yaml).
# The venv lives at "${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}/venv"; put its bin/ first
# in PATH to use the tools (cargo-lambda finds zig through that venv's `python3 -m ziglang`).
# Re-runs only check what is there and take about a second. Call it, don't source it.
# Prints one line per tool; pip's own output goes to a log, shown only on failure.
set -euo pipefail

tools_dir="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
venv="$tools_dir/venv"
py="$venv/bin/python"
log="$tools_dir/pip-install.log"

mkdir -p "$tools_dir"

# Serialise concurrent runs (CI and a developer shell, two checks in parallel).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools_dir/.setup.lock"
  flock 9
fi

# Create the venv, or re-create it when its interpreter no longer runs
# (for example the Python it was made from was removed).
if ! "$py" -c '' >/dev/null 2>&1; then
  python3 -m venv --clear "$venv"
fi

# Pinned: its CLI options and checks change between minor versions.
schemathesis_version=4.32.5

# package name | how to tell it is there
packages=(aws-sam-cli cfn-lint cargo-lambda ziglang schemathesis)
is_present() {
  case "$1" in
    aws-sam-cli)  [ -x "$venv/bin/sam" ] ;;
    cfn-lint)     [ -x "$venv/bin/cfn-lint" ] ;;
    cargo-lambda) [ -x "$venv/bin/cargo-lambda" ] ;;
    ziglang)      "$py" -c 'import ziglang' >/dev/null 2>&1 ;;
    schemathesis) [ -x "$venv/bin/schemathesis" ] && "$py" -c 'import sys; from importlib.metadata import version
sys.exit(version("schemathesis") != sys.argv[1])' "$schemathesis_version" >/dev/null 2>&1 ;;
  esac
}
# What pip is asked for.
spec() {
  case "$1" in
    schemathesis) echo "schemathesis==$schemathesis_version" ;;
    *) echo "$1" ;;
  esac
}

missing=()
for p in "${packages[@]}"; do
  is_present "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  specs=()
  for p in "${missing[@]}"; do specs+=("$(spec "$p")"); done
  if ! "$py" -m pip install --disable-pip-version-check --no-input -q "${specs[@]}" >"$log" 2>&1; then
    echo "setup-python: pip install ${missing[*]} failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  for p in "${missing[@]}"; do
    if ! is_present "$p"; then
      echo "setup-python: $p was installed but is still not usable (see $log)" >&2
      exit 1
    fi
  done
fi

# One line per tool, versions read from the installed metadata (fast: no tool start-up).
"$py" - "${missing[@]+"${missing[@]}"}" <<'PY'
import sys
from importlib.metadata import version
installed = set(sys.argv[1:])
for name in ("aws-sam-cli", "cfn-lint", "cargo-lambda", "ziglang", "schemathesis"):
    print(f"{'installed' if name in installed else 'found'} {name} {version(name)}")
PY
