#!/usr/bin/env bash
# Builds the Worker (functions/worker -> functions/worker/build/index.js + index_bg.wasm) with
# worker-build, using the locally installed wasm-bindgen, wasm-opt and esbuild so nothing is
# downloaded (scripts/setup-worker.sh installs them). wrangler.toml's [build] command runs this.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
locked() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock"; }

"$root/scripts/setup-worker.sh" >&2
bindgen_version="$(locked wasm-bindgen)"
export WASM_BINDGEN_BIN="$tools/wasm-bindgen-cli-$bindgen_version/bin/wasm-bindgen"
export WASM_OPT_BIN="$tools/node/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$tools/node/node_modules/.bin/esbuild"
# The workspace release profile is tuned for the Lambda (hot path at opt-level 3, strip). For
# wasm: size first everywhere, and no `strip` (it removes the target_features section
# wasm-bindgen reads; wasm-opt strips instead).
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z
export CARGO_PROFILE_RELEASE_STRIP=false
size_first=()
for package in '"*"' presign-core sha2 hmac; do
  size_first+=(--config "profile.release.package.$package.opt-level=\"z\"")
done
cd "$root/functions/worker"
exec "$tools/worker-build-$(locked worker)/bin/worker-build" --release "${size_first[@]}"
