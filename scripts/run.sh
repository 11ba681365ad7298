#!/usr/bin/env bash
# `make run`: set up what is missing (venv, PostgreSQL, RabbitMQ, the database and the
# vhost), migrate, and start the control plane in the foreground. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

bash scripts/bootstrap.sh
bash scripts/services.sh
export SKYMESH_HOME=${SKYMESH_HOME:-$PWD/.skymesh}
mkdir -p "$SKYMESH_HOME"
exec .venv/bin/skymesh up "$@"
