#!/usr/bin/env bash
# A private single-node Ceph cluster (one mon, one mgr, one memstore OSD) for RBD.
#
#   scripts/stack/ceph.sh install          apt-install the Ceph daemons and the rados/rbd
#                                          bindings if missing, and expose Debian's rados/rbd
#                                          extension modules to the project's venv
#   scripts/stack/ceph.sh up DIR [--cephx] start a cluster whose state lives in DIR, on free
#                                          ports chosen for this run; writes DIR/ceph.conf and
#                                          DIR/ceph.env (KEY=VALUE lines, also printed)
#   scripts/stack/ceph.sh down DIR         stop its OSD, mgr and mon by PID, remove DIR
#   scripts/stack/ceph.sh status DIR       say what runs
#
# Ports: free ones per run, unless SKYMESH_CEPH_MON_PORT (v1) / SKYMESH_CEPH_MON_PORT_V2 name them.
# All idempotent; root only. `up` on a running cluster prints its env again. Pools (size 1):
# $SKYMESH_CEPH_POOLS, default "rbd volumes images vms" (the pools the conductor names).
# With --cephx, auth is cephx and client.skymesh (profile rbd) gets a keyring in DIR;
# without it, auth is none. Ready in about 10-20 s; about 400 MB of memory.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

PROJECT=$(pwd)
PACKAGES=(ceph-mon ceph-osd ceph-mgr ceph-common python3-rbd python3-rados)
POOLS=${SKYMESH_CEPH_POOLS:-rbd volumes images vms}
CLIENT=skymesh
MARKER=".skymesh-ceph"  # marks DIR as ours, so `down` never removes anything else

# pid_alive PIDFILE: the PID in the file names a live, non-zombie process.
pid_alive() {
    local pid state
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# Debian's rados/rbd modules are built for CPython 3.11, as is the venv; exposing the whole
# dist-packages would drag Debian's other packages into the venv, so only these two .so files
# are linked into a folder that a .pth file names.
expose_bindings() {
    local venv=$PROJECT/.venv site dir so
    [ -x "$venv/bin/python" ] || { say "no venv at $venv yet: bindings not exposed"; return 0; }
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    dir=$site/skymesh-debian-ceph
    mkdir -p "$dir"
    for so in /usr/lib/python3/dist-packages/rados.cpython-3*.so \
        /usr/lib/python3/dist-packages/rbd.cpython-3*.so; do
        [ -e "$so" ] || die "$so is missing: python3-rados/python3-rbd not installed?"
        ln -sfn "$so" "$dir/$(basename "$so")"
    done
    echo "$dir" >"$site/skymesh-debian-ceph.pth"
    "$venv/bin/python" -c 'import rados, rbd' || die "the venv cannot import rados/rbd"
}

cmd_install() {
    apt_install "${PACKAGES[@]}"
    expose_bindings
}

free_port() {
    python3 corebus/netports.py  # below the ephemeral range: no client connection takes it
}

write_conf() {
    local dir=$1 auth=$2 v2=$3 v1=$4 fsid=$5
    cat >"$dir/ceph.conf" <<EOF
# written by scripts/stack/ceph.sh (a private single-node cluster)
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$v2,v1:127.0.0.1:$v1]
public_addr = 127.0.0.1
auth_cluster_required = $auth
auth_service_required = $auth
auth_client_required = $auth
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_autoscale_mode = off
ms_bind_ipv6 = false

[mon]
mon_data = $dir/mon.\$id

[mgr]
mgr_data = $dir/mgr.\$id

[osd]
osd_data = $dir/osd.\$id
osd_objectstore = memstore
memstore_device_bytes = 4294967296

[client]
# empty: concurrent clients of one user would clash on one socket
admin_socket =
log_file = $dir/log/client.log
keyring = $dir/\$name.keyring
EOF
}

ceph_() { timeout 60 ceph -c "$DIR/ceph.conf" --name client.admin "$@"; }

