#!/usr/bin/env bash
# Runs the README's quickstart exactly as written against the local services,
# isolated from other data, and fails if any command fails or the case does
# not end as the README says.
#
#   scripts/quickstart-check.sh [--readme FILE]   run it
#   scripts/quickstart-check.sh --list [--readme FILE]
#                                                 print the blocks found, run nothing
#
# What it runs is marked in README.md with an HTML comment on the line before
# a ```sh fence (blank lines between are allowed):
#
#   <!-- quickstart -->              run as written, in README order, all such
#                                    blocks in one bash shell (set -e -o pipefail)
#                                    in a scratch directory
#   <!-- quickstart: background -->  one command, started in the background at
#                                    its place in the order (`csworker run`);
#                                    stopped with SIGTERM after the last block and
#                                    checked to exit 0 (dying earlier fails)
#   <!-- quickstart: environment --> not run: its `export NAME=...` lines must name
#                                    exactly the variables this check supplies from
#                                    `scripts/services.sh env` (CSE_KAFKA_BROKERS,
#                                    CSE_DATABASE_URL, CSE_SSN_KEY)
#   <!-- quickstart-expect: case ID stage STAGE task TYPE ACTION ... -->
#                                    the outcome: `csworker case show ID` must reach
#                                    that stage with those tasks (polled up to 60 s)
#
# Isolation: a fresh database on the local PostgreSQL (dropped at the end), a
# topic prefix and consumer group of its own, CSE_HTTP_PORT=0, 3 partitions per
# topic (CSE_TOPIC_PARTITIONS: the README's command gives no --partitions; this
# keeps the shared test broker small), every other CSE_* variable of the
# caller's environment unset. `csworker` on PATH is $CSWORKER_BIN (default
# .build/debug/csworker; this script does not build). The local services are
# started if they are not running.
#
# Output: the blocks' output on stdout, and logs under
# $CSE_TEST_OUTPUT_DIR/quickstart-check (scripts/test.sh scans that directory
# for SSNs) or .local/quickstart-check. The event files the blocks write hold
# SSNs (from the never-issued 900-999 area) and stay in a scratch directory
# that is removed; this script never prints block contents.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readme="$root/README.md"
list_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --list) list_only=1; shift ;;
        --readme) readme="$2"; shift 2 ;;
        -h|--help) sed -n '2,41p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: scripts/quickstart-check.sh [--list] [--readme FILE]" >&2; exit 64 ;;
    esac
done

say() { printf 'quickstart-check: %s\n' "$*"; }
fail() { printf 'quickstart-check: FAILED: %s\n' "$*" >&2; exit 1; }
# Anything that looks like an SSN (nine digits, dashed or not) masked, for the
# few lines of README text this script prints.
mask() { sed -E 's/(^|[^[:alnum:]_.])([0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{9})([^[:alnum:]_]|$)/\1*********\3/g'; }

[ -f "$readme" ] || fail "no README at $readme"
readme_name="$(basename "$readme")"

# The variables the environment block may (and must) export.
supplied=(CSE_KAFKA_BROKERS CSE_DATABASE_URL CSE_SSN_KEY)

work="$(mktemp -d "${TMPDIR:-/tmp}/quickstart-check.XXXXXX")"
blocks="$work/blocks"
mkdir -p "$blocks" "$work/files" "$work/bin"

