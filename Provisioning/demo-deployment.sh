#!/bin/sh
# A demo deployment, all over mutual TLS, into one directory (see docs/provisioning.md):
# a CA; three boxes (farm, warehouse, truck); the aggregator; two firms; one regulator;
# the mosquitto configuration with the per-device ACL.
#
#   Provisioning/demo-deployment.sh DIR [--port PORT] [--start]
#
# --start also starts mosquitto on 127.0.0.1:PORT (default 8883) and checks that the farm box
# can publish its records to the aggregator and the truck box cannot publish as the farm box.
# Enrollment runs $AGRITRACE_ENROLL (default: agritrace-enroll, then `agritrace enroll`).
# Box signing keys are made with $AGRITRACE_AGENT init (default: agritrace-agent) when available;
# firm and regulator signing keys with $AGRITRACE_CLI keygen (default: agritrace) when available.
set -eu

[ $# -ge 1 ] || { sed -n '2,12p' "$0"; exit 2; }
DIR="$1"; shift
PORT=8883
START=0
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT="$2"; shift 2 ;;
        --start) START=1; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

if [ -n "${AGRITRACE_ENROLL:-}" ]; then ENROLL="$AGRITRACE_ENROLL"
elif command -v agritrace-enroll >/dev/null 2>&1; then ENROLL=agritrace-enroll
else ENROLL="agritrace enroll"; fi
AGENT="${AGRITRACE_AGENT:-agritrace-agent}"
CLI="${AGRITRACE_CLI:-agritrace}"

