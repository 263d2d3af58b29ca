#!/usr/bin/env bash
# Runs bench-aggregator in release with a real mosquitto and writes the figures into
# BENCHMARKS.md between <!-- aggregator:begin --> and <!-- aggregator:end --> (the rest of
# the file is left as it is). Extra arguments go to bench-aggregator, e.g.
#   scripts/bench-aggregator.sh --trace-records 2000000
set -euo pipefail
cd "$(dirname "$0")/.."
# SCRATCH_PATH and BENCH_BUILD_FLAGS (e.g. "-Xswiftc -enable-testing", the flags of
# scripts/test.sh) reuse an existing build folder instead of building another configuration.
scratch="${SCRATCH_PATH:-.build}"
# shellcheck disable=SC2086
swift build -c release ${BENCH_BUILD_FLAGS:-} --scratch-path "$scratch" --product bench-aggregator
bin="$scratch/release/bench-aggregator"
command -v mosquitto >/dev/null || PATH="$PATH:/usr/sbin"
table="$(mktemp)"
"$bin" "$@" >"$table"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
section="$(mktemp)"
{
  echo "<!-- aggregator:begin -->"
  echo "## Aggregator (ingest, ledger, trace, proofs)"
  echo
  echo "Command: \`scripts/bench-aggregator.sh $*\` (release build; mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') on loopback, in the loop)."
  echo "Machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr). Date: $(date -u +%Y-%m-%dT%H:%MZ). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the publisher, mosquitto and the aggregator share these cores, and so does anything else running)."
  echo
  cat "$table"
  echo
  echo "Receipt latency is measured at the device side: from publishing a batch to receiving the receipts of all its records, so it includes the block cut, the durable commit (synchronous=FULL), signing and the MQTT round trip."
  echo "<!-- aggregator:end -->"
} >"$section"
python3 scripts/bench-section.py aggregator "$section"
cat "$section"
rm -f "$table" "$section"
