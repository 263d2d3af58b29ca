#!/bin/sh
# Installs a binary's shell completions (made by the binary itself) and, given the folder
# scripts/build-man.sh wrote, its man pages. Called by install-agent.sh and install-cloud.sh.
#
#   install-docs.sh BINARY NAME ROOT [MAN_DIR]
#   install-docs.sh --remove NAME ROOT
set -eu
if [ "$1" = --remove ]; then
    NAME="$2"; P="$3"
    rm -f "$P/usr/local/share/man/man1/$NAME".*1 \
        "$P/usr/local/share/bash-completion/completions/$NAME" "$P/usr/local/share/zsh/site-functions/_$NAME" \
        "$P/usr/local/share/fish/vendor_completions.d/$NAME.fish"
    exit 0
fi
BINARY="$1"; NAME="$2"; P="$3"; MAN_DIR="${4:-}"
for shell in bash zsh fish; do
    case "$shell" in
        bash) target="$P/usr/local/share/bash-completion/completions/$NAME" ;;
        zsh) target="$P/usr/local/share/zsh/site-functions/_$NAME" ;;
        fish) target="$P/usr/local/share/fish/vendor_completions.d/$NAME.fish" ;;
    esac
    mkdir -p "$(dirname "$target")"
    "$BINARY" --generate-completion-script "$shell" > "$target.tmp" && mv "$target.tmp" "$target" \
        || { rm -f "$target.tmp"; echo "install-docs: $BINARY could not write its $shell completions" >&2; }
    chmod 0644 "$target" 2>/dev/null || true
done
if [ -n "$MAN_DIR" ]; then
    [ -d "$MAN_DIR/man/man1" ] || { echo "install-docs: $MAN_DIR/man/man1 is missing (scripts/build-man.sh --out $MAN_DIR BINARY)" >&2; exit 1; }
    mkdir -p "$P/usr/local/share/man/man1"
    for page in "$MAN_DIR/man/man1/$NAME".*1; do
        [ -f "$page" ] && install -m 0644 "$page" "$P/usr/local/share/man/man1/"
    done
fi
exit 0
