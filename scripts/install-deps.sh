#!/usr/bin/env bash
# Installs what AgriTrace needs on a Debian 12 machine, skipping what is already there.
# Needs root (or sudo) only when a package is missing. Swift 6.3 must be on PATH or at /opt/swift.
set -euo pipefail

# python3-jsonschema and python3-rfc3987: the export tests validate EPCIS documents against the
# official GS1 JSON Schema (../shared/standards/gs1-epcis), URI formats included;
# python3-prometheus-client: the operations tests parse /metrics with the reference parser;
# chromium, chromium-driver, libnss3-tools (certutil) and python3-pip: the console's browser tests;
# faketime (libfaketime): scripts/chaos.sh steps the agents' wall clock with it;
# etcd-server: the consortium's ordering (its tests start their own members on loopback).
packages=(mosquitto faketime mosquitto-clients libmosquitto-dev libssl-dev libsqlite3-dev sqlite3 openssl pkg-config ca-certificates
  python3 python3-pip python3-jsonschema python3-rfc3987 python3-prometheus-client chromium chromium-driver libnss3-tools
  etcd-server)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The tests' Python modules: Debian's packages serve /usr/bin/python3; another python3 first on
# PATH gets them from PyPI (Debian 12's pip needs --break-system-packages outside a virtual
# environment). Selenium (PyPI) drives Chromium in Tests/Browser.
for module in prometheus_client:prometheus-client jsonschema:jsonschema rfc3987:rfc3987 selenium:selenium; do
  if ! python3 -c "import ${module%%:*}" 2>/dev/null; then
    echo "installing: ${module#*:} (PyPI)"
    python3 -m pip install --quiet "${module#*:}" 2>/dev/null ||
      python3 -m pip install --quiet --break-system-packages "${module#*:}"
  fi
done
# mosquitto's package enables a system broker on port 1883; AgriTrace starts its own brokers.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  echo "note: the system mosquitto service is running on port 1883; AgriTrace does not use it."
fi
# So does etcd-server's on 2379: the tests start their own members on free ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  echo "note: the system etcd service is running on port 2379; the tests do not use it (systemctl disable --now etcd)."
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "note: add /opt/swift/usr/bin to PATH (export PATH=/opt/swift/usr/bin:\$PATH)"
  else
    echo "error: Swift 6.3 is not installed. Install it from https://www.swift.org/install/linux/ and put it on PATH." >&2
    exit 1
  fi
fi
