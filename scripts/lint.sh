#!/usr/bin/env bash
# The tidy-tree checks, fast ones first: rustfmt, clippy (-D warnings) on the native crates, the
# core as the Worker builds it and the Worker itself (wasm32), shellcheck on every script and
# ruff on every Python file. Installs shellcheck (Debian) and ruff (PyPI, into the tools venv)
# when missing. Usage: scripts/lint.sh [--fmt-only]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
say() { printf 'lint: %s\n' "$*"; }

cargo fmt --all --check
(cd fuzz && cargo fmt --check)
say "rustfmt: clean"
[ "${1:-}" = "--fmt-only" ] && exit 0

cargo clippy --locked -q -p presign-core -p presign-lambda --all-targets --features presign-core/fixtures -- -D warnings
cargo clippy --locked -q -p presign-core --lib --no-default-features --target wasm32-unknown-unknown -- -D warnings
cargo clippy --locked -q -p presign-worker --target wasm32-unknown-unknown -- -D warnings
say "clippy: clean (native, core without native-crypto on wasm32, Worker)"

if ! command -v shellcheck >/dev/null 2>&1; then
  say "installing shellcheck from Debian"
  if ! apt-get install -y -qq shellcheck >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && apt-get install -y -qq shellcheck >/dev/null
  fi
fi
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
shellcheck -x "${scripts[@]}"
say "shellcheck: clean (${#scripts[@]} scripts)"

ruff="$tools/venv/bin/ruff"
if [ ! -x "$ruff" ]; then
  say "installing ruff from PyPI"
  [ -x "$tools/venv/bin/python" ] || python3 -m venv "$tools/venv"
  "$tools/venv/bin/python" -m pip install -q ruff==0.17.5
fi
mapfile -t py < <(git ls-files '*.py')
"$ruff" check --quiet "${py[@]}"
"$ruff" format --check --quiet "${py[@]}" || { say "ruff format: run '$ruff format' on the files above"; exit 1; }
say "ruff: clean (${#py[@]} files)"

python3 scripts/check_links.py
say "docs: every relative link points at a file"
