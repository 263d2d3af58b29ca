#!/usr/bin/env bash
# Exports on a real ledger store (bench-exports): EPCIS export of one six-stage lot, the FSMA 204
# spreadsheet of one month, the EPCIS query interface in process. Writes the table into
# BENCHMARKS.md (exports section).
#   scripts/bench-exports.sh [--records N] [--runs N]
source "$(dirname "$0")/bench-build.sh"
build_bench bench-exports
TABLE="$("$BIN" "$@")"
write_section exports <<EOB
## Exports: EPCIS 2.0, FSMA 204, the EPCIS query interface (\`scripts/bench-exports.sh\`)

Command: \`scripts/bench-exports.sh $*\` (release build; ledger store on disk, SQLite synchronous=NORMAL while building it, read-only while timing).
Machine: $(nproc) cores, Debian 12, ${CPU}. Date: $(date -u +%Y-%m-%dT%H:%MZ). Shared machine: other builds may have been running.
Goals (issue 17): EPCIS export of one six-stage lot ≤ 50 ms; the FSMA spreadsheet of one month of a 10M-record store ≤ 10 s; the query interface's p50/p99 at 10M records.

$TABLE
EOB
echo "$TABLE"