database=""
psql_bin=""
admin_url=""
cleanup() {
    local status=$?
    # Background processes the runner started and could not stop (it was killed).
    if [ -f "$work/pids" ]; then
        while read -r pid; do
            if kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || true
                say "killed leftover background process $pid"
            fi
        done <"$work/pids"
    fi
    if [ -n "$database" ]; then
        "$psql_bin" -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 \
            || say "could not drop database $database"
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

# --- 1. Find the marked blocks ------------------------------------------------
# blocks/index: one line per block "N KIND MARKER_LINE FIRST_LINE"; blocks/N: its text.
awk -v dir="$blocks" -v readme="$readme_name" '
    function problem(text) { printf "%s:%d: %s\n", readme, NR, text > "/dev/stderr"; bad = 1 }
    BEGIN { state = 0; n = 0; bad = 0 }
    state == 0 {
        if ($0 ~ /^[ \t]*<!--[ \t]*quickstart[ \t]*-->[ \t]*$/) { kind = "run"; marker = NR; state = 1; next }
        if ($0 ~ /^[ \t]*<!--[ \t]*quickstart:[ \t]*[a-z]+[ \t]*-->[ \t]*$/) {
            kind = $0
            sub(/^[ \t]*<!--[ \t]*quickstart:[ \t]*/, "", kind)
            sub(/[ \t]*-->[ \t]*$/, "", kind)
            if (kind != "background" && kind != "environment") { problem("unknown quickstart marker kind \"" kind "\""); next }
            marker = NR; state = 1; next
        }
        # Only comments that start a line count: the prose may quote a marker in backticks.
        if ($0 ~ /^[ \t]*<!--[ \t]*quickstart-expect:/) { expect = $0; expect_count++; next }
        if ($0 ~ /^[ \t]*<!--[ \t]*quickstart/) problem("unrecognised quickstart marker (want <!-- quickstart -->, <!-- quickstart: background|environment --> or <!-- quickstart-expect: ... -->)")
        next
    }
    state == 1 {
        if ($0 ~ /^[ \t]*$/) next
        if ($0 ~ /^[ \t]*```[ \t]*(sh|bash|shell)[ \t]*$/) {
            match($0, /^[ \t]*/); indent = RLENGTH
            n++; file = dir "/" n; printf "" > file
            state = 2; first = NR + 1
            next
        }
        problem("the quickstart marker on line " marker " is not followed by a ```sh block")
        state = 0; next
    }
    state == 2 {
        if ($0 ~ /^[ \t]*```[ \t]*$/) {
            close(file)
            printf "%d %s %d %d\n", n, kind, marker, first >> (dir "/index")
            state = 0; next
        }
        line = $0
        if (indent > 0 && substr(line, 1, indent) ~ /^[ \t]*$/) line = substr(line, indent + 1)
        print line >> file
    }
    END {
        if (state == 2) problem("a quickstart block is not closed before the end of the file")
        if (state == 1) problem("the quickstart marker on line " marker " is not followed by a ```sh block")
        if (expect_count > 1) problem("more than one quickstart-expect marker")
        if (expect_count == 1) print expect > (dir "/expect")
        exit bad
    }
' "$readme" || fail "$readme_name: the quickstart markers above are malformed"

[ -s "$blocks/index" ] || fail "$readme_name has no <!-- quickstart --> blocks"

count() { awk -v k="$1" '$2 == k { n++ } END { print n + 0 }' "$blocks/index"; }
[ "$(count run)" -ge 1 ] || fail "$readme_name has no <!-- quickstart --> block to run"
[ "$(count environment)" -ge 1 ] || fail "$readme_name has no <!-- quickstart: environment --> block"
[ "$(count background)" -ge 1 ] || fail "$readme_name has no <!-- quickstart: background --> block (csworker run)"

# Meaningful lines: not blank, not a comment.
commands_of() { awk '!/^[[:space:]]*(#|$)/' "$1"; }
first_command_of() { awk '!/^[[:space:]]*(#|$)/ { print; exit }' "$1"; }

# The environment block: exactly the supplied variables, nothing else.
exported=()
while read -r n kind marker first; do
    [ "$kind" = environment ] || continue
    while IFS= read -r line; do
        if [[ "$line" =~ ^[[:space:]]*export[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)= ]]; then
            exported+=("${BASH_REMATCH[1]}")
        else
            fail "$readme_name:$marker: the environment block may only hold 'export NAME=...' lines; found: $(printf '%s' "$line" | mask)"
        fi
    done < <(commands_of "$blocks/$n")
done <"$blocks/index"
for name in "${exported[@]}"; do
    [[ " ${supplied[*]} " == *" $name "* ]] \
        || fail "the README's environment block exports $name, which this check cannot supply (it supplies ${supplied[*]}): teach the check, or move $name out of that block"
done
for name in "${supplied[@]}"; do
    [[ " ${exported[*]} " == *" $name "* ]] \
        || fail "the README's environment block does not export $name, which the quickstart needs"
done

# Background blocks: one command each, which this script puts in the background itself.
while read -r n kind marker first; do
    [ "$kind" = background ] || continue
    lines="$(commands_of "$blocks/$n")"
    [ "$(printf '%s\n' "$lines" | grep -c .)" -eq 1 ] \
        || fail "$readme_name:$marker: a background block must hold exactly one command"
    if [[ "$lines" =~ \&[[:space:]]*$ ]]; then
        fail "$readme_name:$marker: a background block's command must not end in '&' (the check backgrounds it)"
    fi
done <"$blocks/index"

# The expected outcome.
[ -f "$blocks/expect" ] || fail "$readme_name has no <!-- quickstart-expect: case ID stage STAGE task TYPE ACTION ... --> marker"
read -r -a words < <(sed -E 's/.*quickstart-expect:[[:space:]]*//; s/[[:space:]]*-->.*//' "$blocks/expect")
expect_case=""; expect_stage=""; expect_tasks=()
i=0
while [ "$i" -lt "${#words[@]}" ]; do
    case "${words[$i]}" in
        case) expect_case="${words[$((i + 1))]:-}"; i=$((i + 2)) ;;
        stage) expect_stage="${words[$((i + 1))]:-}"; i=$((i + 2)) ;;
        task)
            [ -n "${words[$((i + 2))]:-}" ] || fail "quickstart-expect: 'task' needs a type and an action"
            expect_tasks+=("${words[$((i + 1))]}:${words[$((i + 2))]}"); i=$((i + 3)) ;;
        *) fail "quickstart-expect: unknown word '${words[$i]}' (want case, stage, task)" ;;
    esac
