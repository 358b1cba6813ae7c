#!/usr/bin/env bash
# Installs the Worker toolchain, only what is missing, without downloads from GitHub:
#   - wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock (crates.io)
#   - worker-build at exactly the worker version in Cargo.lock (crates.io)
#   - from npm: binaryen 132 (wasm-opt; worker-build 0.8 expects 132), esbuild, wrangler 4.86
#     (the newest that runs on Node 20)
# Prints the env to use: WASM_BINDGEN_BIN, WASM_OPT_BIN, ESBUILD_BIN, WRANGLER.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
mkdir -p "$tools"
say() { printf 'setup-worker: %s\n' "$*"; }

locked() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock"; }
bindgen_version="$(locked wasm-bindgen)"
worker_version="$(locked worker)"

if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools/.setup-worker.lock"
  flock 9
fi

install_crate() { # name version binary
  local dir="$tools/$1-$2"
  if [ -x "$dir/bin/$3" ]; then
    say "found $1 $2"
  else
    say "installing $1 $2 from crates.io (several minutes, once)"
    local locked_flag=()
    [ "$1" = worker-build ] && locked_flag=(--locked)
    cargo install --quiet "${locked_flag[@]}" --root "$dir" "$1" --version "=$2"
    say "installed $1 $2"
  fi
}
install_crate wasm-bindgen-cli "$bindgen_version" wasm-bindgen
install_crate worker-build "$worker_version" worker-build

node_dir="$tools/node"
mkdir -p "$node_dir"
if [ -x "$node_dir/node_modules/.bin/wrangler" ] && [ -x "$node_dir/node_modules/binaryen/bin/wasm-opt" ] && [ -x "$node_dir/node_modules/.bin/esbuild" ]; then
  say "found wrangler $(cd "$node_dir" && node -p 'require("wrangler/package.json").version'), binaryen, esbuild"
else
  say "installing wrangler@4.86, binaryen@132, esbuild from npm"
  (cd "$node_dir" && [ -f package.json ] || echo '{"private":true}' > "$node_dir/package.json")
  (cd "$node_dir" && npm install --silent --no-audit --no-fund wrangler@4.86 binaryen@132.0.0 esbuild >/dev/null)
  say "installed wrangler $(cd "$node_dir" && node -p 'require("wrangler/package.json").version')"
fi
