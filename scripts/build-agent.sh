#!/usr/bin/env bash
# Builds the edge agent as shipped: release, with the Swift runtime and FoundationEssentials
# linked statically (`--static-swift-stdlib`), so the box needs no Swift runtime and the agent
# keeps only the pages it uses resident (docs/agent.md, "Memory"). Prints the binary's path.
#   scripts/build-agent.sh            # SCRATCH=.build-static to choose the build folder
#   BUILD_FLAGS="-Xswiftc -enable-testing" scripts/build-agent.sh   # reuse a test build's objects
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${SCRATCH:-.build-static}"
read -r -a EXTRA <<< "${BUILD_FLAGS:-}"
FLAGS=(-c release --static-swift-stdlib --scratch-path "$SCRATCH" "${EXTRA[@]}")
swift build "${FLAGS[@]}" --product agritrace-agent >&2
BIN="$(swift build "${FLAGS[@]}" --show-bin-path)/agritrace-agent"
if readelf -d "$BIN" | grep -E 'NEEDED.*lib(swift|Foundation|_Foundation)' >&2; then
  echo "build-agent: $BIN still links the Swift runtime dynamically (above)" >&2
  exit 1
fi
echo "$BIN"
