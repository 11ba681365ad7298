#!/usr/bin/env bash
# libvirtd + virtlogd for QEMU guests under software emulation (TCG).
#
#   scripts/stack/libvirt.sh install   apt-install what is missing (names the -sysv package so
#                                      apt does not pull systemd)
#   scripts/stack/libvirt.sh up        set qemu.conf user/group to root, start virtlogd and
#                                      libvirtd daemonised when not running, record their PIDs
#   scripts/stack/libvirt.sh down      stop only the daemons that `up` started, by PID
#   scripts/stack/libvirt.sh status    say what runs and who started it
#
# All idempotent; root only. libvirtd is machine-wide: callers (tests) tag their own domains and
# clean them up; `down` never touches domains. libvirt's `default` network is never started.
# State (PID files): $SKYMESH_STACK_STATE/libvirt, default /run/skymesh/libvirt.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

STATE=${SKYMESH_STACK_STATE:-/run/skymesh}/libvirt
QEMU_CONF=/etc/libvirt/qemu.conf
URI=qemu:///system
PACKAGES=(libvirt-daemon-system libvirt-daemon-system-sysv libvirt-daemon-driver-qemu
    libvirt-clients qemu-system-x86 qemu-block-extra qemu-utils busybox-static cpio genisoimage)

# pid_alive PIDFILE: the PID in the file names a live, non-zombie process.
pid_alive() {
    local pid state
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# running NAME: a live process of exactly that name runs, whoever started it (zombies, which
# PID 1 reaps slowly here, do not count).
running() { pgrep -x -r R,S,D "$1" >/dev/null; }

cmd_install() {
    apt_install "${PACKAGES[@]}"
}

# Without these, libvirt re-probes QEMU on every define (about 40 s) because /dev/kvm is
# root-only and the probe runs as libvirt-qemu.
configure_qemu_conf() {
    [ -f "$QEMU_CONF" ] || die "$QEMU_CONF is missing: run '$0 install' first"
    local key
    for key in user group; do
        if ! grep -Eq "^${key} = \"root\"" "$QEMU_CONF"; then
            sed -i -E "/^${key}\s*=/d" "$QEMU_CONF"
            printf '%s = "root"\n' "$key" >>"$QEMU_CONF"
            say "qemu.conf: ${key} = \"root\""
        fi
    done
}

# libvirt-daemon-config-network marks `default` for autostart; it would create virbr0, run
# dnsmasq and add firewall rules on this shared machine. Drop the autostart link only.
disable_default_network_autostart() {
    local link=/etc/libvirt/qemu/networks/autostart/default.xml
    if [ -e "$link" ] || [ -L "$link" ]; then
        rm -f "$link"
        say "libvirt network 'default': autostart disabled"
    fi
}

wait_for_uri() {
    for _ in $(seq 150); do
        virsh -q -c "$URI" version >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "libvirtd did not answer on $URI within 30 s (see $STATE/libvirtd.log)"
}

# start_daemon NAME ARGS...: start NAME daemonised with a PID file in $STATE unless a process of
# that name already runs; record the PID only when we started it.
start_daemon() {
    local name=$1; shift
    if pid_alive "$STATE/$name.pid"; then return 0; fi
    rm -f "$STATE/$name.pid"
    if running "$name"; then
        say "$name already runs (not started by this script; 'down' leaves it)"
        return 0
    fi
    # Never let a daemon inherit the caller's stdout/stderr: a caller reading them through a
    # pipe (pytest's subprocess.run) would wait until the daemon closes them (about 8 s).
    "$name" -d -p "$STATE/$name.pid" "$@" </dev/null >>"$STATE/$name.log" 2>&1
    for _ in $(seq 50); do pid_alive "$STATE/$name.pid" && break; sleep 0.1; done
    pid_alive "$STATE/$name.pid" || die "$name did not start"
    say "$name started (pid $(cat "$STATE/$name.pid"))"
}

cmd_up() {
    is_root || die "libvirt.sh up must run as root"
    command -v libvirtd >/dev/null || die "libvirtd is not installed: run '$0 install' first"
    mkdir -p "$STATE"
    configure_qemu_conf
    disable_default_network_autostart
    start_daemon virtlogd
    start_daemon libvirtd
    wait_for_uri
}

# stop_daemon NAME: stop the daemon whose PID `up` recorded; wait for its PID file to vanish
# (PID 1 reaps slowly here, so kill -0 would see a zombie).
stop_daemon() {
    local name=$1 pidfile=$STATE/$1.pid pid
    [ -f "$pidfile" ] || return 0
    if pid_alive "$pidfile"; then
        pid=$(cat "$pidfile")
        kill -TERM "$pid"
        for _ in $(seq 100); do pid_alive "$pidfile" || break; sleep 0.1; done
        if pid_alive "$pidfile"; then
            say "$name (pid $pid) ignored SIGTERM for 10 s: killing it"
            kill -KILL "$pid" || true
        fi
        say "$name stopped (pid $pid)"
    fi
    rm -f "$pidfile"
}

cmd_down() {
    stop_daemon libvirtd
    stop_daemon virtlogd
}

cmd_status() {
    local name
    for name in virtlogd libvirtd; do
        if pid_alive "$STATE/$name.pid"; then
            echo "$name: running, started by libvirt.sh (pid $(cat "$STATE/$name.pid"))"
        elif running "$name"; then
            echo "$name: running, not started by libvirt.sh"
        else
            echo "$name: not running"
        fi
    done
}

case ${1:-} in
    install) cmd_install ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) die "usage: $0 install|up|down|status" ;;
esac
