#!/usr/bin/env bash
# The demo of the whole system on one machine, over mutual TLS:
#   a CA and an mTLS mosquitto with per-device ACLs (Provisioning/demo-deployment.sh),
#   the aggregator (agritrace serve) with its authority key,
#   three edge agents (farm, warehouse, truck) fed with example and simulated readings,
#   then the CLI over the HTTPS API (mutual TLS with a firm's certificate): status, a trace of one
#   lot across all six stages, a proof checked offline,
#   a full verification of the chain, and the agents' outboxes emptied by signed receipts;
#   at the end the API's server certificate is revoked and the CLI (--tls-crl) refuses the server.
# Everything lives in ./demo-data (removed at the start of each run); processes stop at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
./scripts/install-deps.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "Building (release; the same build flags as scripts/test.sh, so one build serves both)"
BUILD_FLAGS=(-c release -Xswiftc -enable-testing)
# AGRITRACE_SCRATCH: build in another folder than .build (e.g. one per worktree).
[ -n "${AGRITRACE_SCRATCH:-}" ] && BUILD_FLAGS+=(--scratch-path "$AGRITRACE_SCRATCH")
swift build "${BUILD_FLAGS[@]}" --product agritrace 2>&1 | tail -1
swift build "${BUILD_FLAGS[@]}" --product agritrace-agent 2>&1 | tail -1
BIN="$(swift build "${BUILD_FLAGS[@]}" --show-bin-path)"
export PATH="$BIN:$PATH"
export AGRITRACE_ENROLL="agritrace enroll"

DEMO="$PWD/demo-data"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -f "$DEMO/broker/mosquitto.pid" ] && kill "$(cat "$DEMO/broker/mosquitto.pid")" 2>/dev/null || true
}
trap cleanup EXIT
[ -f "$DEMO/broker/mosquitto.pid" ] && kill "$(cat "$DEMO/broker/mosquitto.pid")" 2>/dev/null || true
rm -rf "$DEMO"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
API_PORT=$(free_port)

say "Provisioning: CA, three boxes, the aggregator, two firms, a regulator; mTLS broker with per-device ACLs"
Provisioning/demo-deployment.sh "$DEMO" --port "$PORT" --start

CLOUD="$DEMO/cloud/aggregator"
STORE="$CLOUD/ledger.sqlite"
say "Aggregator: authority key, then agritrace serve (MQTT over mTLS, blocks every 100 ms, HTTPS API with client certificates)"
agritrace keygen --output "$CLOUD/authority.key"
AUTHORITY=$(cat "$CLOUD/authority.key.pub")
agritrace serve --store "$STORE" --authority-key "$CLOUD/authority.key" \
    --broker-host 127.0.0.1 --broker-port "$PORT" --client-id aggregator \
    --tls-ca "$CLOUD/ca.crt" --tls-cert "$CLOUD/tls.crt" --tls-key "$CLOUD/tls.key" \
    --http-port "$API_PORT" --api-cert "$CLOUD/api.crt" --api-key "$CLOUD/api.key" --api-client-ca "$CLOUD/ca.crt" \
    --api-client-crl "$DEMO/ca/crl.pem" \
    > "$CLOUD/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -f "$STORE" ] && break; sleep 0.1; done

# box id, enterprise, stage, example lines (1-based), simulated stage
BOXES=(
    "farm-box-01 FARM1 planting 1,2 planting"
    "warehouse-box-01 WARE1 warehousing 3,4 warehousing"
    "truck-01 LOGI1 transport 5,6 transport"
)
say "The farmer firm's transfer key (X25519): the farm box wraps the data keys of its sealed private values to it"
agritrace transfer keygen --output "$DEMO/firms/farmer/transfer.key"

say "Edge agents: register each box's enrollment (signing key) on the ledger, then run it on example + simulated readings"
for spec in "${BOXES[@]}"; do
    read -r id enterprise stage examples simulated <<<"$spec"
    home="$DEMO/boxes/$id"
    cat > "$home/agent.toml" <<TOML
[device]
enterprise = "$enterprise"
id = "$id"
stage = "$stage"
enrolled_at = "2026-01-01T00:00:00Z"
key_file = "device.key"

[broker]
host = "127.0.0.1"
port = $PORT
ca_file = "ca.crt"
certificate_file = "tls.crt"
key_file = "tls.key"

[authority]
public_key = "$AUTHORITY"

[inputs]
files = ["readings.jsonl"]

[storage]
path = "agent.sqlite"

