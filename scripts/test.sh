#!/usr/bin/env bash
# Installs what is missing, builds in release mode and runs every test (unit, property,
# integration with real mosquitto brokers and real SQLite files, end to end).
# Release mode: the BLS12-381 field arithmetic is far too slow in debug builds.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build
