#!/usr/bin/env bash
# The sharing graph and the anomaly detectors (bench-graph): precision and recall per kind on a
# generated scenario (months of normal behaviour with injected anomalies, and the same without
# injections for the false-alarm rate), then the graph's queries and its incremental update per
# block on a ledger store with a million edges. Writes both into BENCHMARKS.md (graph section).
#   scripts/bench-graph.sh [--seed N] [--days N] [--per-role N] [--per-kind N] [--edges N] [--runs N]
source "$(dirname "$0")/bench-build.sh"
build_bench bench-graph
SCENARIO="$("$BIN" scenario "$@")"
QUERIES="$("$BIN" queries "$@")"
write_section graph <<EOB
## Sharing graph and anomaly detection (\`scripts/bench-graph.sh\`)

Command: \`scripts/bench-graph.sh $*\` (release build). Machine: $(nproc) cores, Debian 12, ${CPU}.
Date: $(date -u +%Y-%m-%dT%H:%MZ). Shared machine: other builds and a fuzzer may have been running.
Goals (issue 20): recall ≥ 0.9 at precision ≥ 0.8 per injected kind; few alarms without injections;
a lot's transitive spread p50 ≤ 10 ms on a store with 1M edges; the incremental update per block.

The scenario (\`bench-graph scenario\`, Benchmarks/Graph/Scenario*.swift) generates the detectors'
input as values (edges, records, sensor series), not a ledger store. An alarm counts as true when
it names the subject (principal, lot or device) of an injected anomaly within its span, whatever
its kind; an injection counts as detected when an alarm of its own kind is true for it.
$SCENARIO

### Graph queries on a store with a million edges (\`bench-graph queries\`)

The store's contract tables are filled with SQL (requests granted, transferred and read: four
edges each), not through the contracts; the loader reads them as it reads any store.

$QUERIES
EOB
printf '%s\n\n%s\n' "$SCENARIO" "$QUERIES"
