#!/usr/bin/env bash
# Throwaway local services for development, tests and the demo:
#   - a PostgreSQL cluster (initdb'd on first start) on 127.0.0.1:$CSE_LOCAL_PG_PORT
#   - a Tansu broker (Kafka protocol, memory storage) on 127.0.0.1:$CSE_LOCAL_KAFKA_PORT
# Data and logs live under .local/ in the checkout (ignored by git).
#
#   scripts/services.sh start     start both (idempotent) and print the settings
#   scripts/services.sh stop      stop both
#   scripts/services.sh restart   stop, then start (the broker comes back empty)
#   scripts/services.sh restart-broker   only the broker, empty (Tansu keeps every
#                                 message in memory and slows down as it fills)
#   scripts/services.sh status    say what is running
#   scripts/services.sh env       print the settings as shell exports
#   scripts/services.sh reset     stop and delete all local data
#
# `eval "$(scripts/services.sh env)"` sets CSE_KAFKA_BROKERS, CSE_DATABASE_URL,
# CSE_SSN_KEY (a development key generated once into .local/ssn-key, so SSN
# hashes in the local database stay matchable across restarts; never use it
# in production) and short consumer-group timings for Tansu.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
local_dir="$root/.local"
pg_port="${CSE_LOCAL_PG_PORT:-55432}"
kafka_port="${CSE_LOCAL_KAFKA_PORT:-59092}"
pg_db="csworker"
pg_user="postgres"
tansu="$root/.deps/bin/tansu"

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# PostgreSQL refuses to run as root: as root, run it as the `postgres` account.
# That account must be able to reach the data directory; a checkout under a
# private home directory is not, so then the cluster lives under /tmp instead.
pg_dir() {
    mkdir -p "$local_dir"
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$local_dir" 2>/dev/null; then
        printf '%s\n' "${TMPDIR:-/tmp}/csworker-pg-$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
    else
        printf '%s\n' "$local_dir/pg"
    fi
}

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_open() { # port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for_port() { # port name seconds
    local deadline=$((SECONDS + $3))
    until port_open "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

database_url() { printf 'postgresql://%s@127.0.0.1:%s/%s' "$pg_user" "$pg_port" "$pg_db"; }

start_postgres() {
    local dir data bin
    dir="$(pg_dir)"; data="$dir/data"; bin="$(pg_bin)"
    [ -n "$bin" ] || die "PostgreSQL server binaries not found; run scripts/setup.sh"
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        log "initdb $data"
        as_pg "$bin/initdb" -D "$data" -U "$pg_user" --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
        cat >>"$data/postgresql.conf" <<EOF
# csworker local settings: loopback only, sized for a 2-core development machine
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
synchronous_commit = on
fsync = on
EOF
    fi
    if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "PostgreSQL already running on 127.0.0.1:$pg_port"
    else
        port_open "$pg_port" && die "port $pg_port is taken by another program; set CSE_LOCAL_PG_PORT"
        # pg_stat_statements: the benchmark counts the statements the workers issue.
        as_pg "$bin/pg_ctl" -D "$data" -o "-p $pg_port -c shared_preload_libraries=pg_stat_statements" -l "$dir/postgres.log" -w -t 30 start >/dev/null \
            || { tail -n 20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
        log "PostgreSQL started on 127.0.0.1:$pg_port (data $data)"
    fi
    if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$pg_db'" | grep -q 1; then
        as_pg "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U "$pg_user" "$pg_db"
    fi
}

stop_postgres() {
    local data bin
    data="$(pg_dir)/data"; bin="$(pg_bin)"
    if [ -f "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
        log "PostgreSQL stopped"
    fi
}

broker_pid() {
    local pidfile="$local_dir/tansu.pid"
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"
}

start_broker() {
    [ -x "$tansu" ] || die "Tansu not found at $tansu; run scripts/setup.sh"
    mkdir -p "$local_dir"
    if broker_pid >/dev/null; then
        log "broker already running on 127.0.0.1:$kafka_port"
        return
    fi
    port_open "$kafka_port" && die "port $kafka_port is taken by another program; set CSE_LOCAL_KAFKA_PORT"
    nohup "$tansu" broker \
        --listener-url "tcp://127.0.0.1:$kafka_port" \
        --advertised-listener-url "tcp://127.0.0.1:$kafka_port" \
        --storage-engine "memory://tansu/" \
        >"$local_dir/tansu.log" 2>&1 &
    echo $! >"$local_dir/tansu.pid"
    wait_for_port "$kafka_port" broker 15 || { tail -n 20 "$local_dir/tansu.log" >&2; die "broker did not start"; }
    log "broker started on 127.0.0.1:$kafka_port (memory storage, log .local/tansu.log)"
}

stop_broker() {
    local pid
    if pid=$(broker_pid); then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$local_dir/tansu.pid"
        log "broker stopped"
    fi
}

# The local development SSN key: 32 random bytes, hex, made on first use.
dev_ssn_key() {
    local file="$local_dir/ssn-key"
    if [ ! -s "$file" ]; then
        mkdir -p "$local_dir"
        (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file.tmp") && mv "$file.tmp" "$file"
    fi
    cat "$file"
}

print_env() {
    printf 'export CSE_KAFKA_BROKERS=%q\n' "127.0.0.1:$kafka_port"
    printf 'export CSE_DATABASE_URL=%q\n' "$(database_url)"
    printf 'export CSE_SSN_KEY=%q\n' "$(dev_ssn_key)"
    # Tansu holds every join for the whole rebalance timeout (max.poll.interval.ms):
    # with Kafka's 300 s a new member waits minutes. Local only; production keeps
    # Kafka's defaults (45 s session, 300 s poll interval).
    printf 'export CSE_KAFKA_SESSION_TIMEOUT_MS=%q\n' "10000"
    printf 'export CSE_KAFKA_MAX_POLL_INTERVAL_MS=%q\n' "10000"
    # One broker: topics get one replica here (csworker's default is 3, for production clusters).
    printf 'export CSE_TOPIC_REPLICATION_FACTOR=%q\n' "1"
}

case "${1:-}" in
    start)
        start_postgres
        start_broker
        print_env
        ;;
    stop)
        stop_broker
        stop_postgres
        ;;
    restart)
        stop_broker
        stop_postgres
        start_postgres
        start_broker
        print_env
        ;;
    restart-broker)
        stop_broker
        start_broker
        print_env
        ;;
    status)
        data="$(pg_dir)/data"
        if [ -f "$data/PG_VERSION" ] && as_pg "$(pg_bin)/pg_ctl" -D "$data" status >/dev/null 2>&1; then
            echo "postgres: running on 127.0.0.1:$pg_port"
        else
            echo "postgres: stopped"
        fi
        if pid=$(broker_pid); then echo "broker: running on 127.0.0.1:$kafka_port (pid $pid)"; else echo "broker: stopped"; fi
        ;;
    env)
        print_env
        ;;
    reset)
        stop_broker
        stop_postgres
        rm -rf "$(pg_dir)" "$local_dir"
        log "local data removed"
        ;;
    *)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit 64
        ;;
esac
