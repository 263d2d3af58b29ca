#!/usr/bin/env bash
# The HTTPS API against its own spec (RELIABILITY.md, "API against its spec"): schemathesis
# (PyPI; installed with pip when missing) generates requests from docs/api/openapi.yaml and
# sends them to a real `agritrace serve` over mutual TLS, with the firm alice's enrolled client
# certificate and the deployment CA as the trust root, and checks every answer (--checks all:
# no 5xx; status codes, content types, headers and bodies as the spec says; invalid input
# refused, valid input accepted). The deployment is the project's own (Provisioning/
# demo-deployment.sh), the ledger seeded through a real agent (scripts/api_fuzz.py).
#
#   scripts/api-fuzz.sh [--max-examples N] [--seed S] [--dir DIR] [-- more schemathesis options]
#
# Defaults: 100 examples per operation, a random seed (printed), ./api-fuzz-data. Reports
# (JUnit XML, NDJSON events) in DIR/report. Exit status: schemathesis's (0: no failure), 1 as
# well when serve exited during the run. Builds the release binaries first (scripts/test.sh's flags).
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in *" --help "* | *" -h "*) exec python3 scripts/api_fuzz.py --help ;; esac
./scripts/install-deps.sh
if ! python3 -c 'import schemathesis' 2>/dev/null; then
    echo "installing: schemathesis (PyPI)"
    python3 -m pip install --quiet schemathesis 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages schemathesis
fi
exec scripts/with-binaries.sh python3 scripts/api_fuzz.py "$@"
