#!/bin/sh
# Install the AgriTrace cloud side: the certificate authority, mosquitto with one mutual-TLS
# listener and per-device ACLs, and the aggregator (`agritrace serve`, with its HTTPS API
# behind mutual TLS and the CA's revocation list). See docs/provisioning.md.
#
#   install-cloud.sh [--binary PATH] [--broker-name NAME]... [options]
#   install-cloud.sh --uninstall [--purge] [--root DIR]
#
# Options:
#   --root DIR          install into DIR instead of / (tests, CI, image staging): no systemctl.
#   --binary PATH       the `agritrace` executable to install (it must include `enroll`, or
#                       give --enroll).
#   --enroll COMMAND    how to run enrollment (default: "<installed agritrace> enroll", or
#                       $AGRITRACE_ENROLL).
#   --ca-dir DIR        the CA directory (default /var/lib/agritrace-ca); created if missing.
#   --broker-name NAME  a DNS name or IP clients use for the broker (repeatable; default
#                       localhost, 127.0.0.1).
#   --port PORT         the TLS port (default 8883); --bind ADDR (default 0.0.0.0).
#   --api-port PORT     the HTTPS API port (default 8443); --api-bind ADDR (default 0.0.0.0).
#   --api-name NAME     a DNS name or IP clients use for the API (repeatable; default the
#                       broker names).
#   --man DIR           also install the man pages scripts/build-man.sh wrote into DIR (the
#                       shell completions are always installed, made by the binary).
#   --uninstall         stop and remove binary and units; keep CA, ledger data and configuration.
#   --purge             with --uninstall: also remove the CA (root key!), ledger data and configuration.
#   --packaged          configure what the agritrace .deb installed (/usr/bin/agritrace, its
#                       units and user): the CA, broker configuration, TLS files, authority key.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/install-common.sh"
ENROLL="${AGRITRACE_ENROLL:-}"
CA_DIR=/var/lib/agritrace-ca
BROKER_NAMES=
PORT=8883
BIND=0.0.0.0
API_PORT=8443
API_BIND=0.0.0.0
API_NAMES=
PACKAGED=0

OPTIONS="--broker-name=+BROKER_NAMES --port=PORT --bind=BIND --api-port=API_PORT --api-bind=API_BIND --api-name=+API_NAMES --packaged=!PACKAGED"
parse_options "$@"

prepare_root "run as root"

BIN_PATH=/usr/local/bin/agritrace
[ "$PACKAGED" -eq 0 ] || BIN_PATH=/usr/bin/agritrace
CONFIG_DIR=/etc/agritrace
TLS_DIR=$CONFIG_DIR/tls
DATA_DIR=/var/lib/agritrace
BROKER_STATE=/var/lib/agritrace-mosquitto
PID_FILE=/run/agritrace-mosquitto/mosquitto.pid
UNITS="agritrace.service agritrace-mosquitto.service agritrace-crl.service agritrace-crl.timer"

# ---------------------------------------------------------------- uninstall
if [ "$UNINSTALL" -eq 1 ]; then
    if [ "$USE_SYSTEMD" -eq 1 ]; then
        for unit in $UNITS; do systemctl disable --now "$unit" 2>/dev/null || true; done
    fi
    rm -f "$P$BIN_PATH"
    sh "$HERE/install-docs.sh" --remove agritrace "$P"
    for unit in $UNITS; do rm -f "$P/etc/systemd/system/$unit"; done
    [ "$USE_SYSTEMD" -eq 1 ] && systemctl daemon-reload || true
    if [ "$PURGE" -eq 1 ]; then
        rm -rf "$P$CONFIG_DIR" "$P$DATA_DIR" "$P$BROKER_STATE" "$P$CA_DIR" "$P/usr/lib/sysusers.d/agritrace.conf"
        say "removed everything, including the certificate authority"
    else
        say "removed the binary and the units; kept $CA_DIR (CA), $DATA_DIR (ledger) and $CONFIG_DIR. --purge removes them"
    fi
    exit 0
fi

# ---------------------------------------------------------------- install
# 1. Users: agritrace (aggregator); mosquitto comes with the mosquitto package.
mkdir -p "$P/usr/lib/sysusers.d" "$P/etc"
[ "$PACKAGED" -eq 1 ] || install -m 0644 "$HERE/systemd/agritrace.sysusers" "$P/usr/lib/sysusers.d/agritrace.conf"
create_system_users /usr/lib/sysusers.d/agritrace.conf
if [ -n "$ROOT" ]; then
    grep -q '^mosquitto:' "$P/etc/passwd" || echo 'u mosquitto - "mosquitto" /var/lib/mosquitto /usr/sbin/nologin' \
        | systemd-sysusers --root="$P" -
