#!/usr/bin/env bash
# Builds the Debian packages agritrace-agent_<version>_amd64.deb (the edge agent) and
# agritrace_<version>_amd64.deb (the aggregator and the CLI) with dpkg-deb: the binaries
# (release, the Swift runtime linked statically), the systemd units of Provisioning/systemd,
# the sysusers.d files, the default configuration as conffiles, the man pages and the bash,
# zsh and fish completions, and maintainer scripts that create the users and folders without
# starting anything unconfigured and clean up on purge (Provisioning/debian/).
#
#   scripts/build-debs.sh                      # OUT=DIR for another folder than dist/
#   BIN_DIR=.build/release scripts/build-debs.sh   # package binaries built already (a binary
#       linked to the Swift runtime dynamically gets the runtime's libraries in /usr/lib/<package>)
#   AGENT_BIN=FILE                            # this agritrace-agent instead (e.g. the static one)
#
# SCRATCH (default .build-static) is the static build's folder; BUILD_FLAGS adds build flags.
# Prints the paths of the two packages.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"

OUT="${OUT:-dist}"
case "${1:-}" in
  "") ;;
  -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "build-debs: no arguments (OUT=DIR chooses the output folder; see --help)" >&2; exit 2 ;;
esac
for tool in dpkg-deb dpkg-shlibdeps fakeroot; do
  command -v "$tool" >/dev/null || { echo "build-debs: $tool is missing (apt-get install dpkg-dev fakeroot)" >&2; exit 1; }
done
VERSION="$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Shared/BuildInfo/BuildInfo.swift)"
[ -n "$VERSION" ] || { echo "build-debs: no version in Shared/BuildInfo/BuildInfo.swift" >&2; exit 1; }
COMMIT="$(git describe --always --dirty 2>/dev/null || echo unknown)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

# The binaries: static Swift runtime, so the box needs only Debian's libraries.
binaries() {
  if [ -n "${BIN_DIR:-}" ]; then echo "$BIN_DIR"; return; fi
  read -r -a extra <<< "${BUILD_FLAGS:-}"
  local flags=(-c release --static-swift-stdlib --scratch-path "${SCRATCH:-.build-static}" "${extra[@]}")
  swift build "${flags[@]}" --product agritrace-agent >&2
  swift build "${flags[@]}" --product agritrace >&2
  swift build "${flags[@]}" --show-bin-path
}

# install_tree ROOT PACKAGE BINARY UNITS...: the files of one package under ROOT.
install_tree() {
  local root="$1" package="$2" binary="$3"
  shift 3
  install -D -m 0755 "$BIN/$binary" "$root/usr/bin/$binary"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$binary"
  bundle_runtime "$root" "$package" "$binary"
  for unit in "$@"; do
    # The units name /usr/local/bin (install scripts); a package's binaries are in /usr/bin.
    sed 's|/usr/local/bin/|/usr/bin/|g' "Provisioning/systemd/$unit" > "$WORK/$unit"
    install -D -m 0644 "$WORK/$unit" "$root/lib/systemd/system/$unit"
  done
  install -D -m 0644 "Provisioning/systemd/$package.sysusers" "$root/usr/lib/sysusers.d/$package.conf"
  for page in "$WORK/docs/man/man1/$binary".*1; do
    [ -f "$page" ] || continue
    install -D -m 0644 "$page" "$root/usr/share/man/man1/$(basename "$page")"
    gzip -9n "$root/usr/share/man/man1/$(basename "$page")"
  done
  # A completion script is sourced, not run: no #! line.
  sed '1{/^#!/d}' "$WORK/docs/completions/bash/$binary" > "$WORK/completion"
  install -D -m 0644 "$WORK/completion" "$root/usr/share/bash-completion/completions/$binary"
  install -D -m 0644 "$WORK/docs/completions/zsh/_$binary" "$root/usr/share/zsh/vendor-completions/_$binary"
  install -D -m 0644 "$WORK/docs/completions/fish/$binary.fish" \
    "$root/usr/share/fish/vendor_completions.d/$binary.fish"
  install -D -m 0644 Provisioning/debian/copyright "$root/usr/share/doc/$package/copyright"
  changelog "$package" > "$WORK/changelog"
  install -D -m 0644 "$WORK/changelog" "$root/usr/share/doc/$package/changelog"
  gzip -9n "$root/usr/share/doc/$package/changelog"
}

# bundle_runtime ROOT PACKAGE BINARY: a binary that links the Swift runtime dynamically (one
# from BIN_DIR, not the static build) gets the toolchain's libraries it loads in
# /usr/lib/PACKAGE, its private library folder, and its RUNPATH set there (patchelf).
bundle_runtime() {
  local root="$1" package="$2" binary="$3" toolchain library
  readelf -d "$root/usr/bin/$binary" | grep -q 'NEEDED.*libswiftCore' || return 0
  command -v patchelf >/dev/null || { echo "build-debs: patchelf is missing (apt-get install patchelf)" >&2; exit 1; }
  toolchain="$(cd "$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux" && pwd)"
  mkdir -p "$root/usr/lib/$package"
  for library in $(ldd "$BIN/$binary" | awk -v dir="$toolchain/" 'index($3, dir) == 1 { print $3 }'); do
    install -m 0644 "$(readlink -f "$library")" "$root/usr/lib/$package/$(basename "$library")"
    strip --strip-unneeded --remove-section=.comment "$root/usr/lib/$package/$(basename "$library")"
    patchelf --set-rpath "/usr/lib/$package" "$root/usr/lib/$package/$(basename "$library")"
  done
  patchelf --set-rpath "/usr/lib/$package" "$root/usr/bin/$binary"
}

