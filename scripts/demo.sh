#!/usr/bin/env bash
# The main job on local embedded services, from a fresh clone: installs what
# is missing, starts PostgreSQL and the broker, builds csworker, migrates a
# fresh demo database, creates the contract's topics, starts TWO worker
# processes, feeds a generated year of realistic traffic (1,000 cases, every
# event type, a few poison messages), waits until every event is processed,
# prints what the workers did and one case's history, then stops the workers
# with SIGTERM (they finish their batch, commit, leave the group, exit 0).
#
#   scripts/demo.sh [--cases N] [--seed S] [--debug]
#
# Each run uses its own database (csworker_demo) and topic prefix, so it can
# be run again. Services stay up afterwards (scripts/services.sh stop).
set -euo pipefail

cases=1000
seed=7
configuration=release
while [ $# -gt 0 ]; do
    case "$1" in
        --cases) cases="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --debug) configuration=debug; shift ;;
        *) echo "usage: scripts/demo.sh [--cases N] [--seed S] [--debug]" >&2; exit 64 ;;
    esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf '\n== demo: %s\n' "$*"; }

"$root/scripts/setup.sh"
eval "$("$root/scripts/services.sh" start)"

say "building csworker ($configuration)"
swift build -c "$configuration" --product csworker
csworker="$(swift build -c "$configuration" --show-bin-path)/csworker"
"$csworker" --version

# A fresh database and topic set for this run.
run_id="$(date +%s)"
psql_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql"
"$psql_bin" -q "$CSE_DATABASE_URL" -c "DROP DATABASE IF EXISTS csworker_demo" -c "CREATE DATABASE csworker_demo"
export CSE_DATABASE_URL="${CSE_DATABASE_URL%/*}/csworker_demo"
export CSE_TOPIC_PREFIX="demo-$run_id."
export CSE_CONSUMER_GROUP="csworker-demo-$run_id"
# A short session timeout keeps Tansu's joins quick (it joins after about half of it);
# events waiting for a case that
# never opens are dead-lettered 3 s after the workers caught up (default 60 s).
# CSE_HTTP_PORT=0: each worker's /metrics and health endpoints on a free port (logged at start).
worker_env=(CSE_KAFKA_MAX_POLL_INTERVAL_MS=30000 CSE_KAFKA_SESSION_TIMEOUT_MS=6000 CSE_UNKNOWN_CASE_HORIZON=20s CSE_HTTP_PORT=0)

say "migrating the demo database (twice: the second run has nothing to do)"
"$csworker" migrate
"$csworker" migrate

say "creating topics (prefix $CSE_TOPIC_PREFIX)"
"$csworker" topics ensure --partitions 6 2>/dev/null

logs="$root/.local/demo"
mkdir -p "$logs"
say "starting two workers (logs in .local/demo/)"
pids=()
for n in 1 2; do
    env "${worker_env[@]}" "$csworker" run >"$logs/worker-$n.log" 2>&1 &
    pids+=($!)
    echo "worker $n: pid ${pids[-1]}"
done
stop_workers() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
}
trap stop_workers EXIT

say "feeding $cases cases (seed $seed)"
started=$(date +%s.%N)
feed_out="$("$csworker" feed --cases "$cases" --seed "$seed" 2>/dev/null)"
echo "$feed_out"
events=$(printf '%s\n' "$feed_out" | sed -n 's/^\([0-9][0-9]*\) events (.*/\1/p' | head -n 1)

say "waiting until all $events records are processed and every task is published"
"$csworker" status --wait-for-events "$events" --timeout 900 >"$logs/status.txt" &
status_pid=$!
while kill -0 "$status_pid" 2>/dev/null; do
    for n in 1 2; do
        if ! kill -0 "${pids[$((n - 1))]}" 2>/dev/null; then
            kill "$status_pid" 2>/dev/null || true
            echo "demo: worker $n stopped unexpectedly; its log:" >&2
            tail -n 20 "$logs/worker-$n.log" >&2
            exit 1
        fi
    done
    sleep 0.5
done
wait "$status_pid"
finished=$(date +%s.%N)
cat "$logs/status.txt"
awk -v n="$events" -v a="$started" -v b="$finished" \
    'BEGIN { printf "end to end: %d records fed, processed and published in %.1f s = %d events/s (two workers)\n", n, b - a, n / (b - a) }'

# A case with a varied but readable history: the most kinds of events in at most 15.
case_id=$("$psql_bin" -tA "$CSE_DATABASE_URL" -c \
    "SELECT case_id FROM case_history GROUP BY case_id HAVING count(*) <= 15
     ORDER BY count(DISTINCT event_type) DESC, case_id LIMIT 1")
say "one case's history: csworker case show $case_id"
"$csworker" case show "$case_id"

say "stopping the workers with SIGTERM"
trap - EXIT
stop_workers
status=0
for n in 1 2; do
    if wait "${pids[$((n - 1))]}"; then
        echo "worker $n exited 0; $(grep -o 'batches=[0-9]*.*records=[0-9]*' "$logs/worker-$n.log" | tail -n 1)"
    else
        code=$?
        echo "worker $n exited $code (see .local/demo/worker-$n.log)"
        status=1
    fi
done
# What `csworker console` needs to show this demo (README, "Web console").
{
    "$root/scripts/services.sh" env
    printf 'export CSE_DATABASE_URL=%q\n' "$CSE_DATABASE_URL"
    printf 'export CSE_TOPIC_PREFIX=%q\n' "$CSE_TOPIC_PREFIX"
    printf 'export CSE_CONSUMER_GROUP=%q\n' "$CSE_CONSUMER_GROUP"
} >"$logs/console.env"
say "the demo's settings for csworker console: source .local/demo/console.env"
say "done; services are still running (scripts/services.sh stop)"
exit $status
