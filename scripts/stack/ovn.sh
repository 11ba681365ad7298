#!/usr/bin/env bash
# A private Open vSwitch + OVN stack in one directory, for tests and demos (root only).
#
#   ovn.sh install                  install the Debian packages that are missing
#   ovn.sh up DIR [--chassis N]     start NB, SB, northd and N chassis; write DIR/env
#   ovn.sh down DIR                 stop all of it by PID and delete its namespaces
#
# Everything lives under DIR: databases, unix sockets, logs, pidfiles. The central part
# (NB and SB ovsdb-servers, ovn-northd) runs in the caller's namespace and listens only on
# unix sockets in DIR. Each chassis (ovsdb-server, ovs-vswitchd, ovn-controller) runs in its
# own network namespace, so its bridges (br-int, br-ul) never meet another run's. With two
# or more chassis an underlay joins them: a veth pair (two chassis) or veths into a Linux
# bridge in a hub namespace (more), each chassis end on a netdev bridge br-ul that carries
# the chassis's Geneve address (userspace tunnels need the address on an OVS bridge).
# Names carry a short suffix derived from DIR, so runs in parallel never clash.
# Both up and down are idempotent; down also cleans up after an up that failed halfway.
set -euo pipefail
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"

VSWITCH_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
NB_SCHEMA=/usr/share/ovn/ovn-nb.ovsschema
SB_SCHEMA=/usr/share/ovn/ovn-sb.ovsschema
UNDERLAY_NET=10.254.0   # private to the run's namespaces, so every run may use it
WAIT=20                 # seconds to wait for a daemon or a registration

usage() { sed -n '2,6s/^# \{0,1\}//p' "$0" >&2; exit 2; }

cmd_install() {
    apt_install openvswitch-switch ovn-central ovn-host iputils-ping nftables ethtool iproute2 tcpdump
    # tests' guests use busybox (udhcpc, nc). busybox and busybox-static conflict, and the
    # QEMU guest's initramfs needs the static one, which serves the tests just as well
    command -v busybox >/dev/null || apt_install busybox-static
}

# ---- names, all derived from DIR -------------------------------------------------------

