#!/bin/sh
# Install one etcd member of an AgriTrace consortium's ordering cluster (Debian's etcd-server,
# 3.4): TLS with client certificates from the deployment CA on the client port, mutual TLS
# between members on the peer port, its own user, data directory and systemd unit
# (agritrace-etcd.service). Run it once on each member's host. See docs/consortium.md.
#
#   install-etcd-member.sh --name NAME --client-url URL --peer-url URL --initial-cluster LIST \
#       (--ca-dir DIR | --cert FILE --key FILE --ca-cert FILE) [options]
#   install-etcd-member.sh --uninstall [--purge] [--root DIR]
#
# Options:
#   --name NAME           this member's name (letters, digits, '.', '-', '_').
#   --client-url URL      the https:// URL nodes reach this member's client port at,
#                         e.g. https://10.0.0.1:2379.
#   --peer-url URL        the https:// URL the other members reach its peer port at,
#                         e.g. https://10.0.0.1:2380.
#   --initial-cluster L   every member as NAME=PEER-URL, comma-separated (the same on every host).
#   --cluster-state S     new (the first start of a new cluster, the default) or existing
#                         (a member added with `etcdctl member add`, or one replaced).
#   --cluster-token T     the cluster's token (default agritrace-consortium): members of
#                         another cluster with another token never join this one.
#   --bind ADDR           the address both ports listen on (default 0.0.0.0).
#   --ca-dir DIR          issue the member's certificate here, from the deployment CA (serverAuth
#                         and clientAuth, the URLs' hosts as names). Otherwise give the files:
#   --cert FILE --key FILE --ca-cert FILE   a certificate the CA issued elsewhere
#                         (`agritrace enroll server --client-auth`), its key and the CA's certificate.
#   --cert-name NAME      another DNS name or IP address for the certificate (repeatable).
#   --quota-bytes N       etcd's backend quota (default 2147483648, etcd's own default).
#   --root DIR            install into DIR instead of / (tests, CI, image staging): no systemctl.
#   --enroll COMMAND      how to run enrollment (default: "agritrace enroll", or $AGRITRACE_ENROLL).
#   --uninstall           stop and remove the unit; keep the data, TLS files and configuration.
#   --purge               with --uninstall: also remove the data directory, TLS files and configuration.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/install-common.sh"
ENROLL="${AGRITRACE_ENROLL:-agritrace enroll}"
CA_DIR=
NAME=
CLIENT_URL=
PEER_URL=
INITIAL_CLUSTER=
CLUSTER_STATE=new
CLUSTER_TOKEN=agritrace-consortium
BIND=0.0.0.0
CERT=
KEY=
CA_CERT=
CERT_NAMES=
QUOTA=2147483648

OPTIONS="--name=NAME --client-url=CLIENT_URL --peer-url=PEER_URL --initial-cluster=INITIAL_CLUSTER --cluster-state=CLUSTER_STATE --cluster-token=CLUSTER_TOKEN --bind=BIND --cert=CERT --key=KEY --ca-cert=CA_CERT --cert-name=+CERT_NAMES --quota-bytes=QUOTA"
parse_options "$@"

prepare_root "run as root"

CONFIG_DIR=/etc/agritrace
TLS_DIR=$CONFIG_DIR/etcd-tls
DATA_DIR=/var/lib/agritrace-etcd
ENV_FILE=$CONFIG_DIR/etcd.env
UNIT=agritrace-etcd.service

# ---------------------------------------------------------------- uninstall
if [ "$UNINSTALL" -eq 1 ]; then
    [ "$USE_SYSTEMD" -eq 0 ] || systemctl disable --now "$UNIT" 2>/dev/null || true
    rm -f "$P/etc/systemd/system/$UNIT"
    [ "$USE_SYSTEMD" -eq 0 ] || systemctl daemon-reload
    if [ "$PURGE" -eq 1 ]; then
        rm -rf "$P$DATA_DIR" "$P$TLS_DIR" "$P$ENV_FILE" "$P/usr/lib/sysusers.d/agritrace-etcd.conf"
        say "removed the unit, the member's data, TLS files and configuration"
    else
        say "removed the unit; kept $DATA_DIR (the member's data), $TLS_DIR and $ENV_FILE. --purge removes them"
    fi
    exit 0
