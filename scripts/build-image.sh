#!/usr/bin/env bash
# Builds the csworker container image from deploy/Containerfile and
# smoke-tests it; or, with --check, only checks the Containerfile statically.
#
#   scripts/build-image.sh [--tag IMAGE] [--git REV] [--engine podman|buildah|docker]
#                          [--build-arg NAME=VALUE]... [--check] [-- ENGINE-BUILD-ARGS...]
#
#   --tag IMAGE       image name to build (default localhost/csworker:dev)
#   --git REV         build a clean `git archive` of REV (e.g. HEAD, a release
#                     tag) instead of the working tree; Package.resolved is
#                     added when the working tree's Package.swift equals REV's
#   --engine NAME     podman, buildah or docker (default: the first found that
#                     answers `info`)
#   --build-arg A=B   passed to the build: SWIFT_IMAGE, RUNTIME_IMAGE (pin
#                     digests for releases), CONFLUENT_KAFKA_VERSION
#   --check           static checks only (no engine needed); exit 0 if clean
#   -- ARGS           anything after -- goes to the engine's build command
#
# Every run first checks the Containerfile statically:
#   - each COPY source from the build context exists and .containerignore does
#     not exclude it; .containerignore keeps .build, .deps, .local, .git out;
#   - the base images come from ARG defaults with explicit tags (no `latest`,
#     digests well-formed when given), the build and runtime stages use the
#     same Debian release (the binary links against the build stage's glibc),
#     and the Swift image is at least Package.swift's swift-tools-version;
#   - CONFLUENT_KAFKA_VERSION equals scripts/setup.sh's in every stage;
#   - the runtime stage runs as a numeric non-root USER, has the binary as
#     ENTRYPOINT and `run` as CMD, EXPOSEs the default CSE_HTTP_PORT, runs
#     `csworker --version` against the bundled librdkafka while building, and
#     says why it has no HEALTHCHECK (the orchestrator probes /health/*).
# Then it builds and runs the image once: `csworker --version` as uid 10001
# with no network, a read-only root and no capabilities, which must report
# the bundled librdkafka; and the image's User and Entrypoint are inspected.
#
# Exit codes: 0 success, 1 a check or the build failed, 64 bad usage,
# 69 no usable container engine (the static checks passed).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tag="localhost/csworker:dev"
git_rev=""
engine=""
check_only=0
build_args=()
engine_args=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 64; }
while [ $# -gt 0 ]; do
    case "$1" in
        --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
        --git) git_rev="${2:?--git needs a revision}"; shift 2 ;;
        --engine) engine="${2:?--engine needs a value}"; shift 2 ;;
        --build-arg) build_args+=("--build-arg" "${2:?--build-arg needs NAME=VALUE}"); shift 2 ;;
        --check) check_only=1; shift ;;
        -h|--help) usage ;;
        --) shift; engine_args=("$@"); break ;;
        *) echo "build-image: unknown argument $1" >&2; usage ;;
    esac
done

log() { printf 'build-image: %s\n' "$*" >&2; }

# --- static checks --------------------------------------------------------------
static_checks() {
    python3 - "$root" <<'PY'
import fnmatch
import glob
import os
import re
import sys

root = sys.argv[1]
containerfile = os.path.join(root, "deploy", "Containerfile")
problems = []


def problem(msg):
    problems.append(msg)


with open(containerfile) as f:
    raw = f.read().splitlines()

# Instructions with their continuation lines joined; comments kept apart.
instructions = []   # (keyword, rest)
comments = []
current = ""
for line in raw:
    stripped = line.strip()
    if not current and (not stripped or stripped.startswith("#")):
        if stripped.startswith("#"):
            comments.append(stripped.lstrip("#").strip())
        continue
    if current and stripped.startswith("#"):
        continue
    if stripped.endswith("\\"):
        current += stripped[:-1] + " "
        continue
    current += stripped
    keyword, _, rest = current.partition(" ")
    instructions.append((keyword.upper(), rest.strip()))
    current = ""

# Global ARGs (before the first FROM) and the stages.
global_args = {}
stages = []  # dicts: base, name, instructions
for keyword, rest in instructions:
    if keyword == "FROM":
        m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest, re.IGNORECASE)
        if not m:
            problem(f"cannot read FROM {rest}")
            continue
        stages.append({"base": m.group(1), "name": m.group(2), "instructions": []})
    elif not stages:
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            global_args[name] = default
    else:
        stages[-1]["instructions"].append((keyword, rest))

if len(stages) < 2:
    problem("expected a build stage and a runtime stage")


def resolve_base(base):
    m = re.fullmatch(r"\$\{?(\w+)\}?", base)
    if m:
        if m.group(1) not in global_args or not global_args[m.group(1)]:
            problem(f"FROM {base}: no default for ARG {m.group(1)} before the first FROM")
            return m.group(1), ""
        return m.group(1), global_args[m.group(1)]
    return None, base


def debian_release(image):
    for release in ("bookworm", "trixie", "bullseye", "noble", "jammy"):
        if release in image:
            return release
    return None