[operations]
metrics_port = 0
TOML
    if [ "$id" = farm-box-01 ]; then
        # The farm box uploads each record's sealed level-2 / level-1 values (docs/transfer.md).
        printf '\n[sharing]\nowner_key = "%s"\n' "$(cat "$DEMO/firms/farmer/transfer.key.pub")" >> "$home/agent.toml"
    fi
    # The box's signing key was made on the box at enrollment (agritrace-agent init); its
    # enrollment record carries the public key, and goes on the ledger as a registry transaction.
    # --any-stage: each demo box also carries a neighbouring stage of the example chain, and a
    # device registered with a stage may only send records of that stage (rejection wrong-stage).
    agritrace-agent init --config "$home/agent.toml" > /dev/null
    agritrace devices add --enrollment "$home/enrollment.json" --any-stage \
        --authority-key "$CLOUD/authority.key" --store "$STORE" --wait 20
    sed -n "${examples%,*}p;${examples#*,}p" examples/readings.jsonl > "$home/readings.jsonl"
    agritrace-agent simulate --stage "$simulated" --rate 0 --lots 20 --count 2000 --seed 42 >> "$home/readings.jsonl"
    agritrace-agent run --config "$home/agent.toml" > "$home/agent.log" 2>&1 &
    PIDS+=($!)
done
# One bad line: it is rejected with the field, stage and fix, and the agent goes on.
echo '{"stage":"planting","lot":"PL-BAD","product":"fresh corn","time":"2026-07-28T08:00:00Z","fields":{"cost_prise":12}}' \
    >> "$DEMO/boxes/farm-box-01/readings.jsonl"

say "Waiting until every reading is receipted by the aggregator"
for _ in $(seq 600); do
    done_boxes=0
    for spec in "${BOXES[@]}"; do
        read -r id _ <<<"$spec"
        depth=$(agritrace-agent status --config "$DEMO/boxes/$id/agent.toml" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["outboxDepth"])')
        [ "$depth" = 0 ] && done_boxes=$((done_boxes + 1))
    done
    [ "$done_boxes" = "${#BOXES[@]}" ] && break
    sleep 0.2
done
for spec in "${BOXES[@]}"; do
    read -r id _ <<<"$spec"
    echo "-- $id"; agritrace-agent status --config "$DEMO/boxes/$id/agent.toml"
done

say "The farm box's rejected line"
agritrace-agent rejects --config "$DEMO/boxes/farm-box-01/agent.toml"

# The firm alice reads the ledger over the HTTPS API: the server's certificate is checked
# against the deployment CA and its revocation list (on one machine every party reads the
# CA's crl.pem; elsewhere a copy refreshed from the CA host, docs/provisioning.md), and alice
# presents her enrolled client certificate (mutual TLS).
CRL="$DEMO/ca/crl.pem"
API=(--api "https://127.0.0.1:$API_PORT" --tls-ca "$DEMO/firms/alice/ca.crt" --tls-crl "$CRL"
    --tls-cert "$DEMO/firms/alice/tls.crt" --tls-key "$DEMO/firms/alice/tls.key")
say "Ledger status, as the firm alice over the HTTPS API (mutual TLS)"
agritrace status "${API[@]}"

say "Trace the supermarket lot SA-2026-5521 back to its seed lot over HTTPS (all six stages, public fields only)"
agritrace trace SA-2026-5521 --backward "${API[@]}"

say "Without a client certificate the API refuses the connection"
if agritrace status --api "https://127.0.0.1:$API_PORT" --tls-ca "$DEMO/firms/alice/ca.crt" --tls-crl "$CRL" 2>&1; then
    echo "the API answered a client without a certificate" >&2; exit 1
fi

say "Proof: the planting record's inclusion proof, checked offline against a saved signed tree head"
RECORD=$(agritrace trace PL-2026-0417 "${API[@]}" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["recordID"])')
agritrace tree-head "${API[@]}" --output "$DEMO/tree-head.json"
SIZE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["logSize"])' "$DEMO/tree-head.json")
agritrace proof "$RECORD" --tree-size "$SIZE" "${API[@]}" --output "$DEMO/proof.json"
agritrace verify-proof "$DEMO/proof.json" --authority "$AUTHORITY" --tree-head "$DEMO/tree-head.json"

say "Verify the whole chain and log from the store"
agritrace verify --store "$STORE"

say "No private value in the clear on the aggregator"
if grep -a -q "Li Wei" "$STORE" "$STORE-wal" 2>/dev/null; then echo "FOUND a private value in the ledger store" >&2; exit 1; fi
echo "searched $STORE for the farm's personnel record: not there (only salted commitments)"

