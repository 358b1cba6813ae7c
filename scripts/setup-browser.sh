#!/usr/bin/env bash
# Installs what the browser end-to-end test needs, only when missing: Debian's chromium (apt)
# and playwright-core (npm) to drive it. No browser download: playwright uses /usr/bin/chromium.
set -euo pipefail

tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
say() { printf 'setup-browser: %s\n' "$*"; }

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
if [ -d "$node_dir/node_modules/playwright-core" ]; then
  say "found playwright-core"
else
  mkdir -p "$node_dir"
  [ -f "$node_dir/package.json" ] || echo '{"private":true,"type":"module"}' > "$node_dir/package.json"
  (cd "$node_dir" && npm install --silent --no-audit --no-fund playwright-core >/dev/null)
  say "installed playwright-core"
fi
