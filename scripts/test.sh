#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing
# (scripts/setup.sh), starts the local PostgreSQL and broker
# (scripts/services.sh), builds, and runs every test. Services this script
# started are stopped again at the end; ones already running are left alone.
#
#   scripts/test.sh                 everything, one test target after another
#   scripts/test.sh --filter Kafka  extra arguments go to a single `swift test`
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

# Everything the suite prints, child processes and their log files included,
# is kept here and scanned for unmasked SSNs at the end; the pipeline tests'
# in-process logs are on, at trace level, so that they are scanned too.
output_dir="$root/.local/test-output"
rm -rf "$output_dir"
mkdir -p "$output_dir"
export CSE_TEST_OUTPUT_DIR="$output_dir"
export PIPELINE_TEST_LOG_LEVEL="${PIPELINE_TEST_LOG_LEVEL:-trace}"

test_started=$(date +%s)
if [ "$#" -gt 0 ]; then
    swift test --skip-build "$@" 2>&1 | tee "$output_dir/swift-test.out"
    "$root/scripts/scan-test-output.py" "$output_dir"
else
    # One test target at a time, each in parallel inside: the integration
    # targets block threads on brokers, databases and child processes, and
    # all of them at once on two cores starve each other's timeouts.
    failed=()
    for dir in "$root"/Tests/*Tests/; do
        target="$(basename "$dir")"
        target_started=$(date +%s)
        # The fuzz test runs alone below: thousands of records through two workers
        # would starve the time limits of the tests beside it.
        swift test --skip-build --filter "^$target\." --skip "FuzzTests" 2>&1 | tee "$output_dir/$target.out" || failed+=("$target")
        echo "test.sh: $target took $(( $(date +%s) - target_started ))s"
    done
    # Issue 20's fuzz test: a valid feed mixed with thousands of mutated records, two workers.
    target_started=$(date +%s)
    swift test --skip-build --filter "FuzzTests" 2>&1 | tee "$output_dir/FuzzTests.out" || failed+=("the fuzz test")
    grep '^fuzz: ' "$output_dir/FuzzTests.out" || true
    echo "test.sh: fuzz test took $(( $(date +%s) - target_started ))s"
    # The console in headless Chromium: every page against the database, a replay as an operator, none as a viewer.
    target_started=$(date +%s)
    "$root/scripts/console-browser-test.py" 2>&1 | tee "$output_dir/console-browser-test.out" || failed+=("the console browser test")
    echo "test.sh: console browser test took $(( $(date +%s) - target_started ))s"
    # The README's quickstart, run as written against the local services.
    target_started=$(date +%s)
    "$root/scripts/quickstart-check.sh" 2>&1 | tee "$output_dir/quickstart-check.out" || failed+=("the README quickstart")
    echo "test.sh: quickstart check took $(( $(date +%s) - target_started ))s"
    # The scan must be able to fail: a planted SSN has to be found.
    planted="$(mktemp -d)"
    printf 'caseId=CS-1 ssn=934-12-7765\n' >"$planted/planted.out"
    if "$root/scripts/scan-test-output.py" "$planted" >/dev/null 2>&1; then failed+=("the SSN scan (missed a planted SSN)"); fi
    rm -rf "$planted"
    "$root/scripts/scan-test-output.py" "$output_dir" || failed+=("the SSN scan of the test output")
    if [ "${#failed[@]}" -gt 0 ]; then
        echo "test.sh: failed: ${failed[*]}"
        exit 1
    fi
fi
echo "test.sh: tests took $(( $(date +%s) - test_started ))s; total $(( $(date +%s) - started ))s"