say "Access control: the firms and the regulator enrolled on the ledger (principal registry)"
for principal in firms/farmer firms/alice firms/bob regulators/inspector; do
    agritrace principals add --enrollment "$DEMO/$principal/enrollment.json" \
        --authority-key "$CLOUD/authority.key" --store "$STORE" --wait 20
done
agritrace principals list --store "$STORE"

# From here on each party works from its own folder through the HTTPS API with its enrolled
# client certificate (mutual TLS), and signs its transactions with its own key.
over_api() { # folder
    echo --api "https://127.0.0.1:$API_PORT" --tls-ca "$1/ca.crt" --tls-crl "$CRL" --tls-cert "$1/tls.crt" --tls-key "$1/tls.key"
}
REG="Regulator/inspector@FOODAGENCY"
RDIR="$DEMO/regulators/inspector"
read -r -a REG_API <<<"$(over_api "$RDIR")"
AS_REGULATOR=(--as "$REG" --key "$RDIR/signing.key" "${REG_API[@]}")
say "Regulator: ABSE and CP-ABE setup (public parameters and punishment rules on the ledger), attributes for two firms"
agritrace regulator setup --secrets "$RDIR/regulator.secrets" "${AS_REGULATOR[@]}"
agritrace regulator attributes grant --principal "Firm/processing/bob@PROC1" --enterprise PROC1 \
    --role processing-administrator --stage processing --category fresh-corn --region Beijing \
    --output "$DEMO/firms/bob/attributes.keys" --secrets "$RDIR/regulator.secrets" "${AS_REGULATOR[@]}"
agritrace regulator attributes grant --principal "Firm/sales/alice@RETAIL1" --enterprise RETAIL1 \
    --role supermarket-administrator --stage sales --category fresh-corn --region Shanghai \
    --output "$DEMO/firms/alice/attributes.keys" --secrets "$RDIR/regulator.secrets" "${AS_REGULATOR[@]}"
agritrace regulator match --follow --secrets "$RDIR/regulator.secrets" "${AS_REGULATOR[@]}" > "$RDIR/matcher.log" 2>&1 &
PIDS+=($!)
echo "the regulator's matcher runs as a service (log: $RDIR/matcher.log)"

say "The farm protects lot PL-2026-0417's level-2 data under a hidden policy (processors in Beijing, read, a daily window)"
# A window around now (UTC), so the demo's requests fall inside it whenever it runs.
WINDOW=$(python3 -c 'import datetime as d; n=d.datetime.now(d.timezone.utc); f=lambda t: t.strftime("%H:%M"); print(f(n-d.timedelta(hours=1))+"-"+f(n+d.timedelta(hours=3))+" +00:00")')
cat > "$DEMO/firms/farmer/policy.txt" <<POLICY
policy processors-in-beijing
  subject.enterprise = PROC1
  subject.role       = processing-administrator
  subject.stage      = processing
  subject.category   = fresh-corn
  object.product     = fresh corn
  object.lot         = PL-2026-0417
  object.stage       = planting
  object.level       = level-2
  environment.source = Beijing
  environment.time   = $WINDOW
  action             = read
POLICY
agritrace policy create --lot PL-2026-0417 --level level-2 --file "$DEMO/firms/farmer/policy.txt" \
    --tokens "$DEMO/firms/farmer/owner-tokens.json" \
    --as "Firm/planting/farmer@FARM1" --key "$DEMO/firms/farmer/signing.key" $(over_api "$DEMO/firms/farmer")
agritrace policy list $(over_api "$DEMO/firms/farmer")

say "Bob (processing administrator, Beijing) requests the lot's level-2 data: granted"
agritrace request PL-2026-0417 --level level-2 --source 10.20.0.5 --keys "$DEMO/firms/bob/attributes.keys" \
    --token-out "$DEMO/firms/bob/PL-2026-0417.token" \
    --as "Firm/processing/bob@PROC1" --key "$DEMO/firms/bob/signing.key" $(over_api "$DEMO/firms/bob") | tee "$DEMO/firms/bob/request.txt"
BOB_REQUEST=$(awk '/^request /{print $2; exit}' "$DEMO/firms/bob/request.txt")

say "Transfer: the farm box's sealed values are in the aggregator's blob store (hashes on the ledger)"
FARM_DB="$DEMO/boxes/farm-box-01/agent.sqlite"
# The example lines are the farm box's first two records (PL-2026-0417's is one of them):
# wait until their uploads are acknowledged; the simulated records' uploads go on meanwhile.
python3 - "$FARM_DB" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10)
query = """SELECT count(*), sum(u.status = 'uploaded') FROM blob_uploads u
           JOIN receipted r ON r.record_id = u.record_id WHERE r.sequence <= 2 AND u.status != 'none'"""
