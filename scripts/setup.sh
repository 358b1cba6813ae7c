#!/usr/bin/env bash
# Installs everything the tests and the local run need, only when missing, so a re-run takes
# seconds. Tools live outside the repo in "${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}":
#   - rustup target wasm32-unknown-unknown (the core must build for the Worker)
#   - s3s-fs 0.14.1, the local S3-compatible store that verifies SigV4 (../shared/notes)
#   - cargo-fuzz 0.13.2 (scripts/fuzz.sh; the fuzz build itself uses rustup's nightly)
#   - the Python tools: aws-sam-cli, cfn-lint, cargo-lambda, ziglang (scripts/setup-python.sh)
# Usage: scripts/setup.sh [--worker]   (--worker also installs the Worker toolchain)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
mkdir -p "$tools"

say() { printf 'setup: %s\n' "$*"; }

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "found rust target wasm32-unknown-unknown"
else
  rustup target add wasm32-unknown-unknown >/dev/null
  say "installed rust target wasm32-unknown-unknown"
fi

s3s="$tools/s3s-fs/bin/s3s-fs"
if [ -x "$s3s" ]; then
  say "found s3s-fs 0.14.1"
else
  say "installing s3s-fs 0.14.1 from crates.io (a few minutes, once)"
  cargo install --quiet --root "$tools/s3s-fs" s3s-fs --version =0.14.1 --features binary
  say "installed s3s-fs 0.14.1"
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
