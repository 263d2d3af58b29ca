#!/bin/sh
# Install the AgriTrace edge agent on a box (see docs/provisioning.md).
#
#   install-agent.sh --binary PATH --device-id ID --enterprise ENT --stage STAGE [options]
#   install-agent.sh --uninstall [--purge] [--root DIR]
#
# Installs the binary, a dedicated system user (agritrace-agent), a configuration, a data
# directory (0700), a hardened systemd unit; makes the box's TLS key and certificate
# request locally (the key never leaves the box) and, given a CA, enrolls the box.
#
# Options:
#   --root DIR              install into DIR instead of / (tests, CI, image building): no
#                           systemctl calls, users created in DIR/etc/passwd.
#   --binary PATH           the agritrace-agent executable to install (build it with
#                           scripts/build-agent.sh: Swift runtime linked statically).
#   --device-id ID          the device id (certificate CN, MQTT username, topic level).
#   --enterprise ENT        the enterprise id.
#   --stage STAGE           breeding|planting|processing|warehousing|transport|sales.
#   --role ROLE             the ABAC role (default: the stage's first).
#   --broker-host HOST      the broker (default 127.0.0.1); --broker-port PORT (default 8883).
#   --authority-key HEX     the aggregator's Ed25519 authority public key (receipts).
#   --ca-dir DIR            enroll now from this CA directory (CA host = this host; demo, tests).
#   --enroll COMMAND        how to run enrollment with --ca-dir (default: "agritrace enroll",
#                           or $AGRITRACE_ENROLL).
#   --certificate FILE      install an already issued certificate for the key made earlier.
#   --ca-certificate FILE   the CA certificate (with --certificate).
#   --man DIR               also install the man pages scripts/build-man.sh wrote into DIR
#                           (the shell completions are always installed, made by the binary).
#   --uninstall             remove binary and unit; keep configuration, keys and data.
#   --purge                 with --uninstall: also remove configuration, keys, data and user.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/install-common.sh"
DEVICE_ID=
ENTERPRISE=
STAGE=
ROLE=
BROKER_HOST=127.0.0.1
BROKER_PORT=8883
AUTHORITY_KEY=
CA_DIR=
ENROLL="${AGRITRACE_ENROLL:-agritrace enroll}"
CERTIFICATE=
CA_CERTIFICATE=

OPTIONS="--device-id=DEVICE_ID --enterprise=ENTERPRISE --stage=STAGE --role=ROLE --broker-host=BROKER_HOST --broker-port=BROKER_PORT --authority-key=AUTHORITY_KEY --certificate=CERTIFICATE --ca-certificate=CA_CERTIFICATE"
parse_options "$@"

prepare_root "run as root (files are owned by root and by the agent's user)"

BIN_PATH=/usr/local/bin/agritrace-agent
CONFIG_DIR=/etc/agritrace-agent
TLS_DIR=$CONFIG_DIR/tls
DATA_DIR=/var/lib/agritrace-agent
UNIT_PATH=/etc/systemd/system/agritrace-agent.service
SYSUSERS_PATH=/usr/lib/sysusers.d/agritrace-agent.conf
USER_NAME=agritrace-agent

# ---------------------------------------------------------------- uninstall
if [ "$UNINSTALL" -eq 1 ]; then
    if [ "$USE_SYSTEMD" -eq 1 ]; then
        systemctl disable --now agritrace-agent.service 2>/dev/null || true
    fi
    rm -f "$P$BIN_PATH" "$P$UNIT_PATH"
    sh "$HERE/install-docs.sh" --remove agritrace-agent "$P"
    [ "$USE_SYSTEMD" -eq 1 ] && systemctl daemon-reload || true
    if [ "$PURGE" -eq 1 ]; then
        rm -rf "$P$CONFIG_DIR" "$P$DATA_DIR" "$P$SYSUSERS_PATH"
        if [ -z "$ROOT" ]; then
            userdel "$USER_NAME" 2>/dev/null || true
        elif [ -f "$P/etc/passwd" ]; then
            sed -i "/^$USER_NAME:/d" "$P/etc/passwd" "$P/etc/group" 2>/dev/null || true
            [ -f "$P/etc/shadow" ] && sed -i "/^$USER_NAME:/d" "$P/etc/shadow" || true
            [ -f "$P/etc/gshadow" ] && sed -i "/^$USER_NAME:/d" "$P/etc/gshadow" || true
        fi
        say "removed agritrace-agent, its configuration, keys and data"
    else
        say "removed the binary and the unit; kept $CONFIG_DIR (keys, certificate) and $DATA_DIR (data). --purge removes them"
    fi
    exit 0
