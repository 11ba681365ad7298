#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ answer on 127.0.0.1. Used as they are where they answer;
# where absent and we are root on Debian, install and start them; otherwise say what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

PGHOST=${SKYMESH_PG_HOST:-127.0.0.1}; PGPORT=${SKYMESH_PG_PORT:-5432}
AMQPHOST=${SKYMESH_AMQP_HOST:-127.0.0.1}; AMQPPORT=${SKYMESH_AMQP_PORT:-5672}

wait_for() {  # wait_for WHAT SECONDS CMD...
    local what=$1 secs=$2; shift 2
    for _ in $(seq "$((secs * 5))"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    die "$what did not come up within ${secs}s"
}

ensure_postgres() {
    port_open "$PGHOST" "$PGPORT" && return 0
    is_root && is_debian || die "PostgreSQL does not answer on $PGHOST:$PGPORT: install and start it (Debian: apt-get install postgresql), with trust or password auth for 127.0.0.1"
    apt_install postgresql
    local ver; ver=$(ls /etc/postgresql | sort -n | tail -1)
    local hba=/etc/postgresql/$ver/main/pg_hba.conf
    # A developer machine: trust local and loopback connections, as on the project's machines.
    sed -i -E 's/^(local|host)(\s+all\s+all\s+.*)\s(peer|scram-sha-256|md5)$/\1\2 trust/' "$hba"
    say "starting PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    wait_for PostgreSQL 30 port_open "$PGHOST" "$PGPORT"
}

ensure_rabbitmq() {
    port_open "$AMQPHOST" "$AMQPPORT" && return 0
    is_root && is_debian || die "RabbitMQ does not answer on $AMQPHOST:$AMQPPORT: install and start it (Debian: apt-get install rabbitmq-server; rabbitmq-server -detached)"
    apt_install rabbitmq-server
    say "starting RabbitMQ"
    rabbitmq-server -detached || true
    wait_for RabbitMQ 60 rabbitmqctl -q status
    wait_for RabbitMQ 30 port_open "$AMQPHOST" "$AMQPPORT"
}

ensure_postgres
ensure_rabbitmq
