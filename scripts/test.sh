#!/usr/bin/env bash
# `make test`: set up what is missing, then lint, type-check and run the test tiers.
# Each run gets its own database and vhost (named from SKYMESH_TEST_RUN), dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

bash scripts/bootstrap.sh
bash scripts/services.sh
export SKYMESH_TEST_RUN=${SKYMESH_TEST_RUN:-r$(date +%s)$$}
export PYTHONDONTWRITEBYTECODE=1

say "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet . || die "ruff format would change files: run .venv/bin/ruff format ."
say "mypy"
.venv/bin/mypy

# whatever happens to the fixtures, nothing of this run stays on the servers
trap '.venv/bin/python scripts/cleanup_test_run.py "$SKYMESH_TEST_RUN" || true' EXIT

workers=${SKYMESH_TEST_WORKERS:-2}
say "pytest: unit and functional tiers ($workers workers, run $SKYMESH_TEST_RUN)"
.venv/bin/pytest -p no:cacheprovider -n "$workers" --dist loadfile -q tests/unit tests/functional "$@"

# The integration tier drives the real stack (OVS/OVN daemons, namespaces) as root; the
# scripts in scripts/stack/ install what is missing and each test run starts and stops
# its own private daemons.
if [ "${SKYMESH_SKIP_INTEGRATION:-0}" = 1 ]; then
    say "integration tier skipped (SKYMESH_SKIP_INTEGRATION=1)"
    exit 0
fi
[ "$(id -u)" = 0 ] || die "the integration tier needs root (network namespaces, OVS, libvirtd); run as root, or set SKYMESH_SKIP_INTEGRATION=1 to skip it knowingly"
say "integration tier: real OVS/OVN, namespaces, libvirt/QEMU guests, Ceph, umockdev"
bash scripts/stack/ovn.sh install
bash scripts/stack/libvirt.sh install
bash scripts/stack/umockdev.sh install
bash scripts/stack/ceph.sh install
.venv/bin/pytest -p no:cacheprovider -n "$workers" --dist loadfile -q -m integration tests/integration
