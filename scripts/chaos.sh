#!/usr/bin/env bash
# The chaos run (RELIABILITY.md, "Chaos"): a real deployment on loopback (CA, enrolled boxes,
# mosquitto over mutual TLS, agritrace serve, agritrace-agent per box fed readings), with
# kill -9 of the agents and of serve at random moments, broker restarts, a full disk on the
# first box (a tmpfs; needs root, or --no-disk), the agents' clock stepped back and forward
# (libfaketime) and SIGHUP storms; then it counts readings fed, accepted, receipted, on the
# ledger, lost and duplicated, and runs agritrace verify --signatures and replay.
#
#   scripts/chaos.sh [--quick] [--duration S] [--agent-kills N] [--serve-kills N] ...   (--help)
#
# Defaults are the issue's figures (50 + 50 kills, 20 minutes of faults); --quick: 3 kills
# each and one of every other fault in 90 s. Exit status 0 only when nothing is lost or
# duplicated, nothing crashed and both checks pass; a summary table at the end and
# DIR/summary.json. Builds the release binaries first (the flags of scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in *" --help "* | *" -h "*) exec python3 scripts/chaos.py --help ;; esac
exec scripts/with-binaries.sh python3 scripts/chaos.py "$@"
