#!/usr/bin/env bash
# Generates the man pages and the shell completions of built AgriTrace binaries from their
# ArgumentParser command definitions: man pages with swift-argument-parser's own
# `generate-manual` tool (built offline from the package's checkout, one page per subcommand),
# completions with each binary's `--generate-completion-script bash|zsh|fish`.
#
#   scripts/build-man.sh --out DIR BINARY...
#
# Writes DIR/man/man1/<page>.1 and DIR/completions/{bash/NAME,zsh/_NAME,fish/NAME.fish}.
# SCRATCH (default .build) is the build folder whose checkouts/ holds swift-argument-parser.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"

OUT=
BINARIES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) BINARIES+=("$1"); shift ;;
  esac
done
[ -n "$OUT" ] && [ ${#BINARIES[@]} -gt 0 ] || { echo "build-man: usage: build-man.sh --out DIR BINARY..." >&2; exit 2; }
SCRATCH="${SCRATCH:-.build}"

# The generator: swift-argument-parser's tool, from the checkout this package resolved.
generator() {
  local parser="$SCRATCH/checkouts/swift-argument-parser"
  [ -f "$parser/Package.swift" ] || swift package --scratch-path "$SCRATCH" resolve >&2
  swift build -c release --package-path "$parser" --scratch-path "$SCRATCH/generate-manual" \
    --product generate-manual >&2
  echo "$(swift build -c release --package-path "$parser" --scratch-path "$SCRATCH/generate-manual" \
    --show-bin-path)/generate-manual"
}

GENERATE="$(generator)"
mkdir -p "$OUT/man/man1" "$OUT/completions/bash" "$OUT/completions/zsh" "$OUT/completions/fish"
# A fixed date (the commit's) keeps the pages the same from one build to the next.
DATE="$(git log -1 --format=%cs 2>/dev/null || date -u +%F)"
for binary in "${BINARIES[@]}"; do
  name="$(basename "$binary")"
  "$GENERATE" "$binary" --multi-page --date "$DATE" --section 1 \
    --authors "AgriTrace maintainers" --output-directory "$OUT/man/man1"
  "$binary" --generate-completion-script bash > "$OUT/completions/bash/$name"
  "$binary" --generate-completion-script zsh > "$OUT/completions/zsh/_$name"
  "$binary" --generate-completion-script fish > "$OUT/completions/fish/$name.fish"
done
echo "build-man: $(ls "$OUT/man/man1" | wc -l) man pages and $(( ${#BINARIES[@]} * 3 )) completion scripts in $OUT" >&2
