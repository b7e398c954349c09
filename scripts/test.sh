#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing
# (scripts/setup.sh), starts the local PostgreSQL and broker
# (scripts/services.sh), builds, and runs every test. Services this script
# started are stopped again at the end; ones already running are left alone.
#
#   scripts/test.sh                 everything
#   scripts/test.sh --filter Kafka  extra arguments go to `swift test`
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

started=$(date +%s)
"$root/scripts/setup.sh"
"$root/scripts/check-manifests.sh"

was_running=$("$root/scripts/services.sh" status | grep -c running || true)
eval "$("$root/scripts/services.sh" start)"
if [ "$was_running" -lt 2 ]; then
    trap '"$root/scripts/services.sh" stop' EXIT
fi

build_started=$(date +%s)
swift build --build-tests
echo "test.sh: build took $(( $(date +%s) - build_started ))s"

test_started=$(date +%s)
swift test --skip-build "$@"
echo "test.sh: tests took $(( $(date +%s) - test_started ))s; total $(( $(date +%s) - started ))s"