done
[ -n "$expect_case" ] && [ -n "$expect_stage" ] || fail "quickstart-expect needs 'case ID' and 'stage STAGE'"
grep -qsF -e "csworker case show $expect_case" "$blocks"/[0-9]* \
    || fail "the quickstart never runs 'csworker case show $expect_case', the case its expect marker names"

if [ "$list_only" -eq 1 ]; then
    while read -r n kind marker first; do
        printf '%s:%s: %s block, %s lines\n' "$readme_name" "$marker" "$kind" "$(wc -l <"$blocks/$n" | tr -d ' ')"
        sed 's/^/    /' "$blocks/$n" | mask
    done <"$blocks/index"
    printf 'expect: case %s stage %s tasks %s\n' "$expect_case" "$expect_stage" "${expect_tasks[*]:-none}"
    exit 0
fi

# --- 2. An isolated environment on the local services --------------------------
binary="${CSWORKER_BIN:-$root/.build/debug/csworker}"
[ -x "$binary" ] || fail "no csworker binary at $binary: build it (swift build --product csworker) or set CSWORKER_BIN"
ln -s "$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")" "$work/bin/csworker"
export PATH="$work/bin:$PATH"

if [ "$("$root/scripts/services.sh" status | grep -c running || true)" -lt 2 ]; then
    say "starting the local services"
    "$root/scripts/services.sh" start >/dev/null
fi
# csworker's settings come only from the README's blocks; CSE_LOCAL_* say
# where the local services run (their ports), so they stay.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^CSE_' | grep -v '^CSE_LOCAL_' || true)
eval "$("$root/scripts/services.sh" env)"
for name in "${supplied[@]}"; do
    [ -n "${!name:-}" ] || fail "scripts/services.sh env did not set $name"
done