[ -e "$DIR/ca/ca.crt" ] && { echo "$DIR already holds a deployment" >&2; exit 1; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
CA="$DIR/ca"

$ENROLL init --ca "$CA" --broker-name localhost --broker-name 127.0.0.1 \
    --broker-pid-file "$DIR/broker/mosquitto.pid" >/dev/null

# One principal: key and CSR made in its own directory (as on its own machine), then enrolled.
enroll() { # kind id enroll-options...
    kind="$1"; id="$2"; shift 2
    home="$DIR/$kind/$id"
    mkdir -p "$home"
    $ENROLL request --id "$id" --key "$home/tls.key" --out "$home/tls.csr" >/dev/null
    cp "$CA/ca.crt" "$home/ca.crt"
    signing=
    if [ "$kind" = boxes ] && command -v "$AGENT" >/dev/null 2>&1; then
        signing=$("$AGENT" init --key "$home/device.key" 2>/dev/null || true)
    fi
    if { [ "$kind" = firms ] || [ "$kind" = regulators ]; } && command -v "$CLI" >/dev/null 2>&1; then
        # Firms and regulators sign ledger transactions with their own Ed25519 key.
        "$CLI" keygen --output "$home/signing.key" >/dev/null && signing=$(cat "$home/signing.key.pub")
    fi
    if [ -n "$signing" ]; then set -- "$@" --signing-key "$signing"; fi
    $ENROLL "$@" --ca "$CA" --id "$id" --csr "$home/tls.csr" --out "$home/tls.crt" > "$home/enrollment.json"
}

enroll boxes farm-box-01      device --enterprise FARM1 --stage planting    --role planter
enroll boxes warehouse-box-01 device --enterprise WARE1 --stage warehousing --role storekeeper
enroll boxes truck-01         device --enterprise LOGI1 --stage transport   --role driver
enroll cloud aggregator       aggregator
enroll firms farmer           firm --enterprise FARM1   --role farm-administrator        --product-category fresh-corn
enroll firms alice            firm --enterprise RETAIL1 --role supermarket-administrator --product-category fresh-corn
enroll firms bob              firm --enterprise PROC1   --role processing-administrator  --product-category fresh-corn
enroll regulators inspector   regulator --agency FOODAGENCY

# The aggregator's HTTPS API: a server certificate (serverAuth; localhost, 127.0.0.1) from the same CA.
API="$DIR/cloud/aggregator"
$ENROLL request --id agritrace-api --key "$API/api.key" --out "$API/api.csr" >/dev/null
$ENROLL server --ca "$CA" --csr "$API/api.csr" --out "$API/api.crt" --name localhost --name 127.0.0.1 \
    > "$API/api-certificate.json"
rm -f "$API/api.csr"
API_SERIAL=$(sed -n 's/.*"serial" *: *"\([0-9A-F]*\)".*/\1/p' "$API/api-certificate.json")

mkdir -p "$DIR/broker"
USER_LINE=
[ "$(id -u)" -eq 0 ] && USER_LINE="--user root"   # a demo as root keeps files where they are
# shellcheck disable=SC2086
$ENROLL broker-config --ca "$CA" --out "$DIR/broker/mosquitto.conf" --port "$PORT" --bind 127.0.0.1 \
    --log-file "$DIR/broker/mosquitto.log" --pid-file "$DIR/broker/mosquitto.pid" $USER_LINE >/dev/null

cat <<EOF
AgriTrace demo deployment in $DIR
  CA certificate     $CA/ca.crt        (root key $CA/private/ca.key, 0600)
  registry           $CA/registry.json (records to submit to the ledger: */*/enrollment.json)
  broker config      $DIR/broker/mosquitto.conf  (TLS on 127.0.0.1:$PORT only)
  broker ACL         $CA/broker/acl
  revocation list    $CA/crl.pem
  boxes              $DIR/boxes/{farm-box-01,warehouse-box-01,truck-01}/{tls.key,tls.crt,ca.crt}
  aggregator         $DIR/cloud/aggregator/{tls.key,tls.crt,ca.crt}  (HTTPS API: api.crt, api.key; serial $API_SERIAL)
  firms              $DIR/firms/{farmer,alice,bob}/{tls.key,tls.crt,signing.key}
  regulator          $DIR/regulators/inspector/{tls.key,tls.crt,signing.key}

Start the broker:   mosquitto -c $DIR/broker/mosquitto.conf -d
Aggregator:         agritrace serve --broker-host 127.0.0.1 --broker-port $PORT --tls-ca $CA/ca.crt \\
                      --tls-cert $DIR/cloud/aggregator/tls.crt --tls-key $DIR/cloud/aggregator/tls.key
HTTPS API (mTLS):   add --http-port 8443 --api-cert $DIR/cloud/aggregator/api.crt --api-key $DIR/cloud/aggregator/api.key --api-client-ca $CA/ca.crt --api-client-crl $CA/crl.pem
                    agritrace status --api https://127.0.0.1:8443 --tls-ca $CA/ca.crt --tls-crl $CA/crl.pem \\
                      --tls-cert $DIR/firms/alice/tls.crt --tls-key $DIR/firms/alice/tls.key
Agent (farm box):   [broker] host = "127.0.0.1", port = $PORT, ca_file = "$DIR/boxes/farm-box-01/ca.crt",
                    certificate_file = "$DIR/boxes/farm-box-01/tls.crt", key_file = "$DIR/boxes/farm-box-01/tls.key"
Revoke a box:       $ENROLL revoke --ca $CA --id truck-01   (CRL + ACL rewritten, broker reloaded by SIGHUP)
                    or, broker and ledger at once: agritrace devices revoke --enterprise LOGI1 --device truck-01 --ca $CA --store …
Revoke the API:     $ENROLL revoke --ca $CA --serial $API_SERIAL --reason keyCompromise
                    (its certificate goes on $CA/crl.pem: clients with --tls-crl refuse the server from then on)
EOF

if [ "$START" -eq 1 ]; then
    mosquitto -c "$DIR/broker/mosquitto.conf" -d </dev/null >/dev/null 2>&1
    sleep 0.5
    B="-h 127.0.0.1 -p $PORT -V 5 -q 1"
    box() { echo "--cafile $DIR/boxes/$1/ca.crt --cert $DIR/boxes/$1/tls.crt --key $DIR/boxes/$1/tls.key"; }
    AGG="--cafile $CA/ca.crt --cert $DIR/cloud/aggregator/tls.crt --key $DIR/cloud/aggregator/tls.key"
    # shellcheck disable=SC2086
    timeout 5 mosquitto_sub $B $AGG -t 'agritrace/v1/+/+/records' -C 1 -v > "$DIR/broker/smoke.out" &
    SUB=$!
    sleep 0.5
    # Denied by the ACL (the subscriber, which stops after one message, must get "hello", not this).
    # shellcheck disable=SC2086
    mosquitto_pub $B $(box truck-01) -t agritrace/v1/FARM1/farm-box-01/records -m forged 2>/dev/null || true
    # shellcheck disable=SC2086
    mosquitto_pub $B $(box farm-box-01) -t agritrace/v1/FARM1/farm-box-01/records -m hello
    wait $SUB || true
    if grep -q 'farm-box-01/records hello' "$DIR/broker/smoke.out"; then
        echo "smoke check passed: broker on 127.0.0.1:$PORT (pid $(cat "$DIR/broker/mosquitto.pid")); the truck could not publish as the farm box"
    else
        echo "SMOKE FAIL: the aggregator did not receive the farm box's records" >&2; exit 1
    fi
fi
