#!/usr/bin/env bash
# Runs every benchmark in one go and writes BENCHMARKS.md and target/bench/summary.json.
# Not part of CI (too slow and noisy for pass/fail); scripts/test.sh only compiles the benches.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
cd "$root"
scripts/setup.sh >/dev/null

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -q wrk >/dev/null; else sudo apt-get install -y -q wrk >/dev/null; fi
fi
scripts/setup-worker.sh >/dev/null

node_dir="$tools/node-bench"
if [ ! -d "$node_dir/node_modules/aws4fetch" ] || [ ! -d "$node_dir/node_modules/@aws-sdk/s3-request-presigner" ]; then
  mkdir -p "$node_dir" && [ -f "$node_dir/package.json" ] || echo '{"private":true,"type":"module"}' > "$node_dir/package.json"
  (cd "$node_dir" && npm install --silent --no-audit --no-fund @aws-sdk/client-s3 @aws-sdk/s3-request-presigner aws4fetch >/dev/null)
fi
cp bench/node/presign.mjs "$node_dir/presign.mjs"

cargo bench --locked -p presign-core --features fixtures --bench presign
cargo build --locked --release -p presign-lambda -p lambda-hello
# The same two for Graviton: aarch64, linked by zig through cargo-lambda (both from the tools
# venv, scripts/setup-python.sh), into a lambda dir of their own so that an x86_64 `sam build`
# in target/lambda is neither overwritten nor read by mistake.
PATH="$tools/venv/bin:$PATH" cargo lambda build --locked --release --arm64 -p presign-lambda -p lambda-hello \
  --lambda-dir "${CARGO_TARGET_DIR:-target}/lambda-arm64"
scripts/build-worker.sh >/dev/null 2>&1
python3 -W ignore::ResourceWarning scripts/bench_report.py
