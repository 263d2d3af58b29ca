#!/usr/bin/env bash
# Builds bench-access in release, runs it, and writes the table into BENCHMARKS.md between
# <!-- access:begin --> and <!-- access:end --> (markers created if missing; the rest kept, and the hand-written notes after
# <!-- access:notes --> inside the section too: scripts/bench-section.py).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${SCRATCH:-.build-abse}"
# SWIFT_BUILD_FLAGS lets a caller reuse an existing build (e.g. "-Xswiftc -enable-testing").
# shellcheck disable=SC2086
swift build --scratch-path "$SCRATCH" -c release ${SWIFT_BUILD_FLAGS:-} --product bench-access >/dev/null
CMD="$SCRATCH/release/bench-access $*"
TABLE="$($CMD)"
CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || echo unknown)"
BLOCK="$(cat <<EOB
<!-- access:begin -->
## Access cryptography (ABSE with hidden policy, FAME CP-ABE)

Command: \`SWIFT_BUILD_FLAGS="${SWIFT_BUILD_FLAGS:-}" scripts/bench-access.sh $*\` (release build; \`$CMD\`).
Machine: $(nproc) cores, ${CPU}. Date: $(date -u +%Y-%m-%dT%H:%MZ). Shared machine: other builds may have been running.
Targets at 8 attributes: encrypt ≤ 5 ms, trapdoor ≤ 20 ms, TEST ≤ 8 ms (published: 2.5 / 39.8 / 8.6 ms).

$TABLE
<!-- access:end -->
EOB
)"
printf '%s\n' "$BLOCK" | python3 scripts/bench-section.py access
echo "$TABLE"
