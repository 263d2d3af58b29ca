#!/usr/bin/env bash
# Checks the Debian packages on this Debian 12 machine, as root: builds them
# (scripts/build-debs.sh, or takes the two .deb files given), runs lintian (no errors
# allowed; warnings are listed), installs both with dpkg -i, runs `--version` of the installed
# binaries, checks the users, folders, conffiles, man pages and completions, runs
# `systemd-analyze verify` on the installed units, then removes (dpkg -r) and purges
# (dpkg -P) them and checks that nothing of theirs is left. Not part of CI: it installs
# system packages (lintian) and changes this machine's /usr, /etc and /var.
#
#   scripts/test-debs.sh [AGENT.deb AGGREGATOR.deb]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-debs: run as root (it installs the packages)" >&2; exit 1; }
for package in lintian systemd dpkg-dev fakeroot; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
done

FAILED=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILED=1; }
check() {
  local what="$1" output
  shift
  if output="$("$@" 2>&1)"; then pass "$what"; else fail "$what"; sed 's/^/    /' <<< "$output"; fi
}

if [ $# -eq 2 ]; then
  AGENT_DEB="$1"; CLOUD_DEB="$2"
else
  mapfile -t built < <(scripts/build-debs.sh)
  AGENT_DEB="${built[0]}"; CLOUD_DEB="${built[1]}"
fi
VERSION="$(dpkg-deb -f "$CLOUD_DEB" Version)"
echo "packages: $(basename "$AGENT_DEB") ($(du -h "$AGENT_DEB" | cut -f1)), $(basename "$CLOUD_DEB") ($(du -h "$CLOUD_DEB" | cut -f1))"

# Everything named agritrace outside the work folders: compared before and after.
ours() {
  find / -xdev \( -path /proc -o -path /sys -o -path /work -o -path /tmp -o -path /root -o -path /var/lib/dpkg \
    -o -path /var/cache -o -path /var/log \) -prune -o -name '*agritrace*' -print 2>/dev/null | sort
}
users_before="$( (getent passwd agritrace agritrace-agent || true) | cut -d: -f1 | tr '\n' ' ')"
ours > /tmp/test-debs.before

# 1. lintian: errors fail the check, warnings are listed.
for deb in "$AGENT_DEB" "$CLOUD_DEB"; do
  report="$(lintian --info --no-tag-display-limit "$deb" 2>&1 || true)"
  errors="$(grep -c '^E:' <<< "$report" || true)"
  warnings="$(grep -c '^W:' <<< "$report" || true)"
  echo "lintian $(basename "$deb"): $errors errors, $warnings warnings"
  grep -E '^(E|W):' <<< "$report" | sed 's/^/    /' | sort -u || true
  [ "$errors" -eq 0 ] && pass "lintian: no errors in $(basename "$deb")" || fail "lintian errors in $(basename "$deb")"
done

# 2. Install.
check "dpkg -i both packages" dpkg -i "$AGENT_DEB" "$CLOUD_DEB"
for binary in agritrace agritrace-agent; do
  printed="$("/usr/bin/$binary" --version 2>&1 || true)"
  echo "/usr/bin/$binary --version: $printed"
  [[ "$printed" == "$VERSION (commit "* ]] && pass "$binary --version from the installed file" || fail "$binary --version"
done
check "the agritrace user (system)" test "$(id -u agritrace)" -lt 1000
check "the agritrace-agent user (system)" test "$(id -u agritrace-agent)" -lt 1000
check "/var/lib/agritrace 0700 agritrace" test "$(stat -c '%a %U' /var/lib/agritrace)" = "700 agritrace"
check "/var/lib/agritrace-agent 0700" test "$(stat -c '%a %U' /var/lib/agritrace-agent)" = "700 agritrace-agent"
check "agent.toml root:agritrace-agent 0640" test "$(stat -c '%a %U:%G' /etc/agritrace-agent/agent.toml)" = "640 root:agritrace-agent"
check "conffiles registered" grep -q /etc/agritrace/settings.conf /var/lib/dpkg/info/agritrace.conffiles
check "man pages: man -w agritrace.serve" man -w agritrace.serve
check "man pages: man -w agritrace-agent" man -w agritrace-agent
check "bash completion" grep -q _agritrace /usr/share/bash-completion/completions/agritrace
check "zsh completion" test -s /usr/share/zsh/vendor-completions/_agritrace-agent
check "fish completion" test -s /usr/share/fish/vendor_completions.d/agritrace.fish
check "nothing started (no process of /usr/bin/agritrace*)" sh -c '! pgrep -f "^/usr/bin/agritrace"'

# 3. The installed units, as systemd reads them (offline: no running systemd is needed).
units=(/lib/systemd/system/agritrace-agent.service /lib/systemd/system/agritrace.service
  /lib/systemd/system/agritrace-mosquitto.service /lib/systemd/system/agritrace-crl.service
  /lib/systemd/system/agritrace-crl.timer)
if output="$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "${units[@]}" 2>&1)"; then
  pass "systemd-analyze verify ${#units[@]} units"
else
  fail "systemd-analyze verify"
fi
[ -z "$output" ] || sed 's/^/    /' <<< "$output"

# 4. Remove: binaries and units go, configuration and data stay.
check "dpkg -r both packages" dpkg -r agritrace agritrace-agent
check "removed: /usr/bin/agritrace" test ! -e /usr/bin/agritrace
check "removed: the units" sh -c '! ls /lib/systemd/system/agritrace* 2>/dev/null'
check "kept on remove: /etc/agritrace/settings.conf" test -f /etc/agritrace/settings.conf
check "kept on remove: /var/lib/agritrace-agent" test -d /var/lib/agritrace-agent

# 5. Purge: nothing of theirs is left.
check "dpkg -P both packages" dpkg -P agritrace agritrace-agent
ours > /tmp/test-debs.after
if diff /tmp/test-debs.before /tmp/test-debs.after > /tmp/test-debs.diff; then
  pass "purged: no file named agritrace left"
else
  fail "purged: files left"; sed 's/^/    /' /tmp/test-debs.diff
fi
check "dpkg forgot both" sh -c '! dpkg -s agritrace 2>/dev/null | grep -q installed && ! dpkg -s agritrace-agent 2>/dev/null | grep -q installed'
# The system users stay after a purge, as Debian's policy has it (their uids may own files
# elsewhere); this check removes the ones it created, to leave the machine as it was.
for user in agritrace agritrace-agent; do
  [[ " $users_before " == *" $user "* ]] || userdel "$user" 2>/dev/null || true
done
rm -f /tmp/test-debs.before /tmp/test-debs.after /tmp/test-debs.diff
[ "$FAILED" -eq 0 ] && echo "test-debs: all checks passed ($(date -u +%FT%TZ))" || echo "test-debs: FAILED"
exit "$FAILED"
