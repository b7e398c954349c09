#!/usr/bin/env bash
# The main job on local embedded services, from a fresh clone: installs what
# is missing, starts PostgreSQL and the broker, builds csworker, creates the
# contract's topics and pushes a sample through the real Kafka and PostgreSQL
# layers. Services stay up afterwards (scripts/services.sh stop ends them).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

"$root/scripts/setup.sh"
eval "$("$root/scripts/services.sh" start)"

echo "demo: building csworker"
swift build --product csworker
csworker="$(swift build --show-bin-path)/csworker"

"$csworker" --version
"$csworker" topics ensure --partitions 6
"$csworker" selfcheck
echo "demo: done; services are still running (scripts/services.sh stop)"
