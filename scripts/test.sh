#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing, then runs every test.
# Usage: scripts/test.sh            everything (CI)
#        scripts/test.sh --quick    format, lints, unit and contract tests only
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

step "format (rustfmt): seconds, before anything is installed"
scripts/lint.sh --fmt-only

if [ "${1:-}" = "--quick" ]; then
  # The inner loop: format, lints and the unit and contract tests, minutes on a warm tree. No
  # stores, no adapters, no browser: the full command (no argument) is what CI runs.
  step "quick: the wasm32 target for clippy"
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  step "quick: lint (clippy -D warnings, shellcheck, ruff, doc links)"
  scripts/lint.sh
  step "quick: core unit, contract and differential tests (native-crypto and WebCrypto builds), Lambda unit tests"
  cargo test --locked -q -p presign-core
  cargo test --locked -q -p presign-core --lib --no-default-features
  cargo test --locked -q -p presign-lambda
  step "quick: done"
  exit 0
fi

step "setup"
scripts/setup.sh --worker
scripts/setup-browser.sh

step "lint: clippy -D warnings (native, wasm32 core, Worker), shellcheck, ruff"
scripts/lint.sh

step "core: unit, contract and SDK differential tests"
cargo test --locked -p presign-core
# The core as the Worker builds it: asymmetric signatures go to the adapter (WebCrypto).
cargo test --locked -p presign-core --lib --no-default-features

step "benchmarks type-check (clippy --all-targets above checked the core's; they run with scripts/bench.sh, not in CI)"
# A release build of every bench dependency (aws-sdk-s3, rusty-s3, criterion...) took 9 of CI's
# minutes and proved nothing more than the type check: the bench binaries link what the tests
# already link.
cargo check --locked -q -p lambda-hello

step "core: builds for wasm32-unknown-unknown (as the Worker uses it: signatures via WebCrypto)"
cargo build --locked -p presign-core --target wasm32-unknown-unknown --no-default-features

step "lambda: unit tests and release build"
cargo test --locked -p presign-lambda
cargo build --locked --release -p presign-lambda
echo "presign-lambda release binary: $(stat -c %s target/release/presign-lambda) bytes"

step "deployment config: sam validate, sam validate --lint, cfn-lint"
scripts/check-deploy-config.sh

step "worker: wasm build through worker-build, wrangler deploy --dry-run"
scripts/check-wrangler.sh

step "end-to-end: Lambda (Runtime API) and Worker (wrangler dev), real store, real JWKS server, real browser"
cargo build --locked -q -p presign-core --features fixtures --example jwt_fixture
python3 -W ignore::ResourceWarning -m unittest discover -s tests/e2e -p 'test_*.py' -v 2>&1 | tail -n 60

step "load: 5,000 mixed requests through each adapter (scripts/load.sh runs 100,000)"
scripts/load.sh 5000

step "fuzz: every cargo-fuzz target for 30 s on the committed corpus"
scripts/fuzz.sh 30

step "done"