make_mon() {
    local v2=$1 v1=$2 fsid=$3 auth=$4
    monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$v2,v1:127.0.0.1:$v1]" \
        "$DIR/monmap" >/dev/null
    local keyring=()
    if [ "$auth" = cephx ]; then
        ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. \
            --cap mon 'allow *' >/dev/null
        ceph-authtool --create-keyring "$DIR/client.admin.keyring" --gen-key -n client.admin \
            --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' \
            >/dev/null
        ceph-authtool "$DIR/mon.keyring" --import-keyring "$DIR/client.admin.keyring" >/dev/null
        keyring=(--keyring "$DIR/mon.keyring")
    fi
    ceph-mon -c "$DIR/ceph.conf" --mkfs -i a --monmap "$DIR/monmap" "${keyring[@]}"
    ceph-mon -c "$DIR/ceph.conf" -i a </dev/null >>"$DIR/log/daemons.log" 2>&1
}

make_mgr() {
    local auth=$1
    mkdir -p "$DIR/mgr.x"
    if [ "$auth" = cephx ]; then
        ceph_ auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
            -o "$DIR/mgr.x/keyring"
    fi
    ceph-mgr -c "$DIR/ceph.conf" -i x </dev/null >>"$DIR/log/daemons.log" 2>&1
}

make_osd() {
    local auth=$1 uuid key id
    uuid=$(cat /proc/sys/kernel/random/uuid)
    mkdir -p "$DIR/osd.0"
    if [ "$auth" = cephx ]; then
        key=$(ceph-authtool --gen-print-key)
        id=$(echo "{\"cephx_secret\": \"$key\"}" | ceph_ osd new "$uuid" -i -)
        ceph-authtool --create-keyring "$DIR/osd.$id/keyring" --name "osd.$id" \
            --add-key "$key" >/dev/null
    else
        id=$(ceph_ osd new "$uuid")
    fi
    [ "$id" = 0 ] || die "expected osd.0, got osd.$id"
    ceph-osd -c "$DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$uuid" >>"$DIR/log/daemons.log" 2>&1
    ceph-osd -c "$DIR/ceph.conf" -i 0 </dev/null >>"$DIR/log/daemons.log" 2>&1
}

wait_osd_up() {
    for _ in $(seq 300); do
        if ceph_ osd dump 2>/dev/null | grep -q '^osd.0 up'; then return 0; fi
        sleep 0.1
    done
    die "osd.0 did not come up within 30 s (see $DIR/log)"
}

make_pools() {
    local pool
    for pool in $POOLS; do
        ceph_ osd pool create "$pool" 8 8 >/dev/null 2>&1
        ceph_ osd pool set "$pool" size 1 --yes-i-really-mean-it >/dev/null 2>&1
        ceph_ osd pool application enable "$pool" rbd >/dev/null 2>&1
    done
    # a write blocks until the pool's placement groups are active: the cluster is usable
    for pool in $POOLS; do
        echo ready | timeout 60 rados -c "$DIR/ceph.conf" --name client.admin -p "$pool" \
            put skymesh-ready - || die "pool $pool is not writable (see $DIR/log)"
        timeout 60 rados -c "$DIR/ceph.conf" --name client.admin -p "$pool" rm skymesh-ready
    done
}

make_client() {
    ceph_ auth get-or-create "client.$CLIENT" mon 'profile rbd' osd 'profile rbd' \
        mgr 'profile rbd' -o "$DIR/client.$CLIENT.keyring"
}

write_env() {
    local auth=$1 v2=$2 v1=$3 user secret=""
    if [ "$auth" = cephx ]; then
        user=$CLIENT
        secret=$(ceph_ auth get-key "client.$CLIENT")
    else
        user=""
    fi
    cat >"$DIR/ceph.env" <<EOF
CEPH_CONF=$DIR/ceph.conf
CEPH_MON_HOST=127.0.0.1
CEPH_MON_PORT=$v1
CEPH_MON_PORT_V2=$v2
CEPH_POOL=${POOLS%% *}
CEPH_POOLS=$POOLS
CEPH_AUTH=$auth
CEPH_USER=$user
CEPH_KEYRING=${user:+$DIR/client.$user.keyring}
CEPH_SECRET=$secret
CEPH_PIDS=$(cat "$DIR/run/osd.0.pid" "$DIR/run/mgr.x.pid" "$DIR/run/mon.a.pid" | tr '\n' ' ')
EOF
}