bases = {}
for stage in stages:
    arg, image = resolve_base(stage["base"])
    if any(s["name"] == stage["base"] for s in stages):
        continue  # FROM an earlier stage
    if not image:
        continue
    name, _, digest = image.partition("@")
    repo_tag = name.rsplit("/", 1)[-1]
    if ":" not in repo_tag:
        problem(f"base image {image} has no tag (it would mean :latest)")
    elif repo_tag.endswith(":latest"):
        problem(f"base image {image} uses :latest")
    if digest and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        problem(f"base image {image}: malformed digest")
    if not arg:
        problem(f"FROM {image}: name the base image through a build ARG so a digest or mirror can be given")
    bases[stage["name"] or image] = image

build_image = bases.get("build", "")
runtime_image = bases.get("runtime", "")
if not build_image or not runtime_image:
    problem("stages must be named `build` and `runtime`")
elif debian_release(build_image) != debian_release(runtime_image) or debian_release(build_image) is None:
    problem(f"build stage ({build_image}) and runtime stage ({runtime_image}) must name the same Debian release")

# The Swift image is at least the manifest's tools version.
with open(os.path.join(root, "Package.swift")) as f:
    tools = re.search(r"swift-tools-version:\s*(\d+)\.(\d+)", f.readline())
m = re.search(r"swift:(\d+)\.(\d+)", build_image)
if tools and m and (int(m.group(1)), int(m.group(2))) < (int(tools.group(1)), int(tools.group(2))):
    problem(f"{build_image} is older than Package.swift's swift-tools-version {tools.group(1)}.{tools.group(2)}")

# librdkafka: the version scripts/setup.sh installs, in every stage that names one.
with open(os.path.join(root, "scripts", "setup.sh")) as f:
    wanted = re.search(r'^confluent_kafka_version="([^"]+)"', f.read(), re.MULTILINE)
wanted = wanted.group(1) if wanted else None
for stage in stages:
    versions = [r.partition("=")[2] for k, r in stage["instructions"] if k == "ARG" and r.startswith("CONFLUENT_KAFKA_VERSION")]
    if versions != [wanted]:
        problem(f"stage {stage['name']}: ARG CONFLUENT_KAFKA_VERSION {versions} differs from scripts/setup.sh ({wanted})")

# .containerignore: present and keeping the host's build state out.
ignore_path = os.path.join(root, ".containerignore")
ignore = []
if not os.path.isfile(ignore_path):
    problem(".containerignore is missing at the repository root")
else:
    with open(ignore_path) as f:
        ignore = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    for must in (".build", ".deps", ".local", ".git"):
        if must not in ignore:
            problem(f".containerignore does not exclude {must}")


def ignored(rel):
    verdict = False
    for pattern in ignore:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.strip("/")
        parts = rel.split("/")
        hit = any(fnmatch.fnmatch("/".join(parts[: i + 1]), pat) for i in range(len(parts)))
        if pat.startswith("**/"):
            hit = hit or any(fnmatch.fnmatch(p, pat[3:]) for p in parts)
        if hit:
            verdict = not negate
    return verdict


# COPY sources from the context exist and are not ignored.
for stage in stages:
    for keyword, rest in stage["instructions"]:
        if keyword == "ADD":
            problem("ADD: use COPY (ADD fetches URLs and unpacks archives)")
        if keyword != "COPY" or "--from=" in rest:
            continue
        words = [w for w in rest.split() if not w.startswith("--")]
        sources = words[:-1]
        found_any = False
        for src in sources:
            matches = glob.glob(os.path.join(root, src))
            if any(ch in src for ch in "*?["):
                found_any = found_any or bool(matches)
                continue
            if not matches:
                problem(f"COPY {src}: not in the repository")
                continue
            found_any = True
            if ignored(src.rstrip("/")):
                problem(f"COPY {src}: excluded by .containerignore")
        if not found_any:
            problem(f"COPY {rest}: no source exists")

# The runtime stage.
runtime = next((s for s in stages if s["name"] == "runtime"), stages[-1] if stages else None)
if runtime is not stages[-1]:
    problem("the runtime stage must be the last one (the image a plain build produces)")