psql_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql"
[ -x "$psql_bin" ] || fail "psql not found under /usr/lib/postgresql/*/bin; run scripts/setup.sh"
[[ "$CSE_DATABASE_URL" != *\?* ]] || fail "CSE_DATABASE_URL has parameters; this check only knows plain local URLs"
run_id="$(date +%s)-$$"
admin_url="$CSE_DATABASE_URL"
database="quickstart_${run_id//-/_}"
"$psql_bin" -q "$admin_url" -c "CREATE DATABASE \"$database\"" >/dev/null || { database=""; fail "could not create a database on the local server"; }
export CSE_DATABASE_URL="${admin_url%/*}/$database"
export CSE_TOPIC_PREFIX="quickstart-$run_id."
export CSE_CONSUMER_GROUP="csworker-quickstart-$run_id"
export CSE_HTTP_PORT=0
export CSE_TOPIC_PARTITIONS=3

output="${CSE_TEST_OUTPUT_DIR:-$root/.local}/quickstart-check"
rm -rf "$output"
mkdir -p "$output"
say "csworker $("$binary" --version 2>/dev/null | sed 's/^csworker //'); database $database, topic prefix $CSE_TOPIC_PREFIX, logs in $output"

# --- 3. The runner: every block in order in one shell, then the checks ----------
runner="$work/runner.sh"
{
    cat <<'PROLOGUE'
set -eo pipefail
__qs_say() { printf 'quickstart-check: %s\n' "$*"; }
__qs_pids=()
__qs_names=()
__qs_logs=()
# Stops what is still running with SIGTERM (SIGKILL after 60 s); with "check",
# fails unless each was still running and then exited 0.
__qs_stop() {
    local check="$1" status=0 i pid rc running
    for i in "${!__qs_pids[@]}"; do
        pid="${__qs_pids[$i]}"
        running=0
        kill -0 "$pid" 2>/dev/null && running=1
        if [ "$running" -eq 1 ]; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            if kill -0 "$pid" 2>/dev/null; then
                __qs_say "${__qs_names[$i]} did not stop within 60 s of SIGTERM; killing it"
                kill -KILL "$pid" 2>/dev/null || true
                running=0
            fi
        fi
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        if [ "$check" = check ]; then
            if [ "$running" -eq 0 ]; then
                __qs_say "FAILED: ${__qs_names[$i]} was no longer running when the quickstart ended (exit $rc); its log ends:"
                tail -n 20 "${__qs_logs[$i]}" >&2
                status=1
            elif [ "$rc" -ne 0 ]; then
                __qs_say "FAILED: ${__qs_names[$i]} exited $rc after SIGTERM (want 0); its log ends:"
                tail -n 20 "${__qs_logs[$i]}" >&2
                status=1
            else
                __qs_say "${__qs_names[$i]} stopped with SIGTERM and exited 0"
            fi
        fi
    done
    __qs_pids=()
    return "$status"
}
__qs_on_exit() {
    local status=$?
    if [ "${#__qs_pids[@]}" -gt 0 ]; then
        __qs_stop nocheck || true
        for log in "${__qs_logs[@]}"; do
            __qs_say "background log $log ends:"
            tail -n 20 "$log" >&2
        done
    fi
    exit "$status"
}
trap __qs_on_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
PROLOGUE
    while read -r n kind marker first; do
        headline="$(first_command_of "$blocks/$n" | mask | cut -c1-80)"
        case "$kind" in
            environment)
                printf '__qs_say %q\n' "$readme_name:$marker: environment block: supplied from scripts/services.sh env (${exported[*]})"
                ;;
            background)
                command="$(commands_of "$blocks/$n")"
                log="$output/background-$n.log"
                printf '__qs_say %q\n' "$readme_name:$marker: in the background: $headline (log $log)"
                printf '( exec %s ) >%q 2>&1 &\n' "$command" "$log"
                printf '__qs_pids+=($!); __qs_names+=(%q); __qs_logs+=(%q)\n' "'$headline' (README line $first)" "$log"
                printf 'echo "$!" >>%q\n' "$work/pids"
                ;;
            run)
                printf '__qs_say %q\n' "$readme_name:$marker: running: $headline ..."
                cat "$blocks/$n"
                printf '\n'
                ;;
        esac
    done <"$blocks/index"
    cat <<EPILOGUE