for _ in range(600):
    try:
        total, uploaded = db.execute(query).fetchone()
        if total and total == uploaded:
            break
    except sqlite3.OperationalError:
        pass
    time.sleep(0.2)
else:
    sys.exit("the farm box's first uploads were not acknowledged in 2 minutes")
counts = dict(db.execute("SELECT status, count(*) FROM blob_uploads GROUP BY status").fetchall())
print("farm-box-01 uploads so far (pending ones are re-sent until acknowledged):", counts)
PY
echo "blob files under $STORE.blobs: $(find "$STORE.blobs" -type f | wc -l)"
if grep -r -a -q -e "Li Wei" -e "NPK 15-15-15" "$STORE.blobs" "$STORE" "$STORE-wal" 2>/dev/null; then
    echo "FOUND a private value in the clear at the aggregator" >&2; exit 1
fi
echo "searched the ledger store and the blob store for the lot's level-2 and level-1 values: not there"

say "The farmer's transfer service runs on the farmer's side, over the HTTPS API (re-wraps data keys for granted redemptions; its X25519 key never reaches the aggregator)"
# Every redemption is taken from leaves checked against tree heads signed by the authority key;
# the re-wrapped keys go back signed by the farmer (docs/transfer.md).
agritrace transfer serve --follow --owner-key "$DEMO/firms/farmer/transfer.key" \
    --tokens "$DEMO/firms/farmer/owner-tokens.json" \
    --as "Firm/planting/farmer@FARM1" --key "$DEMO/firms/farmer/signing.key" \
    --authority "$AUTHORITY" $(over_api "$DEMO/firms/farmer") \
    > "$DEMO/firms/farmer/transfer.log" 2>&1 &
PIDS+=($!)
echo "log: $DEMO/firms/farmer/transfer.log"

say "Bob fetches PL-2026-0417's level-2 data and verifies every value against the ledger"
# Through the HTTPS API (mTLS): every record is checked against a tree head signed by the authority key.
agritrace fetch "$BOB_REQUEST" --token "$DEMO/firms/bob/PL-2026-0417.token" --purpose "processing intake check" \
    --out "$DEMO/firms/bob/PL-2026-0417.level-2.json" --authority "$AUTHORITY" \
    --as "Firm/processing/bob@PROC1" --key "$DEMO/firms/bob/signing.key" $(over_api "$DEMO/firms/bob")
say "Bob shows one field only, with its disclosure proof checked against the commitment"
agritrace fetch "$BOB_REQUEST" --token "$DEMO/firms/bob/PL-2026-0417.token" --purpose "quantity check" \
    --fields planting.planted_quantity \
    --as "Firm/processing/bob@PROC1" --key "$DEMO/firms/bob/signing.key" --store "$STORE"

# After Bob's fetch: every party's CLI reaches the demo's API over loopback, so the API observes
# one address (127.0.0.1) for all of them, and Alice's strike blocks that address at every access
# step for 10 minutes (docs/governance.md).
say "Alice (supermarket, Shanghai) requests it: no match, refused, and the address the API saw and her principal get a strike (her --source is a label)"
if agritrace request PL-2026-0417 --level level-2 --source 10.30.0.9 --keys "$DEMO/firms/alice/attributes.keys" \
    --as "Firm/sales/alice@RETAIL1" --key "$DEMO/firms/alice/signing.key" $(over_api "$DEMO/firms/alice"); then
    echo "Alice was granted: the hidden policy was not enforced" >&2; exit 1
fi

say "Regulator's audit: match results and the blacklist, each row with a verified ledger proof"
agritrace audit matches "${REG_API[@]}"
agritrace audit blacklist "${REG_API[@]}"
say "Credit of institutions: each enterprise's behaviour on the ledger, min-max normalised (docs/governance.md)"
agritrace audit credit "${REG_API[@]}"

say "Provenance of PL-2026-0417: who received what, when, for what purpose"
agritrace provenance PL-2026-0417 --store "$STORE"
agritrace grants list --as "Firm/planting/farmer@FARM1" --store "$STORE"

say "The API's server certificate is revoked (say its key was stolen): clients checking the CA's list refuse the server"
API_SERIAL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$CLOUD/api-certificate.json")
agritrace enroll revoke --ca "$DEMO/ca" --serial "$API_SERIAL" --reason keyCompromise
if agritrace status "${API[@]}" 2>&1; then
    echo "the CLI trusted a revoked server certificate" >&2; exit 1
fi

say "Done. Everything is in $DEMO; the broker, the aggregator and the agents stop now."
