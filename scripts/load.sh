#!/usr/bin/env bash
# Sustained mixed load (valid and hostile requests) through the Lambda release binary (Runtime API
# test double) and the Worker (wrangler dev), loopback only: zero 5xx, every answer as expected,
# flat memory, sampled URLs verified by the store. See tests/load/load.py.
# Usage: scripts/load.sh [requests per adapter, default 100000] [--adapters lambda,worker]
# Needs what scripts/test.sh builds first: target/release/presign-lambda, the Worker build,
# the jwt fixture, and the tools of scripts/setup.sh --worker.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requests="${1:-100000}"
shift || true
exec python3 -W ignore::ResourceWarning "$root/tests/load/load.py" --requests "$requests" "$@"