__qs_say "every block ran; checking case $expect_case"
__qs_case="$expect_case"
__qs_ok=0
for __qs_try in \$(seq 60); do
    if csworker case show "\$__qs_case" --json >"$work/case.json" 2>"$work/case.err" \\
        && python3 "$work/expect.py" "$work/case.json" >"$work/expect.out" 2>&1; then
        __qs_ok=1
        break
    fi
    sleep 1
done
if [ "\$__qs_ok" -ne 1 ]; then
    __qs_say "FAILED: after 60 s, case \$__qs_case is not as the README expects:"
    cat "$work/expect.out" "$work/case.err" >&2 2>/dev/null || true
    exit 1
fi
cat "$work/expect.out"
csworker case show "\$__qs_case" >"$output/case-show.txt"
grep -q "^Case \$__qs_case .*stage $expect_stage\\\$" "$output/case-show.txt" \\
    || { __qs_say "FAILED: 'csworker case show \$__qs_case' does not say 'Case \$__qs_case ... stage $expect_stage'"; exit 1; }
EPILOGUE
    for task in "${expect_tasks[@]}"; do
        printf 'grep -qF -e %q %q || { __qs_say %q; exit 1; }\n' \
            "-> task ${task%%:*} ${task#*:} " "$output/case-show.txt" \
            "FAILED: 'csworker case show $expect_case' lists no task ${task%%:*} ${task#*:}"
    done
    cat <<EPILOGUE
csworker status --json >"$work/status.json"
python3 - "$work/status.json" <<'PY'
import json, sys
status = json.load(open(sys.argv[1]))
dead = status["events"]["deadLettered"]
waiting = status["outbox"]["waiting"]
if dead or waiting:
    print(f"quickstart-check: FAILED: {dead} events dead-lettered, {waiting} outbox messages unpublished (want 0 and 0)", file=sys.stderr)
    sys.exit(1)
print(f"quickstart-check: {status['events']['applied']} events applied, none dead-lettered, outbox drained")
PY
__qs_stop check
EPILOGUE
} >"$runner"

# The outcome check for `case show --json`: stage and tasks, nothing else printed.
cat >"$work/expect.py" <<PY
import json, sys
want_case = "$expect_case"
want_stage = "$expect_stage"
want_tasks = [tuple(t.split(":", 1)) for t in "${expect_tasks[*]}".split()]
view = json.load(open(sys.argv[1]))
problems = []
if view.get("caseId") != want_case:
    problems.append(f"caseId is {view.get('caseId')!r}, want {want_case!r}")
if view.get("stage") != want_stage:
    problems.append(f"stage is {view.get('stage')!r}, want {want_stage!r}")
seen = {(task.get("type"), task.get("action")) for entry in view.get("history", []) for task in entry.get("tasks", [])}
for task in want_tasks:
    if task not in seen:
        problems.append(f"no task {task[0]} {task[1]} in its history (has: {sorted(seen)})")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"quickstart-check: case {want_case}: stage {want_stage}, tasks " + ", ".join(f"{t} {a}" for t, a in want_tasks))
PY

started=$SECONDS
rc=0
(cd "$work/files" && timeout 600 bash "$runner") 2>&1 | tee "$output/quickstart.log" || rc=$?
if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && say "the quickstart did not finish within 600 s"
    fail "the README's quickstart (exit $rc; full output in $output/quickstart.log)"
fi
say "passed: the README's quickstart works as written ($(count run) blocks run, $(count background) in the background) in $((SECONDS - started)) s"