else
    getent passwd mosquitto >/dev/null || fail "install the mosquitto package first (apt-get install mosquitto)"
fi
gid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$P/etc/group"; }
uid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$P/etc/passwd"; }
AGG_UID=$(uid_of agritrace); AGG_GID=$(gid_of agritrace); MOSQ_GID=$(gid_of mosquitto)
[ -n "$AGG_UID" ] && [ -n "$MOSQ_GID" ] || fail "could not create the users"

# 2. Binary and enrollment command.
if [ -n "$BINARY" ]; then
    [ -x "$BINARY" ] || fail "$BINARY is not an executable file"
    install -D -m 0755 "$BINARY" "$P$BIN_PATH"
fi
if [ "$PACKAGED" -eq 0 ] && [ -x "$P$BIN_PATH" ]; then
    sh "$HERE/install-docs.sh" "$P$BIN_PATH" agritrace "$P" "$MAN_DIR"
fi
[ -n "$ENROLL" ] || ENROLL="$P$BIN_PATH enroll"

# 3. The certificate authority (kept if it exists) and the broker's certificate.
install -d -m 0755 "$P$CONFIG_DIR"
if [ ! -f "$P$CA_DIR/ca.crt" ]; then
    set -- --ca "$P$CA_DIR" --broker-pid-file "$PID_FILE"
    for name in ${BROKER_NAMES:-localhost 127.0.0.1}; do set -- "$@" --broker-name "$name"; done
    # shellcheck disable=SC2086
    $ENROLL init "$@" >/dev/null
    say "created the certificate authority in $CA_DIR (root key: $CA_DIR/private/ca.key, 0600)"
fi
# mosquitto (user mosquitto) reads its key, the ACL and the CRL from the CA directory on every
# SIGHUP, so they are always current: broker/ is root:mosquitto 0750, the key 0640.
chgrp "$MOSQ_GID" "$P$CA_DIR/broker" "$P$CA_DIR/broker/server.key"
chmod 0750 "$P$CA_DIR/broker"
chmod 0640 "$P$CA_DIR/broker/server.key"

# 4. mosquitto configuration: TLS listener only, client certificates, CRL, ACL.
install -d -m 0700 -o "$(uid_of mosquitto)" -g "$MOSQ_GID" "$P$BROKER_STATE"
$ENROLL broker-config --ca "$P$CA_DIR" --out "$P$CONFIG_DIR/mosquitto.conf" --port "$PORT" --bind "$BIND" \
    --pid-file "$PID_FILE" --persistence "$BROKER_STATE" >/dev/null
if [ -n "$ROOT" ]; then
    # Paths inside the staged tree are the target's paths.
    sed -i "s|$P/|/|g" "$P$CONFIG_DIR/mosquitto.conf"
fi

# 5. The aggregator's MQTT identity: key made here, enrolled as "aggregator".
install -d -m 0750 -o 0 -g "$AGG_GID" "$P$TLS_DIR"
install -m 0644 "$P$CA_DIR/ca.crt" "$P$TLS_DIR/ca.crt"
if [ ! -f "$P$TLS_DIR/aggregator.crt" ]; then
    ( umask 077
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
          -keyout "$P$TLS_DIR/aggregator.key" -out "$P$TLS_DIR/aggregator.csr" -subj "/CN=aggregator" 2>/dev/null )
    $ENROLL aggregator --ca "$P$CA_DIR" --csr "$P$TLS_DIR/aggregator.csr" --out "$P$TLS_DIR/aggregator.crt" \
        > "$P$CONFIG_DIR/aggregator-enrollment.json"
fi
chown 0:"$AGG_GID" "$P$TLS_DIR/aggregator.key"
chmod 0640 "$P$TLS_DIR/aggregator.key"

