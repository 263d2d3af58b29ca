#!/usr/bin/env bash
# The consortium's ordering through etcd (bench-ordering, issue #16): three real etcd members on
# loopback; fenced appends per second and their latency from one task and from several, and
# the sequencer's failover time (the old one stops renewing its lease; the next one's first
# append). Writes the figures into BENCHMARKS.md (ordering section).
#   scripts/bench-ordering.sh [--seconds N] [--concurrency N] [--entry-bytes N] [--failovers N]
source "$(dirname "$0")/bench-build.sh"
build_bench bench-ordering
TABLE="$("$BIN" "$@")"
write_section ordering <<EOB
## Consortium ordering through etcd (\`scripts/bench-ordering.sh\`)

Command: \`scripts/bench-ordering.sh $*\` (release build). Machine: $(nproc) cores, Debian 12, ${CPU}.
Date: $(date -u +%Y-%m-%dT%H:%MZ). etcd $(etcd --version | head -1 | awk '{print $3}'), three members on
loopback (heartbeat 100 ms, election timeout 1 s), plain HTTP on loopback to the JSON gateway; every
append is one etcd transaction fenced on the sequencer's term (docs/consortium.md). Goals (issue 16):
failover ≤ 10 s; the ordered entries are batch digests, so the consortium needs far fewer appends
per second than records per second.

$TABLE
EOB
printf '%s\n' "$TABLE"
