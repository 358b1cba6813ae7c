#!/usr/bin/env bash
# Runs the service locally, nothing to configure:
#   - s3s-fs (a real S3-compatible store that verifies signatures) on 127.0.0.1 with a bucket,
#     behind a CORS layer (scripts/store_cors_proxy.py) so browser pages on CORS_ORIGINS can
#     upload, single PUTs and multipart (PUT, POST, GET, DELETE; the signed headers; ETag exposed),
#   - the Lambda function under `cargo lambda watch` (rebuilds on change),
#   - a generated development JWT secret and store credentials, written to an env file,
# then prints a token and ready-to-paste curl commands. Ctrl-C stops everything it started.
#
# Env overrides: DEV_STORE_PORT (default 9014), DEV_LAMBDA_PORT (9000), DEV_DIR (state folder,
# default "${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}/dev"; outside the repo so the logs do not
# trigger rebuilds), DEV_PAGE_PORT (5173: the upload page in examples/browser),
# DEV_CORS_ORIGINS (default http://localhost:$DEV_PAGE_PORT,http://127.0.0.1:$DEV_PAGE_PORT).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
dev="${DEV_DIR:-$tools/dev}"
store_port="${DEV_STORE_PORT:-9014}"
lambda_port="${DEV_LAMBDA_PORT:-9000}"
page_port="${DEV_PAGE_PORT:-5173}"
bucket=videos

"$root/scripts/setup.sh" >/dev/null
export PATH="$tools/venv/bin:$PATH"
mkdir -p "$dev/store/$bucket"

# Development credentials: generated once and kept in $dev, so tokens survive restarts.
if [ ! -f "$dev/secrets.env" ]; then
  python3 - > "$dev/secrets.env" <<'PY'
import base64, secrets
print(f"AWS_ACCESS_KEY_ID='DEVKEY{secrets.token_hex(7).upper()}'")
print(f"AWS_SECRET_ACCESS_KEY='{secrets.token_urlsafe(30)}'")
print(f"AUTH_JWT_SECRET='{base64.b64encode(secrets.token_bytes(32)).decode()}'")
PY
  chmod 600 "$dev/secrets.env"
fi
# The env file `cargo lambda watch --env-file` reads (values single-quoted: its parser needs
# that for base64 values).
{
  echo "ENABLE_PRESIGN='true'"
  echo "S3_BUCKET='$bucket'"
  echo "S3_ENDPOINT='http://127.0.0.1:$store_port'"
  echo "S3_REGION='us-east-1'"
  echo "PRESIGN_ALLOWED_PREFIXES='content/'"
  echo "CORS_ORIGINS='${DEV_CORS_ORIGINS:-http://localhost:$page_port,http://127.0.0.1:$page_port}'"
  cat "$dev/secrets.env"
} > "$dev/dev.env"
chmod 600 "$dev/dev.env"
set -a
# shellcheck disable=SC1091
. "$dev/dev.env"
set +a

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# The store listens on an inner port; browsers and curl use the CORS layer on $store_port.
inner_port=$((store_port - 1))
"$tools/s3s-fs/bin/s3s-fs" --host 127.0.0.1 --port "$inner_port" --access-key "$AWS_ACCESS_KEY_ID" \
  --secret-key "$AWS_SECRET_ACCESS_KEY" --domain "localhost:$store_port" "$dev/store" >"$dev/store.log" 2>&1 &
pids+=($!)
python3 "$root/scripts/store_cors_proxy.py" --listen "$store_port" --upstream "127.0.0.1:$inner_port" \
  --origins "$CORS_ORIGINS" >"$dev/store-cors.log" 2>&1 &
pids+=($!)

(cd "$root" && exec cargo lambda watch -p presign-lambda -A 127.0.0.1 -P "$lambda_port" --disable-cors \
  --env-file "$dev/dev.env") >"$dev/lambda.log" 2>&1 &
pids+=($!)

# The upload page, on an origin CORS_ORIGINS allows.
python3 -m http.server "$page_port" --bind 127.0.0.1 --directory "$root/examples/browser" >"$dev/page.log" 2>&1 &
pids+=($!)

base="http://127.0.0.1:$lambda_port/lambda-url/presign-lambda"
echo "Building and starting the function (log: $dev/lambda.log)..."
for _ in $(seq 1 600); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[2]}" 2>/dev/null; then echo "cargo lambda watch stopped; see $dev/lambda.log" >&2; exit 1; fi
  sleep 1
done
curl -fsS "$base/health" >/dev/null || { echo "the function did not become healthy; see $dev/lambda.log" >&2; exit 1; }

token=$(python3 - "$AUTH_JWT_SECRET" <<'PY'
import base64, hashlib, hmac, json, sys, time
secret = base64.b64decode(sys.argv[1])
enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
h = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = enc(json.dumps({"sub": "dev", "iat": now, "exp": now + 12 * 3600}).encode())
print(f"{h}.{p}.{enc(hmac.new(secret, f'{h}.{p}'.encode(), hashlib.sha256).digest())}")
PY
)

cat <<EOF2

Presign service running locally.
  function:  $base   (cargo lambda watch; edits rebuild it)
  store:     http://127.0.0.1:$store_port  bucket "$bucket", objects under $dev/store/$bucket
             (CORS for browser uploads, multipart too, from: $CORS_ORIGINS)
  env file:  $dev/dev.env   (read by cargo lambda watch --env-file)

A development token (valid 12 h):
  export TOKEN='$token'

Ask for an upload URL:
  curl -s -X POST $base/presign \\
    -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
    -d '{"key":"content/my-video-001/seg-0.ts","contentType":"video/mp2t"}'

Upload with it (the bytes go straight to the store):
  URL=\$(curl -s -X POST $base/presign -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
    -d '{"key":"content/my-video-001/seg-0.ts","contentType":"video/mp2t"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  echo 'encrypted bytes' > /tmp/seg-0.ts
  curl -i -X PUT -H 'Content-Type: video/mp2t' --data-binary @/tmp/seg-0.ts "\$URL"

Or from a browser: open
  http://127.0.0.1:$page_port/#api=$base&token=$token
choose a file and press Upload: the page signs each request with POST /presign/request and sends
the bytes straight to the store, a large file in parts with a progress bar. Below it, the page
prints the curl commands of the same multipart upload (create, parts, complete).

Ctrl-C stops the store, the function and the page.
EOF2
wait
