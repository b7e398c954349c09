#!/usr/bin/env bash
# The shipped benchmark on local embedded services: installs what is missing,
# starts PostgreSQL and the broker, builds csworker in release mode and runs
# `csworker bench` (batched workers, one-transaction-per-event workers, and the
# database ceiling; medians of several runs), printing the report.
#
#   scripts/bench.sh [--scratch-path DIR] [csworker bench options...]
#
# Defaults: 2,000 cases (200 for the per-event mode), 2 workers, 3 runs,
# 2,000 events/s offered in the batched mode's latency phase: about 6-10
# minutes on a 2-core machine. Any `csworker bench` option
# overrides them, e.g. scripts/bench.sh --runs 1 --modes batched --workers 4.
# Every run creates and drops its own database (bench_<id>) and topic prefix;
# services stay up afterwards (scripts/services.sh stop). The broker is
# restarted empty first: Tansu 0.6 keeps every message in memory, and its
# produce and fetch times grow as it fills (measured after a long test
# session: a relay pass took 0.5-2.5 s instead of 10-20 ms, p50 latency
# 1.5 s instead of 50 ms), so figures from a full broker measure the broker.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scratch=()
if [ "${1:-}" = "--scratch-path" ]; then
    scratch=(--scratch-path "$2")
    shift 2
fi

"$root/scripts/setup.sh" >&2
eval "$("$root/scripts/services.sh" start)"
eval "$("$root/scripts/services.sh" restart-broker)"

printf '== bench: building csworker (release)\n' >&2
swift build -c release "${scratch[@]}" --product csworker >&2
csworker="$(swift build -c release "${scratch[@]}" --show-bin-path)/csworker"
"$csworker" --version

# --allow-existing-data: the local test database holds the suite's cases; the bench works in its own.
"$csworker" bench --cases 2000 --workers 2 --runs 3 --rate 2000 --allow-existing-data "$@"