fi

# ---------------------------------------------------------------- check what was given
[ -n "$NAME" ] || fail "--name is missing: this member's name, e.g. --name etcd-operator"
case "$NAME" in
    *[!A-Za-z0-9._-]*) fail "--name \"$NAME\" may only use letters, digits, '.', '-' and '_'" ;;
esac
# The host of an https:// URL ([v6] brackets removed), or a refusal naming the option.
url_host() {
    case "$2" in
        https://*:[0-9]*) ;;
        *) fail "$1 \"$2\" is not an https://HOST:PORT URL (members speak TLS only)" ;;
    esac
    host="${2#https://}"; host="${host%:*}"; host="${host#[}"; host="${host%]}"
    echo "$host"
}
[ -n "$CLIENT_URL" ] || fail "--client-url is missing, e.g. --client-url https://10.0.0.1:2379"
[ -n "$PEER_URL" ] || fail "--peer-url is missing, e.g. --peer-url https://10.0.0.1:2380"
CLIENT_HOST=$(url_host --client-url "$CLIENT_URL")
PEER_HOST=$(url_host --peer-url "$PEER_URL")
[ -n "$INITIAL_CLUSTER" ] || fail "--initial-cluster is missing: every member as NAME=PEER-URL, comma-separated"
case ",$INITIAL_CLUSTER," in
    *",$NAME=$PEER_URL,"*) ;;
    *) fail "--initial-cluster does not list this member as $NAME=$PEER_URL: list every member, this one too" ;;
esac
for member in $(echo "$INITIAL_CLUSTER" | tr ',' ' '); do
    url_host "--initial-cluster member ${member%%=*}" "${member#*=}" >/dev/null
done
case "$CLUSTER_STATE" in
    new | existing) ;;
    *) fail "--cluster-state \"$CLUSTER_STATE\" is neither new nor existing" ;;
esac
case "$QUOTA" in
    '' | *[!0-9]*) fail "--quota-bytes \"$QUOTA\" is not a number of bytes" ;;
esac
if [ -z "$CA_DIR" ] && { [ -z "$CERT" ] || [ -z "$KEY" ] || [ -z "$CA_CERT" ]; }; then
    fail "give --ca-dir (issue the member's certificate from the CA here) or all of --cert, --key and --ca-cert"
fi

# 1. The member's user.
mkdir -p "$P/usr/lib/sysusers.d" "$P/etc"
install -m 0644 "$HERE/systemd/agritrace-etcd.sysusers" "$P/usr/lib/sysusers.d/agritrace-etcd.conf"
create_system_users /usr/lib/sysusers.d/agritrace-etcd.conf
ETCD_GID=$(awk -F: '$1 == "agritrace-etcd" { print $3 }' "$P/etc/group")
ETCD_UID=$(awk -F: '$1 == "agritrace-etcd" { print $3 }' "$P/etc/passwd")
[ -n "$ETCD_UID" ] && [ -n "$ETCD_GID" ] || fail "could not create the user agritrace-etcd"