fi

# ---------------------------------------------------------------- install
[ -n "$BINARY" ] || fail "--binary PATH is required"
[ -x "$BINARY" ] || fail "$BINARY is not an executable file"
if command -v readelf >/dev/null 2>&1 && readelf -d "$BINARY" 2>/dev/null | grep -q 'NEEDED.*libswiftCore'; then
    say "warning: $BINARY needs the Swift runtime's shared libraries; the shipped build is static (scripts/build-agent.sh)"
fi
[ -n "$DEVICE_ID" ] || fail "--device-id is required"
[ -n "$ENTERPRISE" ] || fail "--enterprise is required"
[ -n "$STAGE" ] || fail "--stage is required"
case "$DEVICE_ID$ENTERPRISE" in
    *[!A-Za-z0-9._-]*) fail "device id and enterprise may only use letters, digits, '.', '_' and '-'" ;;
esac
case "$STAGE" in
    breeding|planting|processing|warehousing|transport|sales) ;;
    *) fail "unknown stage $STAGE" ;;
esac

# 1. The system user (systemd-sysusers, also into a --root tree).
mkdir -p "$P/usr/lib/sysusers.d" "$P/etc"
install -m 0644 "$HERE/systemd/agritrace-agent.sysusers" "$P$SYSUSERS_PATH"
create_system_users "$SYSUSERS_PATH"
USER_UID=$(awk -F: -v u="$USER_NAME" '$1 == u { print $3 }' "$P/etc/passwd")
USER_GID=$(awk -F: -v u="$USER_NAME" '$1 == u { print $4 }' "$P/etc/passwd")
[ -n "$USER_UID" ] || fail "could not create the user $USER_NAME"

# 2. Binary, directories (data 0700 owned by the agent; configuration readable by it only).
install -D -m 0755 "$BINARY" "$P$BIN_PATH"
sh "$HERE/install-docs.sh" "$P$BIN_PATH" agritrace-agent "$P" "$MAN_DIR"
install -d -m 0755 "$P$CONFIG_DIR"
install -d -m 0750 -o 0 -g "$USER_GID" "$P$TLS_DIR"
install -d -m 0700 -o "$USER_UID" -g "$USER_GID" "$P$DATA_DIR"

# 3. The TLS key and certificate request, made here: the key never leaves the box.
if [ ! -f "$P$TLS_DIR/device.key" ]; then
    ( umask 077
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc \
          -keyout "$P$TLS_DIR/device.key" -out "$P$TLS_DIR/device.csr" -subj "/CN=$DEVICE_ID" 2>/dev/null )
    say "made the TLS key and $TLS_DIR/device.csr (send the CSR to the CA; the key stays here)"
fi
chown 0:"$USER_GID" "$P$TLS_DIR/device.key"
chmod 0640 "$P$TLS_DIR/device.key"
chmod 0644 "$P$TLS_DIR/device.csr"

# 4. The Ed25519 batch-signing key, made by the agent itself if it can (`init`).
SIGNING_KEY_HEX=
if [ ! -f "$P$DATA_DIR/device.key" ]; then
    if SIGNING_KEY_HEX=$("$P$BIN_PATH" init --key "$P$DATA_DIR/device.key" 2>/dev/null); then
        say "made the Ed25519 signing key $DATA_DIR/device.key"
    else
        SIGNING_KEY_HEX=
        say "note: '$BIN_PATH init' is not available; create the signing key with it later"
    fi
else
    SIGNING_KEY_HEX=$("$P$BIN_PATH" init --key "$P$DATA_DIR/device.key" 2>/dev/null || true)
