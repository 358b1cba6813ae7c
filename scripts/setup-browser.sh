#!/usr/bin/env bash
# Installs what the browser end-to-end test needs, only when missing: Debian's chromium (apt),
# and from npm into "$tools/node-browser": playwright-core (drives chromium) and Uppy 6
# (@uppy/core, @uppy/aws-s3, pinned), and Uppy 5 in its own folder "$tools/node-browser/uppy5"
# (the callbacks docs/clients.md maps onto /presign/request). tests/e2e/test_browser.py bundles
# each for its page with the esbuild that scripts/setup-worker.sh installs. No browser
# download: playwright uses /usr/bin/chromium.
set -euo pipefail

tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
say() { printf 'setup-browser: %s\n' "$*"; }
# Pinned: the browser test checks exactly what this version sends to signRequest.
uppy_version=6.3.1
uppy5_core=5.2.0
uppy5_aws_s3=5.1.0

if command -v chromium >/dev/null 2>&1; then
  say "found $(chromium --version 2>/dev/null | head -n1)"
else
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -q chromium >/dev/null 2>&1 || {
    "${sudo_cmd[@]}" apt-get update -q >/dev/null
    "${sudo_cmd[@]}" apt-get install -y -q chromium >/dev/null
  }
  say "installed $(chromium --version 2>/dev/null | head -n1)"
fi

node_dir="$tools/node-browser"
mkdir -p "$node_dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools/.setup-browser.lock"
  flock 9
fi
[ -f "$node_dir/package.json" ] || echo '{"private":true,"type":"module"}' > "$node_dir/package.json"
version_of() { # package [dir]: its installed version, or nothing
  (cd "${2:-$node_dir}" 2>/dev/null && node -p "require('$1/package.json').version" 2>/dev/null) || true
}

if [ -d "$node_dir/node_modules/playwright-core" ]; then
  say "found playwright-core $(version_of playwright-core)"
else
  (cd "$node_dir" && npm install --silent --no-audit --no-fund playwright-core >/dev/null)
  say "installed playwright-core $(version_of playwright-core)"
fi

if [ "$(version_of @uppy/core)" = "$uppy_version" ] && [ "$(version_of @uppy/aws-s3)" = "$uppy_version" ]; then
  say "found @uppy/core and @uppy/aws-s3 $uppy_version"
else
  (cd "$node_dir" && npm install --silent --no-audit --no-fund "@uppy/core@$uppy_version" "@uppy/aws-s3@$uppy_version" >/dev/null)
  say "installed @uppy/core $(version_of @uppy/core), @uppy/aws-s3 $(version_of @uppy/aws-s3)"
fi

uppy5_dir="$node_dir/uppy5"
if [ "$(version_of @uppy/core "$uppy5_dir")" = "$uppy5_core" ] && [ "$(version_of @uppy/aws-s3 "$uppy5_dir")" = "$uppy5_aws_s3" ]; then
  say "found Uppy 5 (@uppy/core $uppy5_core, @uppy/aws-s3 $uppy5_aws_s3)"
else
  mkdir -p "$uppy5_dir"
  [ -f "$uppy5_dir/package.json" ] || echo '{"private":true,"type":"module"}' > "$uppy5_dir/package.json"
  (cd "$uppy5_dir" && npm install --silent --no-audit --no-fund "@uppy/core@$uppy5_core" "@uppy/aws-s3@$uppy5_aws_s3" >/dev/null)
  say "installed Uppy 5 (@uppy/core $(version_of @uppy/core "$uppy5_dir"), @uppy/aws-s3 $(version_of @uppy/aws-s3 "$uppy5_dir"))"
fi
