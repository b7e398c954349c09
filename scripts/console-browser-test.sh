#!/usr/bin/env bash
# The console's real-browser test (scripts/console-browser-test.py) with the
# local services: starts PostgreSQL and the broker when they are not running
# (and stops them again afterwards), then runs the test with their settings.
# Arguments go to the Python script, e.g. --csworker .build/release/csworker.
#
#   scripts/console-browser-test.sh [--keep-database] [--timeout SECONDS]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

was_running=$("$root/scripts/services.sh" status | grep -c running || true)
eval "$("$root/scripts/services.sh" start)"
if [ "$was_running" -lt 2 ]; then
    trap '"$root/scripts/services.sh" stop' EXIT
fi
status=0
"${PYTHON:-python3}" "$root/scripts/console-browser-test.py" "$@" || status=$?
exit $status
