#!/usr/bin/env bash
# Create .venv with skymesh and its dependencies; idempotent (re-installs only when
# pyproject.toml changed). Installs the C headers libvirt-python compiles against.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

PY=${PYTHON:-}
if [ -z "$PY" ]; then
    for c in python3.11 python3.12 python3.13 python3; do
        if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            PY=$c; break
        fi
    done
fi
[ -n "$PY" ] || die "Python >= 3.11 is needed (apt-get install python3 python3-venv)"

apt_install pkg-config libvirt-dev gcc

stamp=.venv/.skymesh-installed
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $PY"
    "$PY" -m venv .venv 2>/dev/null || { apt_install python3-venv; "$PY" -m venv .venv; }
fi
say "installing Python dependencies into .venv (first time takes about a minute)"
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' >&2 || true
.venv/bin/python -c 'import corebus, aio_pika, asyncpg, libvirt, pydantic' \
    || die "the Python dependencies did not install; see the pip output above"
echo "$want" > "$stamp"