# 2. TLS: one certificate for both ports, serverAuth and clientAuth (the member dials its peers
# and its own JSON gateway dials it with it). The key is readable by the member only.
install -d -m 0750 -o 0 -g "$ETCD_GID" "$P$TLS_DIR"
if [ -n "$CA_DIR" ]; then
    [ -f "$CA_DIR/ca.crt" ] || fail "--ca-dir $CA_DIR holds no CA (ca.crt): make one with 'agritrace enroll init'"
    install -m 0644 "$CA_DIR/ca.crt" "$P$TLS_DIR/ca.crt"
    if [ ! -f "$P$TLS_DIR/member.crt" ]; then
        set --
        for name in $CLIENT_HOST $PEER_HOST $CERT_NAMES; do
            case " $* " in *" --name $name "*) ;; *) set -- "$@" --name "$name" ;; esac
        done
        # shellcheck disable=SC2086
        $ENROLL request --id "$NAME" --key "$P$TLS_DIR/member.key" --out "$P$TLS_DIR/member.csr" >/dev/null \
            || fail "could not make the member's key"
        # shellcheck disable=SC2086
        $ENROLL server --ca "$CA_DIR" --csr "$P$TLS_DIR/member.csr" --out "$P$TLS_DIR/member.crt" \
            --common-name "$NAME" --client-auth "$@" > "$P$CONFIG_DIR/etcd-certificate.json" \
            || fail "could not issue the member's certificate"
        rm -f "$P$TLS_DIR/member.csr"
        say "issued the member's certificate (serverAuth and clientAuth) from the CA in $CA_DIR"
    fi
else
    install -m 0644 "$CA_CERT" "$P$TLS_DIR/ca.crt"
    install -m 0644 "$CERT" "$P$TLS_DIR/member.crt"
    install -m 0600 "$KEY" "$P$TLS_DIR/member.key"
fi
chown 0:"$ETCD_GID" "$P$TLS_DIR/member.key"
chmod 0640 "$P$TLS_DIR/member.key"

# 3. The data directory and etcd's settings (ETCD_* variables, which etcd reads itself).
install -d -m 0700 -o "$ETCD_UID" -g "$ETCD_GID" "$P$DATA_DIR"
cat > "$P$ENV_FILE" <<EOF
# etcd member $NAME of an AgriTrace consortium (install-etcd-member.sh; docs/consortium.md).
ETCD_NAME=$NAME
ETCD_DATA_DIR=$DATA_DIR
ETCD_LISTEN_CLIENT_URLS=https://$BIND:${CLIENT_URL##*:}
ETCD_ADVERTISE_CLIENT_URLS=$CLIENT_URL
ETCD_LISTEN_PEER_URLS=https://$BIND:${PEER_URL##*:}
ETCD_INITIAL_ADVERTISE_PEER_URLS=$PEER_URL
ETCD_INITIAL_CLUSTER=$INITIAL_CLUSTER
ETCD_INITIAL_CLUSTER_STATE=$CLUSTER_STATE
ETCD_INITIAL_CLUSTER_TOKEN=$CLUSTER_TOKEN
ETCD_CERT_FILE=$TLS_DIR/member.crt
ETCD_KEY_FILE=$TLS_DIR/member.key
ETCD_TRUSTED_CA_FILE=$TLS_DIR/ca.crt
ETCD_CLIENT_CERT_AUTH=true
ETCD_PEER_CERT_FILE=$TLS_DIR/member.crt
ETCD_PEER_KEY_FILE=$TLS_DIR/member.key
ETCD_PEER_TRUSTED_CA_FILE=$TLS_DIR/ca.crt
ETCD_PEER_CLIENT_CERT_AUTH=true
ETCD_QUOTA_BACKEND_BYTES=$QUOTA
ETCD_AUTO_COMPACTION_MODE=revision
ETCD_AUTO_COMPACTION_RETENTION=10000
EOF
chmod 0644 "$P$ENV_FILE"

# 4. The unit. Debian's etcd-server package starts its own plain-HTTP member (etcd.service, on
# localhost:2379): this one replaces it on a consortium host.
install -D -m 0644 "$HERE/systemd/$UNIT" "$P/etc/systemd/system/$UNIT"
if [ "$USE_SYSTEMD" -eq 1 ]; then
    systemctl disable --now etcd.service 2>/dev/null || true
    systemctl daemon-reload
    systemctl enable --now "$UNIT"
    say "started $UNIT (member $NAME, clients at $CLIENT_URL, peers at $PEER_URL)"
else
    say "installed into ${ROOT:-/} without systemd"
fi
say "settings $ENV_FILE, TLS files $TLS_DIR, data $DATA_DIR"
say "nodes reach it with --etcd $CLIENT_URL and a client certificate from the same CA"
