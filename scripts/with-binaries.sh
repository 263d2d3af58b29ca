#!/usr/bin/env bash
# Runs a command with the release binaries `agritrace` and `agritrace-agent` first on PATH:
# installs what is missing (scripts/install-deps.sh), builds them with scripts/test.sh's flags
# (one build serves both; AGRITRACE_SCRATCH: another build folder; AGRITRACE_SKIP_BUILD=1: use
# the last build as it is), then execs the command in the repository's folder.
#
#   scripts/with-binaries.sh COMMAND [ARGUMENT ...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh
BUILD_FLAGS=(-c release -Xswiftc -enable-testing)
[ -n "${AGRITRACE_SCRATCH:-}" ] && BUILD_FLAGS+=(--scratch-path "$AGRITRACE_SCRATCH")
if [ -z "${AGRITRACE_SKIP_BUILD:-}" ]; then
    swift build "${BUILD_FLAGS[@]}" --product agritrace 2>&1 | tail -1
    swift build "${BUILD_FLAGS[@]}" --product agritrace-agent 2>&1 | tail -1
fi
BIN="$(swift build "${BUILD_FLAGS[@]}" --show-bin-path)"
export PATH="$BIN:$PATH"
exec "$@"
