# Shared by the install-*.sh scripts, which source it first (it is not run on
# its own): the options every installer takes, with their defaults, and the steps they begin with.

INSTALLER=$(basename "$0" .sh)
ROOT=/
BINARY=
MAN_DIR=
UNINSTALL=0
PURGE=0

fail() { echo "$INSTALLER: $*" >&2; exit 1; }
say() { echo "$INSTALLER: $*"; }

# The options every installer takes, in the form of parse_options' OPTIONS.
COMMON_OPTIONS="--root=ROOT --binary=BINARY --enroll=ENROLL --ca-dir=CA_DIR --man=MAN_DIR --uninstall=!UNINSTALL --purge=!PURGE"

# Parses the command line into variables: the options every installer takes and OPTIONS, the
# script's own, as space-separated `--option=VARIABLE` (the value is stored), `--option=+VARIABLE`
# (repeatable: each value appended after a space) or `--option=!VARIABLE` (a flag: set to 1).
# -h and --help print the script's header comment; anything else is refused, naming it.
parse_options() {
    while [ $# -gt 0 ]; do
        case "$1" in -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;; esac
        variable=
        for spec in $COMMON_OPTIONS $OPTIONS; do
            if [ "${spec%%=*}" = "$1" ]; then variable="${spec#*=}"; break; fi
        done
        case "$variable" in
            '') fail "unknown option $1 (see --help)" ;;
            '!'*) eval "${variable#!}=1"; shift; continue ;;
        esac
        [ $# -ge 2 ] || fail "$1 needs a value (see --help)"
        case "$variable" in
            '+'*) eval "${variable#+}=\"\${${variable#+}} \$2\"" ;;
            *) eval "$variable=\$2" ;;
        esac
        shift 2
    done
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
