# Sourced by the bench-*.sh scripts that build one benchmark product and write a section of
# BENCHMARKS.md: strict mode, the repository root as working folder, the release build with
# testing enabled, the binary's path, the machine's CPU and the section's markers.
#   source "$(dirname "$0")/bench-build.sh"; build_bench bench-exports   # sets BIN and CPU
#   write_section exports <<EOB ... EOB   # the text between <!-- exports:begin/end -->
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"

# Builds the product (quietly) and sets BIN to its path and CPU to the machine's model name.
build_bench() {
    local flags=(-c release -Xswiftc -enable-testing)
    swift build "${flags[@]}" --product "$1" >/dev/null
    BIN="$(swift build "${flags[@]}" --show-bin-path)/$1"
    CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || echo unknown)"
}

# Writes stdin, between the markers of section $1, into BENCHMARKS.md (scripts/bench-section.py).
write_section() {
    { echo "<!-- $1:begin -->"; cat; echo "<!-- $1:end -->"; } | scripts/bench-section.py "$1"
}
