#!/usr/bin/env bash
# Rolls out a csworker release with plain kubectl, in order: configuration,
# the schema migration, the topics, then the workers and the sweep CronJob,
# and with --console the web console last.
# Each Job must complete before the next step; the workers are not touched
# when one fails. Safe to run again for the same release (the release's Jobs
# already exist and are left as they are; a Job of the release that expired
# is created again and re-runs, which both commands allow).
#
#   deploy/rollout.sh -n NAMESPACE [-k DIR] [--console | --console-k DIR] [--timeout 15m] [--dry-run]
#
#   -n NAMESPACE   the namespace (required; the manifests carry none)
#   -k DIR         the kustomization (default deploy/kubernetes; an overlay works)
#   --console      also roll out the console (deploy/kubernetes/console) after
#                  the workers; its release must be the same
#   --console-k DIR  the same from another kustomization (an overlay)
#   --timeout T    how long each step may take (default 15m)
#   --dry-run      kubectl apply --dry-run=server: validate against the cluster, change nothing
#
# The release is the kustomization's: its image tag and the
# app.kubernetes.io/version label (deploy/README.md, "Rolling out").
set -euo pipefail

ns=""
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kubernetes"
timeout="15m"
dry=()
console_dir=""

while [ $# -gt 0 ]; do
    case "$1" in
        -n|--namespace) ns="${2:?}"; shift 2 ;;
        -k) dir="${2:?}"; shift 2 ;;
        --console) console_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kubernetes/console"; shift ;;
        --console-k) console_dir="${2:?}"; shift 2 ;;
        --timeout) timeout="${2:?}"; shift 2 ;;
        --dry-run) dry=(--dry-run=server); shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "rollout: unknown argument $1" >&2; exit 64 ;;
    esac
done
[ -n "$ns" ] || { echo "rollout: -n NAMESPACE is required" >&2; exit 64; }

log() { printf 'rollout: %s\n' "$*" >&2; }
k() { kubectl -n "$ns" "$@"; }

# The one app.kubernetes.io/version over a kustomization's output.
release_of() {
    printf '%s\n' "$1" | sed -n 's/^    app.kubernetes.io\/version: "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' | sort -u
}

rendered=$(kubectl kustomize "$dir")
release=$(release_of "$rendered")
if [ "$(printf '%s\n' "$release" | wc -l)" -ne 1 ] || [ -z "$release" ]; then
    log "expected one app.kubernetes.io/version over the manifests, found: ${release:-none}"
    exit 64
fi
if [ "$release" = "replace-with-release" ]; then
    log "the release is still the placeholder: set the image and app.kubernetes.io/version in $dir/kustomization.yaml"
    exit 64
fi
if ! printf '%s\n' "$rendered" | grep -q "image: .*:$release\(@sha256:[0-9a-f]*\)\{0,1\}$"; then
    log "no image tagged $release in the manifests: the image tag and app.kubernetes.io/version must agree"
    exit 64
fi
if [ -n "$console_dir" ]; then
    # The console reads the schema this release's migration makes: same release.
    console_rendered=$(kubectl kustomize "$console_dir")
    console_release=$(release_of "$console_rendered")
    if [ "$console_release" != "$release" ] \
        || ! printf '%s\n' "$console_rendered" | grep -q "image: .*:$release\(@sha256:[0-9a-f]*\)\{0,1\}$"; then
        log "the console ($console_dir) is release ${console_release:-none}, not $release: set its image and app.kubernetes.io/version too"
        exit 64
    fi
fi
log "release $release into namespace $ns from $dir"

# Applies one component and prints the names of what it applied.
apply() {
    k apply -k "$dir" -l "app.kubernetes.io/component=$1" "${dry[@]}" -o name
}

# Waits for a Job to complete; on failure prints its log and stops.
wait_job() {
    local job=$1 deadline state
    [ ${#dry[@]} -eq 0 ] || return 0
    deadline=$(( $(date +%s) + $(to_seconds "$timeout") ))
    while :; do
        state=$(k get "$job" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
        case " $state " in
            *" Complete "*) k logs "$job" --tail=20 >&2 || true; log "$job complete"; return 0 ;;
            *" Failed "*) k logs "$job" --tail=50 >&2 || true; log "$job failed: the workers were not touched"; exit 1 ;;
        esac
        if [ "$(date +%s)" -ge "$deadline" ]; then
            k describe "$job" >&2 || true
            log "$job not complete after $timeout: the workers were not touched"
            exit 1
        fi
        sleep 5
    done
}

to_seconds() {
    case "$1" in
        *h) echo $(( ${1%h} * 3600 )) ;;
        *m) echo $(( ${1%m} * 60 )) ;;
        *s) echo "${1%s}" ;;
        *) echo "$1" ;;
    esac
}

apply config >&2                                   # ServiceAccount, ConfigMaps, NetworkPolicy
for component in migration topics; do              # csworker migrate, csworker topics ensure
    for job in $(apply "$component"); do
        log "waiting for $job"
        wait_job "$job"
    done
done
apply worker >&2                                   # Deployment, Service, PDB, KEDA
if [ ${#dry[@]} -eq 0 ]; then
    k rollout status deploy/csworker --timeout="$timeout"
fi
apply operations >&2                               # the sweep CronJob
if [ -n "$console_dir" ]; then                     # the console: Deployment, Service, NetworkPolicy
    k apply -k "$console_dir" "${dry[@]}" -o name >&2
    if [ ${#dry[@]} -eq 0 ]; then
        k rollout status deploy/csworker-console --timeout="$timeout"
    fi
fi
log "release $release rolled out"
