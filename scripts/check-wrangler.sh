#!/usr/bin/env bash
# Validates wrangler.toml offline: `wrangler deploy --dry-run` must pass with no warning
# (wrangler exits 0 on warnings, so its output is checked too). Prints the upload size.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
out_dir="$(mktemp -d)"
trap 'rm -rf "$out_dir"' EXIT
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
cd "$root"
if ! output="$("$tools/node/node_modules/.bin/wrangler" deploy --dry-run --outdir "$out_dir" 2>&1)"; then
  printf '%s\n' "$output" >&2
  echo "FAIL wrangler deploy --dry-run" >&2
  exit 1
fi
if printf '%s\n' "$output" | grep -v '^\[custom build\]' | grep -qiE 'warn|error'; then
  printf '%s\n' "$output" >&2
  echo "FAIL wrangler deploy --dry-run printed a warning" >&2
  exit 1
fi
echo "ok   wrangler deploy --dry-run: $(printf '%s\n' "$output" | grep 'Total Upload')"
wasm="$root/functions/worker/build/index_bg.wasm"
echo "ok   worker wasm: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) bytes gzip -9"
