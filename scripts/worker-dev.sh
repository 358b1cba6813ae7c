#!/usr/bin/env bash
# Builds the Worker and runs it in workerd (wrangler dev) on 127.0.0.1, offline.
# Further arguments go to `wrangler dev`, e.g. --port 8787 --var S3_ENDPOINT:http://127.0.0.1:9014
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
"$root/scripts/setup-worker.sh" >&2
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
cd "$root"
exec "$tools/node/node_modules/.bin/wrangler" dev --ip 127.0.0.1 --show-interactive-dev-session=false "$@"
