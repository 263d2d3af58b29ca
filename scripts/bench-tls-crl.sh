#!/usr/bin/env bash
# The cost of --tls-crl for one CLI call over the HTTPS API (mutual TLS): `agritrace status`
# run N times without and with the revocation check, alternating, for R rounds.
# Needs the deployment scripts/demo.sh leaves in ./demo-data (CA, firms, ledger store); a new
# API certificate is issued for the run (the demo revokes its own at the end).
#   scripts/bench-tls-crl.sh [N=40] [R=3]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
N="${1:-40}"
R="${2:-3}"
DEMO="$PWD/demo-data"
[ -f "$DEMO/ca/ca.crt" ] || { echo "run ./scripts/demo.sh first (it leaves ./demo-data)" >&2; exit 1; }
BUILD_FLAGS=(-c release -Xswiftc -enable-testing)
[ -n "${AGRITRACE_SCRATCH:-}" ] && BUILD_FLAGS+=(--scratch-path "$AGRITRACE_SCRATCH")
swift build "${BUILD_FLAGS[@]}" --product agritrace 2>&1 | tail -1
A="$(swift build "${BUILD_FLAGS[@]}" --show-bin-path)/agritrace"

WORK=$(mktemp -d)
API_PID=
cleanup() {
    [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
"$A" enroll request --id agritrace-api --key "$WORK/api.key" --out "$WORK/api.csr" >/dev/null
"$A" enroll server --ca "$DEMO/ca" --csr "$WORK/api.csr" --out "$WORK/api.crt" --name 127.0.0.1 >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$A" api --store "$DEMO/cloud/aggregator/ledger.sqlite" --http-port "$PORT" --api-cert "$WORK/api.crt" \
    --api-key "$WORK/api.key" --api-client-ca "$DEMO/ca/ca.crt" --api-client-crl "$DEMO/ca/crl.pem" \
    > "$WORK/api.log" 2>&1 &
API_PID=$!
F="$DEMO/firms/alice"
CLIENT=(status --api "https://127.0.0.1:$PORT" --tls-ca "$F/ca.crt" --tls-cert "$F/tls.crt" --tls-key "$F/tls.key")
for _ in $(seq 100); do "$A" "${CLIENT[@]}" >/dev/null 2>&1 && break; sleep 0.1; done
"$A" "${CLIENT[@]}" --tls-crl "$DEMO/ca/crl.pem" >/dev/null

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "per \`agritrace status --api\` call (process start, TLS handshake with mTLS, one GET), mean of $N:"
echo "CPU = user + system time of the CLI processes (steadier than wall time on a shared machine)"
measure() { # label, then the command
    python3 - "$N" "$@" <<'PY'
import os, subprocess, sys, time
n, label, command = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
before, start = os.times(), time.time()
for _ in range(n):
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
after, end = os.times(), time.time()
cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
print("%-28s CPU %5.1f ms   wall %5.1f ms" % (label, cpu / n * 1000, (end - start) / n * 1000))
PY
}
for round in $(seq "$R"); do
    measure "round $round without --tls-crl" "$A" "${CLIENT[@]}"
    measure "round $round with --tls-crl" "$A" "${CLIENT[@]}" --tls-crl "$DEMO/ca/crl.pem"
done