# 5b. The HTTPS API's server certificate (serverAuth, the API names), signed by the CA here.
# Clients must present their enrolled certificates (--api-client-ca) and revoked ones are
# refused (--api-client-crl: the CA's crl.pem, renewed by agritrace-crl.timer).
if [ ! -f "$P$TLS_DIR/api.crt" ]; then
    NAME_ARGS=
    for name in ${API_NAMES:-${BROKER_NAMES:-localhost 127.0.0.1}}; do NAME_ARGS="$NAME_ARGS --name $name"; done
    $ENROLL request --id agritrace-api --key "$P$TLS_DIR/api.key" --out "$P$TLS_DIR/api.csr" >/dev/null \
        || fail "could not make the API key"
    # shellcheck disable=SC2086
    $ENROLL server --ca "$P$CA_DIR" --csr "$P$TLS_DIR/api.csr" --out "$P$TLS_DIR/api.crt" $NAME_ARGS \
        > "$P$CONFIG_DIR/api-certificate.json" || fail "could not issue the API certificate"
    rm -f "$P$TLS_DIR/api.csr"
    say "issued the HTTPS API certificate for ${API_NAMES:-${BROKER_NAMES:-localhost 127.0.0.1}}"
fi
chown 0:"$AGG_GID" "$P$TLS_DIR/api.key"
chmod 0640 "$P$TLS_DIR/api.key"

# 6. Ledger data directory and the aggregator's settings.
install -d -m 0700 -o "$AGG_UID" -g "$AGG_GID" "$P$DATA_DIR"
if [ -x "$P$BIN_PATH" ] && [ ! -f "$P$DATA_DIR/authority.key" ]; then
    if "$P$BIN_PATH" keygen --output "$P$DATA_DIR/authority.key" >/dev/null 2>&1; then
        chown "$AGG_UID:$AGG_GID" "$P$DATA_DIR/authority.key" "$P$DATA_DIR/authority.key.pub"
        say "made the authority key; its public key (for agents' --authority-key) is in $DATA_DIR/authority.key.pub"
    fi
fi
if [ ! -f "$P$CONFIG_DIR/aggregator.env" ]; then
    cat > "$P$CONFIG_DIR/aggregator.env" <<EOF
AGRITRACE_BROKER_HOST=127.0.0.1
AGRITRACE_BROKER_PORT=$PORT
AGRITRACE_CLIENT_ID=aggregator-$(hostname -s 2>/dev/null || echo 1)
AGRITRACE_API_HOST=$API_BIND
AGRITRACE_API_PORT=$API_PORT
AGRITRACE_CA_DIR=$CA_DIR
EOF
fi

# The settings a reload changes (the package ships its own as a conffile).
if [ "$PACKAGED" -eq 0 ] && [ ! -f "$P$CONFIG_DIR/settings.conf" ]; then
    install -m 0644 "$HERE/debian/agritrace/settings.conf" "$P$CONFIG_DIR/settings.conf"
fi

# Settings files from before the API was part of the unit get its settings appended.
grep -q '^AGRITRACE_API_PORT=' "$P$CONFIG_DIR/aggregator.env" || printf 'AGRITRACE_API_HOST=%s\nAGRITRACE_API_PORT=%s\nAGRITRACE_CA_DIR=%s\n' \
    "$API_BIND" "$API_PORT" "$CA_DIR" >> "$P$CONFIG_DIR/aggregator.env"

# 7. Units (the package has its own in /lib/systemd/system).
if [ "$PACKAGED" -eq 0 ]; then
    for unit in $UNITS; do install -D -m 0644 "$HERE/systemd/$unit" "$P/etc/systemd/system/$unit"; done
fi
if [ "$USE_SYSTEMD" -eq 1 ]; then
    systemctl daemon-reload
    systemctl enable --now agritrace-mosquitto.service agritrace-crl.timer
    [ -x "$BIN_PATH" ] && systemctl enable --now agritrace.service || true
    say "started agritrace-mosquitto (port $PORT) and agritrace (HTTPS API on port $API_PORT)"
else
    say "installed into ${ROOT:-/} without systemd"
fi
say "CA $CA_DIR, broker config $CONFIG_DIR/mosquitto.conf, ACL $CA_DIR/broker/acl, CRL $CA_DIR/crl.pem"
say "API clients:   --api https://NAME:$API_PORT --tls-ca ca.crt --tls-crl crl.pem (copy $CA_DIR/crl.pem to each client after every revocation and at least weekly: it expires after 30 days)"
say "revoke the API: $BIN_PATH enroll revoke --ca $CA_DIR --serial <serial in $CONFIG_DIR/api-certificate.json> --reason keyCompromise"
say "enroll a box:  $BIN_PATH enroll device --ca $CA_DIR --id ID --enterprise ENT --stage STAGE --csr FILE --out FILE"
