#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders that take bytes from outside (RELIABILITY.md).
# Builds `fuzz-agritrace` with libFuzzer and AddressSanitizer in its own build folder, then
# runs each harness for SECONDS (default 60) from the seed corpus in Tests/Fuzz/Corpus plus the
# seeds the harness builds (signed inputs). New inputs go to .fuzz/<harness>/, crashes to
# .fuzz/<harness>/crash-*; the log of a run is .fuzz/<harness>.log. Replay a crash with
#   swift run -c release fuzz-agritrace <harness> FILE
# and, once fixed, copy it into Tests/Fuzz/Corpus/<harness>/ so the test suite keeps it fixed.
# Usage: scripts/fuzz.sh [SECONDS] [harness ...]   (default: every harness, one after another)
# Environment: FUZZ_RUNS=N stops a harness after N executions (libFuzzer -runs) if that comes
# first; FUZZ_NO_BUILD=1 uses the binary already built (to run harnesses in parallel), and
# FUZZ_BINARY=PATH a copy of it (so a rebuild does not replace it under a long run).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(readings wire config batch proof treehead api query)
flags=(-c release --product fuzz-agritrace --build-path .build-fuzz
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc AGRITRACE_LIBFUZZER)
[ "${FUZZ_NO_BUILD:-0}" = 1 ] || swift build "${flags[@]}"
binary="${FUZZ_BINARY:-$(swift build "${flags[@]}" --show-bin-path)/fuzz-agritrace}"
runs=()
[ -z "${FUZZ_RUNS:-}" ] || runs=(-runs="$FUZZ_RUNS")
for harness in "${harnesses[@]}"; do
  mkdir -p ".fuzz/$harness" ".fuzz/seeds/$harness"
  AGRITRACE_FUZZ_HARNESS="$harness" AGRITRACE_FUZZ_SEEDS_TO=".fuzz/seeds/$harness" "$binary"
  seeds=(".fuzz/seeds/$harness")
  [ ! -d "Tests/Fuzz/Corpus/$harness" ] || seeds+=("Tests/Fuzz/Corpus/$harness")
  echo "== $harness: $seconds s ${FUZZ_RUNS:+or $FUZZ_RUNS runs} ($(date -u +%FT%TZ))"
  AGRITRACE_FUZZ_HARNESS="$harness" "$binary" -max_total_time="$seconds" "${runs[@]}" -print_final_stats=1 \
    -artifact_prefix=".fuzz/$harness/" ".fuzz/$harness" "${seeds[@]}" >".fuzz/$harness.log" 2>&1 || true
  grep -E "^(stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)|==[0-9]+==|SUMMARY|Fatal|.*Fatal error)" \
    ".fuzz/$harness.log" || true
  echo "corpus: $(ls ".fuzz/$harness" | grep -vc '^crash-') inputs; crashes: $(ls ".fuzz/$harness" | grep -c '^crash-' || true)"
done
