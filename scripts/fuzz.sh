#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders that take bytes from outside (RELIABILITY.md).
# Builds `fuzz-agritrace` with libFuzzer and AddressSanitizer in its own build folder, then
# runs each harness for SECONDS (default 60) from the seed corpus in Tests/Fuzz/Corpus.
# New inputs go to .fuzz/<harness>/, crashes to .fuzz/<harness>/crash-*; replay one with
#   swift run fuzz-agritrace <harness> FILE
# and, once fixed, copy it into Tests/Fuzz/Corpus/<harness>/ so the test suite keeps it fixed.
# Usage: scripts/fuzz.sh [SECONDS] [readings|wire|config ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(readings wire config)
flags=(-c release --product fuzz-agritrace --build-path .build-fuzz
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc AGRITRACE_LIBFUZZER)
swift build "${flags[@]}"
binary="$(swift build "${flags[@]}" --show-bin-path)/fuzz-agritrace"
# The wire seeds are built by the plain (unsanitized) replay binary, not stored.
mkdir -p .fuzz/wire Tests/Fuzz/Corpus/wire
swift run -c release fuzz-agritrace --write-wire-seeds .fuzz/wire
for harness in "${harnesses[@]}"; do
  mkdir -p ".fuzz/$harness"
  echo "== $harness: $seconds s"
  AGRITRACE_FUZZ_HARNESS="$harness" "$binary" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=".fuzz/$harness/" ".fuzz/$harness" "Tests/Fuzz/Corpus/$harness" 2>&1 |
    tee ".fuzz/$harness.log" | grep -E "^(stat::|==[0-9]+==|SUMMARY|#[0-9]+ +DONE)" || true
done
