# Shared by install-agent.sh and install-cloud.sh, which source it first (it is not run on
# its own): the options both take, with their defaults, and the steps both begin with.

INSTALLER=$(basename "$0" .sh)
ROOT=/
BINARY=
MAN_DIR=
UNINSTALL=0
PURGE=0

fail() { echo "$INSTALLER: $*" >&2; exit 1; }
say() { echo "$INSTALLER: $*"; }

# Takes an option both installers know (--root, --binary, --enroll, --ca-dir, --man,
# --uninstall, --purge; -h and --help print the script's header comment) and sets TAKEN to
# the number of arguments it used: 0 when $1 is not one of them.
common_option() {
    TAKEN=2
    case "$1" in
        --root) ROOT="$2" ;;
        --binary) BINARY="$2" ;;
        --enroll) ENROLL="$2" ;;
        --ca-dir) CA_DIR="$2" ;;
        --man) MAN_DIR="$2" ;;
        --uninstall) UNINSTALL=1; TAKEN=1 ;;
        --purge) PURGE=1; TAKEN=1 ;;
        -h|--help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
        *) TAKEN=0 ;;
    esac
}

# Refuses to run but as root (saying why), then makes ROOT absolute without its trailing
# slash (empty for /) and sets P, the prefix of every path written, and USE_SYSTEMD (1 when
# installing into / of a host that runs systemd).
prepare_root() {
    [ "$(id -u)" -eq 0 ] || fail "$1"
    if [ "$ROOT" != / ]; then mkdir -p "$ROOT"; ROOT=$(cd "$ROOT" && pwd -P); fi
    ROOT="${ROOT%/}"
    P="$ROOT"
    USE_SYSTEMD=0
    if [ -z "$ROOT" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then USE_SYSTEMD=1; fi
}

# Creates the users of the sysusers.d file given (its path on the target): in a --root tree
# (its passwd, group, shadow and gshadow made first if missing), else on this host.
create_system_users() {
    if [ -n "$ROOT" ]; then
        for f in passwd group; do [ -f "$P/etc/$f" ] || : > "$P/etc/$f"; done
        for f in shadow gshadow; do [ -f "$P/etc/$f" ] || ( umask 077; : > "$P/etc/$f" ); done
        systemd-sysusers --root="$P" "$P$1"
    else
        systemd-sysusers "$1"
    fi
}