if runtime:
    ins = runtime["instructions"]
    users = [r for k, r in ins if k == "USER"]
    if not users:
        problem("runtime stage: no USER (it would run as root)")
    else:
        uid = users[-1].split(":")[0]
        if not uid.isdigit() or int(uid) == 0:
            problem(f"runtime stage: USER {users[-1]} must be a numeric non-root uid (runAsNonRoot checks it)")
        last_user = max(i for i, (k, _) in enumerate(ins) if k == "USER")
        if any(k == "RUN" for k, _ in ins[last_user:]):
            problem("runtime stage: a RUN after the final USER")
    if ("ENTRYPOINT", '["/opt/csworker/bin/csworker"]') not in ins:
        problem('runtime stage: ENTRYPOINT must be ["/opt/csworker/bin/csworker"] (the manifests pass args only)')
    if ("CMD", '["run"]') not in ins:
        problem('runtime stage: CMD must be ["run"]')
    if not any(k == "RUN" and "csworker --version" in r and "librdkafka ${CONFLUENT_KAFKA_VERSION}" in r for k, r in ins):
        problem("runtime stage: no RUN smoke test of `csworker --version` against the bundled librdkafka")
    if not any(k == "EXPOSE" and r.split("/")[0] == "8080" for k, r in ins):
        problem("runtime stage: EXPOSE 8080 (the default CSE_HTTP_PORT) is missing")
    if not any(k == "HEALTHCHECK" for k, _ in ins) and not any("HEALTHCHECK" in c for c in comments):
        problem("no HEALTHCHECK and no comment saying why (probes on /health/live and /health/ready)")
    for k, r in ins:
        if k == "RUN" and re.search(r"\blibrdkafka1\b|librdkafka-dev", r):
            problem("runtime stage installs Debian's librdkafka: the bundled one must be the only one")

for p in problems:
    print(f"build-image: PROBLEM: {p}", file=sys.stderr)
print(f"build-image: Containerfile static checks: {len(stages)} stages, base images "
      f"{build_image or '?'} / {runtime_image or '?'}, {len(problems)} problems", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

if ! static_checks; then
    log "static checks failed"
    exit 1
fi
[ "$check_only" -eq 1 ] && exit 0

# --- engine -----------------------------------------------------------------------
if [ -z "$engine" ]; then
    for candidate in podman buildah docker; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" info >/dev/null 2>&1; then
            engine=$candidate
            break
        fi
    done
fi
if [ -z "$engine" ]; then
    log "no usable container engine (podman, buildah or docker answering \`info\`): the static checks passed, nothing was built"
    exit 69
fi
case "$engine" in podman|buildah|docker) ;; *) log "unknown engine $engine"; exit 64 ;; esac

# --- context ----------------------------------------------------------------------
context="$root"
scratch=""
if [ -n "$git_rev" ]; then
    commit=$(git rev-parse --verify "$git_rev^{commit}") || { log "no such revision $git_rev"; exit 64; }
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    git archive --format=tar "$commit" | tar -x -C "$scratch"
    if [ -f Package.resolved ] && git diff --quiet "$commit" -- Package.swift; then
        cp Package.resolved "$scratch/"
    fi
    context="$scratch"
    log "context: git archive of $commit"
else
    if [ -n "$(git status --porcelain -- Package.swift Sources Tests 2>/dev/null)" ]; then
        log "note: building the working tree with uncommitted changes under Package.swift, Sources/ or Tests/ (--git HEAD builds the last commit)"
    fi
fi

# --- build ------------------------------------------------------------------------
wanted=$(sed -n 's/^confluent_kafka_version="\(.*\)"$/\1/p' scripts/setup.sh)
start=$(date +%s)
log "building $tag with $engine (deploy/Containerfile)"
case "$engine" in
    # The Docker image format: the OCI format has no SHELL, and podman and
    # buildah drop it with a warning, so every RUN would lose `-o pipefail`.
    buildah) build=(buildah build --format docker) ;;
    podman) build=(podman build --format docker) ;;
    *) build=(docker build) ;;
esac
"${build[@]}" -f "$root/deploy/Containerfile" -t "$tag" "${build_args[@]}" "${engine_args[@]}" "$context"
took=$(( $(date +%s) - start ))

# --- smoke test ---------------------------------------------------------------------
if [ "$engine" = buildah ]; then run=(podman run); command -v podman >/dev/null || run=(); else run=("$engine" run); fi
if [ ${#run[@]} -gt 0 ]; then
    out=$("${run[@]}" --rm --network=none --read-only --cap-drop=ALL --security-opt=no-new-privileges \
        --user 10001:10001 "$tag" --version 2>&1) || { printf '%s\n' "$out" >&2; log "smoke test failed"; exit 1; }
    printf '%s\n' "$out" >&2
    if ! grep -qF "librdkafka $wanted" <<<"$out"; then
        log "smoke test: \`csworker --version\` does not report librdkafka $wanted"
        exit 1
    fi
    inspect=("${run[0]}" image inspect)
    user=$("${inspect[@]}" --format '{{.Config.User}}' "$tag")
    entrypoint=$("${inspect[@]}" --format '{{json .Config.Entrypoint}}' "$tag")
    if [ "$user" != "10001:10001" ] || [ "$entrypoint" != '["/opt/csworker/bin/csworker"]' ]; then
        log "image config: User $user, Entrypoint $entrypoint (want 10001:10001 and the binary)"
        exit 1
    fi
    size=$("${inspect[@]}" --format '{{.Size}}' "$tag")
    log "built $tag in ${took}s ($((size / 1024 / 1024)) MiB); smoke test passed: User $user, Entrypoint $entrypoint"
else
    log "built $tag in ${took}s with buildah; no podman to run the smoke test"
    exit 1
fi