cmd_up() {
    local auth=none v1 v2 fsid port
    [ "${1:-}" = --cephx ] && auth=cephx
    is_root || die "ceph.sh up must run as root"
    command -v ceph-mon >/dev/null || die "Ceph is not installed: run '$0 install' first"
    if pid_alive "$DIR/run/mon.a.pid" && [ -f "$DIR/ceph.env" ]; then
        cat "$DIR/ceph.env"
        return 0
    fi
    if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
        [ -f "$DIR/$MARKER" ] || die "$DIR exists and is not a cluster of ceph.sh"
        say "$DIR holds a cluster that is not (fully) running: removing it"
        cmd_down
    fi
    mkdir -p "$DIR/run" "$DIR/log"
    touch "$DIR/$MARKER"
    trap 'say "ceph up failed: stopping what started"; cmd_down' EXIT
    v2=${SKYMESH_CEPH_MON_PORT_V2:-$(free_port)}
    v1=${SKYMESH_CEPH_MON_PORT:-$(free_port)}
    while [ "$v1" = "$v2" ]; do v1=$(free_port); done
    for port in "$v1" "$v2"; do
        if port_open 127.0.0.1 "$port"; then die "port $port is in use: cannot start a monitor there"; fi
    done
    fsid=$(cat /proc/sys/kernel/random/uuid)
    write_conf "$DIR" "$auth" "$v2" "$v1" "$fsid"
    make_mon "$v2" "$v1" "$fsid" "$auth"
    make_mgr "$auth"
    make_osd "$auth"
    wait_osd_up
    make_pools
    [ "$auth" = cephx ] && make_client
    write_env "$auth" "$v2" "$v1"
    trap - EXIT
    say "ceph cluster up in $DIR (mon 127.0.0.1:$v1, auth $auth)"
    cat "$DIR/ceph.env"
}

stop_daemon() {
    local pidfile=$DIR/run/$1.pid pid
    [ -f "$pidfile" ] || return 0
    if pid_alive "$pidfile"; then
        pid=$(cat "$pidfile")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do pid_alive "$pidfile" || break; sleep 0.1; done
        if pid_alive "$pidfile"; then
            say "$1 (pid $pid) ignored SIGTERM for 10 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
            for _ in $(seq 50); do pid_alive "$pidfile" || break; sleep 0.1; done
        fi
    fi
    rm -f "$pidfile"
}

cmd_down() {
    [ -d "$DIR" ] || return 0
    [ -f "$DIR/$MARKER" ] || die "$DIR is not a cluster of ceph.sh: not touching it"
    stop_daemon osd.0
    stop_daemon mgr.x
    stop_daemon mon.a
    rm -rf "$DIR"
}

cmd_status() {
    local name
    [ -f "$DIR/ceph.conf" ] || { echo "no cluster in $DIR"; return 0; }
    for name in mon.a mgr.x osd.0; do
        if pid_alive "$DIR/run/$name.pid"; then
            echo "$name: running (pid $(cat "$DIR/run/$name.pid"))"
        else
            echo "$name: not running"
        fi
    done
}

usage() { die "usage: $0 install | up DIR [--cephx] | down DIR | status DIR"; }

cmd=${1:-}
case $cmd in
    install) cmd_install ;;
    up | down | status)
        [ -n "${2:-}" ] || usage
        mkdir -p "$(dirname "$2")"
        DIR=$(realpath -m "$2")
        shift 2
        "cmd_$cmd" "$@"
        ;;
    *) usage ;;
esac