fi
[ -f "$P$DATA_DIR/device.key" ] && chown "$USER_UID:$USER_GID" "$P$DATA_DIR/device.key" && chmod 0600 "$P$DATA_DIR/device.key"
[ -n "$SIGNING_KEY_HEX" ] && echo "$SIGNING_KEY_HEX" > "$P$CONFIG_DIR/signing-public-key.hex"

# 5. Enrollment: from a CA directory on this host, or an issued certificate.
if [ -n "$CA_DIR" ]; then
    set -- --ca "$CA_DIR" --csr "$P$TLS_DIR/device.csr" --out "$P$TLS_DIR/device.crt" \
        --id "$DEVICE_ID" --enterprise "$ENTERPRISE" --stage "$STAGE"
    [ -n "$ROLE" ] && set -- "$@" --role "$ROLE"
    [ -n "$SIGNING_KEY_HEX" ] && set -- "$@" --signing-key "$SIGNING_KEY_HEX"
    # shellcheck disable=SC2086
    $ENROLL device "$@" > "$P$CONFIG_DIR/enrollment.json"
    install -m 0644 "$CA_DIR/ca.crt" "$P$TLS_DIR/ca.crt"
    say "enrolled $DEVICE_ID; the registry record for the ledger is in $CONFIG_DIR/enrollment.json"
elif [ -n "$CERTIFICATE" ]; then
    [ -n "$CA_CERTIFICATE" ] || fail "--certificate needs --ca-certificate"
    install -m 0644 "$CERTIFICATE" "$P$TLS_DIR/device.crt"
    install -m 0644 "$CA_CERTIFICATE" "$P$TLS_DIR/ca.crt"
    say "installed the certificate"
else
    say "not enrolled yet: send $TLS_DIR/device.csr to the CA, then run again with --certificate and --ca-certificate"
fi

# 6. Configuration (kept if present: a re-install never overwrites the operator's edits).
if [ ! -f "$P$CONFIG_DIR/agent.toml" ]; then
    AUTHORITY_LINE="public_key = \"$AUTHORITY_KEY\""
    [ -n "$AUTHORITY_KEY" ] || AUTHORITY_LINE="# public_key = \"<64 hex digits: the aggregator's authority key>\"  (required)"
    cat > "$P$CONFIG_DIR/agent.toml" <<EOF
# AgriTrace edge agent configuration (written by install-agent.sh; reference: docs/agent.md).
[device]
id = "$DEVICE_ID"
enterprise = "$ENTERPRISE"
stage = "$STAGE"
enrolled_at = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
key_file = "$DATA_DIR/device.key"

[broker]
host = "$BROKER_HOST"
port = $BROKER_PORT
ca_file = "$TLS_DIR/ca.crt"
certificate_file = "$TLS_DIR/device.crt"
key_file = "$TLS_DIR/device.key"

[authority]
$AUTHORITY_LINE

[inputs]
socket = "/run/agritrace-agent/readings.sock"

[storage]
path = "$DATA_DIR/agent.sqlite"
EOF
fi
chown 0:"$USER_GID" "$P$CONFIG_DIR/agent.toml"
chmod 0640 "$P$CONFIG_DIR/agent.toml"

# 7. The hardened unit.
install -D -m 0644 "$HERE/systemd/agritrace-agent.service" "$P$UNIT_PATH"
if [ "$USE_SYSTEMD" -eq 1 ]; then
    systemctl daemon-reload
    if [ -f "$TLS_DIR/device.crt" ] && [ -n "$AUTHORITY_KEY" ]; then
        systemctl enable --now agritrace-agent.service
        say "started agritrace-agent.service"
    else
        systemctl enable agritrace-agent.service
        say "enabled agritrace-agent.service; start it once enrolled and configured"
    fi
else
    say "installed into ${ROOT:-/} without systemd (enable agritrace-agent.service in the image)"
fi
say "binary $BIN_PATH, configuration $CONFIG_DIR/agent.toml, data $DATA_DIR, unit $UNIT_PATH"
