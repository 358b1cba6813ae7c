#!/usr/bin/env bash
# Runs every cargo-fuzz target for [seconds] each (default 30) on the committed corpus in
# fuzz/corpus/<target> plus the readable seeds in fuzz/seeds/<target>, one after the other, and
# prints one line per target: executions, coverage (edges) and features. Any crash stops the
# script with the crashing input in fuzz/artifacts/<target>/ and a non-zero exit.
# Usage: scripts/fuzz.sh [seconds] [target...]      (targets: handler key jwt claims config lambda_event)
# Needs cargo-fuzz (scripts/setup.sh installs it) and a nightly compiler: rustup's nightly when
# it is there, else the stable compiler with RUSTC_BOOTSTRAP=1 (sanitizers need -Z flags).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PRESIGN_TOOLS:-$HOME/.cache/presign-tools}"
export PATH="$tools/cargo-fuzz/bin:$PATH"
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(handler key jwt claims config lambda_event)

toolchain=()
if rustup run nightly rustc --version >/dev/null 2>&1; then
  toolchain=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi

cd "$root/fuzz"
cargo "${toolchain[@]}" fuzz build -O >/dev/null
mkdir -p "$root/target/fuzz"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="$root/target/fuzz/$t.log"
  # -timeout: one input taking over 10 s is a finding (a request must never hang);
  # -rss_limit_mb: memory over 2 GiB is a finding too.
  if ! cargo "${toolchain[@]}" fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -dict=seeds/presign.dict >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $t FAILED after $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}') executions; input in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
  final=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$final")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$final")
  corpus=$(find "corpus/$t" -type f | wc -l)
  printf 'fuzz: %-13s %4ss  %10s executions  cov %5s  ft %6s  corpus %5s  no crash\n' "$t" "$seconds" "$execs" "$cov" "$ft" "$corpus"
done
