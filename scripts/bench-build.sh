# Sourced by the bench-*.sh scripts that build one benchmark product and write a section of
# BENCHMARKS.md: the release build with testing enabled, the binary's path and the machine's CPU.
#   source scripts/bench-build.sh; build_bench bench-exports   # sets BIN and CPU
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"

# Builds the product (quietly) and sets BIN to its path and CPU to the machine's model name.
build_bench() {
    local flags=(-c release -Xswiftc -enable-testing)
    swift build "${flags[@]}" --product "$1" >/dev/null
    BIN="$(swift build "${flags[@]}" --show-bin-path)/$1"
    CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || echo unknown)"
}