set_names() {
    DIR=$(realpath -m "$1")
    # unix socket paths are limited to 107 bytes; the longest is DIR/cN/ovn-controller.PID.ctl
    [ ${#DIR} -le 64 ] || die "DIR is too long for unix sockets (${#DIR} > 64 chars): $DIR"
    SFX=$(printf '%s' "$DIR" | sha1sum | cut -c1-6)
    PREFIX="skm-$SFX"           # namespaces: $PREFIX-c1, $PREFIX-hub, guests $PREFIX-g-*
    NB_SOCK=$DIR/nb.sock
    SB_SOCK=$DIR/sb.sock
}
chassis_dir() { echo "$DIR/c$1"; }
chassis_ns() { echo "$PREFIX-c$1"; }
chassis_name() { echo "$PREFIX-c$1"; }
hub_ns() { echo "$PREFIX-hub"; }
underlay_if() { echo "sm${SFX}u$1"; }   # chassis end of the underlay veth (15 chars max)
hub_if() { echo "sm${SFX}h$1"; }        # hub end (three chassis or more)

# ---- processes --------------------------------------------------------------------------

pid_alive() {  # pid_alive PIDFILE: the pidfile names a live, non-zombie daemon of this run
    local pid state
    pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] || return 1
    # a stale pidfile may name a PID reused by another process: ours all name a path in DIR
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$DIR/"* ]]
}

start_daemon() {  # start_daemon PIDFILE LOGFILE NETNS|- CMD...: start unless already running
    local pidfile=$1 logfile=$2 ns=$3
    shift 3
    pid_alive "$pidfile" && return 0
    local run=("$@" --pidfile="$pidfile" --log-file="$logfile" --detach --no-chdir)
    if [ "$ns" != - ]; then run=(ip netns exec "$ns" "${run[@]}"); fi
    "${run[@]}" 2>>"$logfile" || { tail -n 20 "$logfile" >&2; die "could not start $1"; }
}

stop_daemon() {  # stop_daemon PIDFILE: SIGTERM by PID, wait for the pidfile to vanish
    local pidfile=$1 pid i
    pid=$(cat "$pidfile" 2>/dev/null) && [ -n "$pid" ] || { rm -f "$pidfile"; return 0; }
    if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
    kill -TERM "$pid" 2>/dev/null || true
    # an exited daemon may stay a zombie for seconds: its pidfile going away is the signal
    for ((i = 0; i < 100; i++)); do
        [ -e "$pidfile" ] || return 0
        pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
        sleep 0.05
    done
    say "pid $pid ($pidfile) ignored SIGTERM for 5 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

# ---- up ---------------------------------------------------------------------------------

ensure_db() {  # ensure_db FILE SCHEMA
    [ -f "$1" ] || ovsdb-tool create "$1" "$2"
}

ensure_netns() {
    ip netns list | awk '{print $1}' | grep -qx "$1" || ip netns add "$1"
    ip -n "$1" link set lo up
}

start_central() {
    ensure_db "$DIR/nb.db" "$NB_SCHEMA"
    ensure_db "$DIR/sb.db" "$SB_SCHEMA"
    start_daemon "$DIR/nb.pid" "$DIR/nb.log" - ovsdb-server "$DIR/nb.db" \
        --remote=punix:"$NB_SOCK" --unixctl="$DIR/nb.ctl"
    start_daemon "$DIR/sb.pid" "$DIR/sb.log" - ovsdb-server "$DIR/sb.db" \
        --remote=punix:"$SB_SOCK" --unixctl="$DIR/sb.ctl"
    ovn-nbctl --db=unix:"$NB_SOCK" --timeout=$WAIT --no-wait init
    ovn-sbctl --db=unix:"$SB_SOCK" --timeout=$WAIT init
    start_daemon "$DIR/northd.pid" "$DIR/northd.log" - ovn-northd \
        --ovnnb-db=unix:"$NB_SOCK" --ovnsb-db=unix:"$SB_SOCK" --unixctl="$DIR/northd.ctl"
}

encap_ip() {  # the Geneve address of chassis N
    if [ "$NCHASSIS" -eq 1 ]; then echo 127.0.0.1; else echo "$UNDERLAY_NET.$1"; fi
}

ensure_underlay() {  # veths between the chassis namespaces (two chassis or more)
    local n ns
    [ "$NCHASSIS" -ge 2 ] || return 0
    if [ "$NCHASSIS" -eq 2 ]; then
        ip -n "$(chassis_ns 1)" link show "$(underlay_if 1)" >/dev/null 2>&1 ||
            ip link add "$(underlay_if 1)" netns "$(chassis_ns 1)" type veth \
                peer name "$(underlay_if 2)" netns "$(chassis_ns 2)"
    else
        ns=$(hub_ns)
        ensure_netns "$ns"
        ip -n "$ns" link show ul >/dev/null 2>&1 || ip -n "$ns" link add ul type bridge
        ip -n "$ns" link set ul up
        for ((n = 1; n <= NCHASSIS; n++)); do
            ip -n "$(chassis_ns "$n")" link show "$(underlay_if "$n")" >/dev/null 2>&1 ||
                ip link add "$(underlay_if "$n")" netns "$(chassis_ns "$n")" type veth \
                    peer name "$(hub_if "$n")" netns "$ns"
            ip -n "$ns" link set "$(hub_if "$n")" master ul up
        done
    fi
    for ((n = 1; n <= NCHASSIS; n++)); do
        ip -n "$(chassis_ns "$n")" link set "$(underlay_if "$n")" up
    done
}

start_chassis() {  # start_chassis N: ovsdb-server, ovs-vswitchd, ovn-controller in netns N
    local n=$1 d ns db vsctl
    d=$(chassis_dir "$n")
    # every daemon of the chassis finds the others' sockets (br-int.mgmt...) in its own rundir
    local -x OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVN_RUNDIR=$d OVN_LOGDIR=$d
    ns=$(chassis_ns "$n")
    db=unix:$d/db.sock
    vsctl=(ovs-vsctl --db="$db" --timeout=$WAIT)
    mkdir -p "$d"
    ensure_db "$d/conf.db" "$VSWITCH_SCHEMA"
    start_daemon "$d/ovsdb-server.pid" "$d/ovsdb-server.log" "$ns" ovsdb-server "$d/conf.db" \
        --remote=punix:"$d/db.sock" --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
        --unixctl="$d/ovsdb-server.ctl"
    "${vsctl[@]}" --no-wait init
    "${vsctl[@]}" --no-wait set Open_vSwitch . \
        external_ids:system-id="$(chassis_name "$n")" \
        external_ids:hostname="$(chassis_name "$n")" \
        external_ids:ovn-remote=unix:"$SB_SOCK" \
        external_ids:ovn-encap-type=geneve \
        external_ids:ovn-encap-ip="$(encap_ip "$n")" \
        external_ids:ovn-bridge-datapath-type=netdev
    start_daemon "$d/ovs-vswitchd.pid" "$d/ovs-vswitchd.log" "$ns" ovs-vswitchd "$db" \
        --unixctl="$d/ovs-vswitchd.ctl"
    if [ "$NCHASSIS" -ge 2 ]; then
        # the Geneve address sits on br-ul, whose uplink is the underlay veth
        "${vsctl[@]}" --may-exist add-br br-ul -- set Bridge br-ul datapath_type=netdev \
            -- --may-exist add-port br-ul "$(underlay_if "$n")"
        ip -n "$ns" link set br-ul up
        ip -n "$ns" addr replace "$(encap_ip "$n")/24" dev br-ul
    fi
    # ovn-controller 23.03 has no --unixctl: its socket is $OVN_RUNDIR/ovn-controller.PID.ctl
    start_daemon "$d/ovn-controller.pid" "$d/ovn-controller.log" \
        "$ns" ovn-controller "$db"
}

wait_chassis() {  # wait_chassis N: registered in SB, br-int created as a netdev bridge
    local n=$1 d
    d=$(chassis_dir "$n")
    ovn-sbctl --db=unix:"$SB_SOCK" --timeout=$WAIT wait-until Chassis "$(chassis_name "$n")" \
        >/dev/null || die "chassis $n did not register in SB (see $d/ovn-controller.log)"
    ovs-vsctl --db=unix:"$d/db.sock" --timeout=$WAIT wait-until Bridge br-int \
        datapath_type=netdev >/dev/null || die "chassis $n has no netdev br-int"
}

write_env() {
    local n d f=$DIR/env.tmp
    {
        echo "# written by scripts/stack/ovn.sh up; source it"
        echo "OVN_STACK_DIR=$DIR"
        echo "OVN_STACK_SUFFIX=$SFX"
        echo "OVN_STACK_PREFIX=$PREFIX"
        echo "OVN_NB_DB=unix:$NB_SOCK"
        echo "OVN_SB_DB=unix:$SB_SOCK"
        echo "OVN_NB_PID=$(cat "$DIR/nb.pid")"
        echo "OVN_SB_PID=$(cat "$DIR/sb.pid")"
        echo "OVN_NORTHD_PID=$(cat "$DIR/northd.pid")"
        echo "OVN_CHASSIS_COUNT=$NCHASSIS"
        if [ "$NCHASSIS" -ge 3 ]; then echo "OVN_HUB_NETNS=$(hub_ns)"; fi
        for ((n = 1; n <= NCHASSIS; n++)); do
            d=$(chassis_dir "$n")
            echo "OVN_CHASSIS_${n}_NAME=$(chassis_name "$n")"
            echo "OVN_CHASSIS_${n}_NETNS=$(chassis_ns "$n")"
            echo "OVN_CHASSIS_${n}_OVS_DB=unix:$d/db.sock"
            echo "OVN_CHASSIS_${n}_RUNDIR=$d"
            echo "OVN_CHASSIS_${n}_ENCAP_IP=$(encap_ip "$n")"
            echo "OVN_CHASSIS_${n}_OVSDB_PID=$(cat "$d/ovsdb-server.pid")"
            echo "OVN_CHASSIS_${n}_VSWITCHD_PID=$(cat "$d/ovs-vswitchd.pid")"
            echo "OVN_CHASSIS_${n}_CONTROLLER_PID=$(cat "$d/ovn-controller.pid")"
        done
        echo "export OVN_NB_DB OVN_SB_DB"
    } >"$f"
    mv "$f" "$DIR/env"
}

cmd_up() {
    local n
    [ $# -ge 1 ] || usage
    set_names "$1"
    shift
    NCHASSIS=1
    while [ $# -gt 0 ]; do
        case $1 in
            --chassis) NCHASSIS=${2:?--chassis needs a number}; shift 2 ;;
            *) usage ;;
        esac
    done
    [[ $NCHASSIS =~ ^[1-9]$ ]] || die "--chassis must be 1-9"
    is_root || die "ovn.sh up needs root (namespaces, veths, ovs-vswitchd)"
    command -v ovn-controller >/dev/null || die "OVN is not installed: run ovn.sh install"
    mkdir -p "$DIR"
    # a different chassis count in the same DIR would leave namespaces behind: refuse
    if [ -f "$DIR/chassis-count" ] && [ "$(cat "$DIR/chassis-count")" != "$NCHASSIS" ]; then
        die "$DIR already holds a stack with $(cat "$DIR/chassis-count") chassis: down it first"
    fi
    echo "$NCHASSIS" >"$DIR/chassis-count"
    export OVS_RUNDIR=$DIR OVS_LOGDIR=$DIR OVS_DBDIR=$DIR OVN_RUNDIR=$DIR OVN_LOGDIR=$DIR
    start_central
    for ((n = 1; n <= NCHASSIS; n++)); do ensure_netns "$(chassis_ns "$n")"; done
    ensure_underlay
    for ((n = 1; n <= NCHASSIS; n++)); do start_chassis "$n"; done
    for ((n = 1; n <= NCHASSIS; n++)); do wait_chassis "$n"; done
    write_env
}

# ---- down -------------------------------------------------------------------------------

run_netns() {  # the namespaces of this run: chassis, hub and any guest left behind
    ip netns list | awk '{print $1}' | grep "^$PREFIX-" || true
}

cmd_down() {
    local d ns
    [ $# -eq 1 ] || usage
    set_names "$1"
    is_root || die "ovn.sh down needs root"
    shopt -s nullglob
    # ovn-controller first, so nothing re-creates br-int or the tunnel ports
    for d in "$DIR"/c[0-9]*; do stop_daemon "$d/ovn-controller.pid"; done
    for d in "$DIR"/c[0-9]*; do
        # bridges are persistent tap devices that outlive ovs-vswitchd: delete them first
        if pid_alive "$d/ovsdb-server.pid" && pid_alive "$d/ovs-vswitchd.pid"; then
            local br
            for br in $(ovs-vsctl --db=unix:"$d/db.sock" --timeout=5 list-br); do
                ovs-vsctl --db=unix:"$d/db.sock" --timeout=5 --if-exists del-br "$br" ||
                    say "could not delete bridge $br of $d (its namespace goes anyway)"
            done
        fi
        stop_daemon "$d/ovs-vswitchd.pid"
        stop_daemon "$d/ovsdb-server.pid"
    done
    stop_daemon "$DIR/northd.pid"
    stop_daemon "$DIR/sb.pid"
    stop_daemon "$DIR/nb.pid"
    # chassis, hub and guest namespaces; deleting one deletes the veths that end in it
    for ns in $(run_netns); do ip netns delete "$ns" || say "could not delete netns $ns"; done
    rm -f "$DIR/env" "$DIR/chassis-count"
    # a link of this run in the caller's namespace would be a leak from a failed veth move
    local link
    for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^sm$SFX" || true); do
        ip link delete "$link" 2>/dev/null || true
    done
}

case ${1:-} in
    install) shift; cmd_install "$@" ;;
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down "$@" ;;
    *) usage ;;
esac