# changelog PACKAGE: a native package's changelog entry for this build.
changelog() {
  printf '%s (%s) unstable; urgency=medium\n\n  * Built by scripts/build-debs.sh from commit %s.\n\n' "$1" "$VERSION" "$COMMIT"
  printf ' -- AgriTrace maintainers <maintainers@agritrace.example>  %s\n' \
    "$(date -R -u -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
}

# control ROOT PACKAGE BINARY SECTION SUMMARY DESCRIPTION EXTRA-DEPENDS: DEBIAN/control,
# conffiles, md5sums and the maintainer scripts.
control() {
  local root="$1" package="$2" binary="$3" section="$4" summary="$5" description="$6" extra="$7"
  mkdir -p "$WORK/shlibs/debian" "$root/DEBIAN"
  printf 'Source: agritrace\n\nPackage: %s\nArchitecture: amd64\n' "$package" > "$WORK/shlibs/debian/control"
  local depends
  depends="$(cd "$WORK/shlibs" && dpkg-shlibdeps -O -l"$root/usr/lib/$package" "$root/usr/bin/$binary" |
    sed -n 's/^shlibs:Depends=//p')"
  local size
  size="$(du -k -s --exclude=DEBIAN "$root" | cut -f1)"
  {
    printf 'Package: %s\nVersion: %s\nArchitecture: amd64\n' "$package" "$VERSION"
    printf 'Maintainer: AgriTrace maintainers <maintainers@agritrace.example>\nInstalled-Size: %s\n' "$size"
    printf 'Depends: %s, %s\nSection: %s\nPriority: optional\n' "$depends" "$extra" "$section"
    printf 'Homepage: https://github.com/agritrace/agritrace\nDescription: %s\n%s\n' "$summary" "$description"
  } > "$root/DEBIAN/control"
  (cd "$root" && find etc -type f | sed 's|^|/|' | sort) > "$root/DEBIAN/conffiles"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) \
    > "$root/DEBIAN/md5sums"
  for script in postinst prerm postrm; do
    install -m 0755 "Provisioning/debian/$package/$script" "$root/DEBIAN/$script"
  done
}

# build ROOT: the .deb, owned by root (dpkg-deb --root-owner-group).
build() {
  local root="$1"
  find "$root" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT" >&2
}

BIN="$(binaries)"
if [ -n "${AGENT_BIN:-}" ]; then
  # One folder for both: the agent given, the aggregator from BIN.
  mkdir -p "$WORK/bin"
  ln -s "$(readlink -f "$AGENT_BIN")" "$WORK/bin/agritrace-agent"
  ln -s "$(readlink -f "$BIN/agritrace")" "$WORK/bin/agritrace"
  BIN="$WORK/bin"
fi
for binary in agritrace agritrace-agent; do
  [ -x "$BIN/$binary" ] || { echo "build-debs: $BIN/$binary is missing" >&2; exit 1; }
done
SCRATCH="${MAN_SCRATCH:-.build}" scripts/build-man.sh --out "$WORK/docs" "$BIN/agritrace-agent" "$BIN/agritrace"

AGENT="$WORK/agritrace-agent"
install_tree "$AGENT" agritrace-agent agritrace-agent agritrace-agent.service
install -D -m 0644 Provisioning/debian/agritrace-agent/agent.toml "$AGENT/etc/agritrace-agent/agent.toml"
control "$AGENT" agritrace-agent agritrace-agent net "edge agent: signed, private-by-default traceability records over MQTT" \
  " The AgriTrace edge agent runs on farm, warehouse and truck boxes. It turns
 readings into records, commits to their private values with salted hashes,
 keeps the values encrypted on the box and publishes signed record batches
 over MQTT with mutual TLS until the aggregator's signed receipts arrive.
 Installed stopped: fill in /etc/agritrace-agent/agent.toml and the keys,
 then enable agritrace-agent.service." \
  "adduser, openssl"
build "$AGENT"

CLOUD="$WORK/agritrace"
install_tree "$CLOUD" agritrace agritrace \
  agritrace.service agritrace-mosquitto.service agritrace-crl.service agritrace-crl.timer
install -D -m 0644 Provisioning/debian/agritrace/aggregator.env "$CLOUD/etc/agritrace/aggregator.env"
install -D -m 0644 Provisioning/debian/agritrace/settings.conf "$CLOUD/etc/agritrace/settings.conf"
install -D -m 0755 Provisioning/install-cloud.sh "$CLOUD/usr/share/agritrace/install-cloud.sh"
install -D -m 0644 Provisioning/install-common.sh "$CLOUD/usr/share/agritrace/install-common.sh"
control "$CLOUD" agritrace agritrace net "verifiable traceability ledger for agri-food supply chains, server and CLI" \
  " The AgriTrace aggregator orders the edge agents' signed records into signed
 blocks over an RFC 9162 Merkle log, runs the access-control contracts, serves
 the HTTPS API and the web console, and is the CLI firms and regulators use to
 trace lots and verify the ledger. Installed stopped: make the certificate
 authority, the TLS files and the authority key (see
 /usr/share/agritrace/install-cloud.sh --packaged), then enable
 agritrace.service." \
  "adduser, openssl, mosquitto"
build "$CLOUD"

echo "$OUT/agritrace-agent_${VERSION}_amd64.deb"
echo "$OUT/agritrace_${VERSION}_amd64.deb"
