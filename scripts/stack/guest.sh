#!/usr/bin/env bash
# The test guest's artefacts: a kernel and a busybox initramfs for direct kernel boot.
#
#   scripts/stack/guest.sh build OUTDIR
#
# Writes OUTDIR/vmlinuz (the kernel file from Debian's linux-image-amd64 package, downloaded and
# unpacked, never installed), OUTDIR/initrd.img (a gzip'd cpio made here: static busybox, the
# init in scripts/stack/guest/init, and the kernel modules it loads, taken from that same kernel
# package) and OUTDIR/inputs (what they were built from); OUTDIR/debs keeps the kernel package.
# Rebuilds only when an input changed: the kernel package version, busybox-static's version, or
# these scripts. Safe to run concurrently (flock). Prints `kernel=PATH`, `initrd=PATH`, `kernel_version=VER` on stdout.
# Needs: apt-get, dpkg-deb, modinfo (kmod), cpio, gzip, busybox-static (scripts/stack/libvirt.sh
# install brings all of them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/../.."
. scripts/lib.sh

# Loaded in this order by the guest's init (dependencies found with modinfo are inserted before
# the module that needs them). virtio first, in the order that works (docs/real-stack-compute.md);
# crc32c_generic stands for ext4/jbd2's `crypto-crc32c` soft dependency, which nothing would
# request in a guest without modprobe.
MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
    failover net_failover virtio_net virtio_blk
    scsi_mod libata ata_piix cdrom sr_mod
    crc32c_generic crc16 mbcache jbd2 ext4 isofs fat vfat nls_cp437 nls_ascii nls_utf8
    evdev button)
KERNEL_META=linux-image-amd64

# kernel_package: "NAME VERSION" of the kernel image that linux-image-amd64 depends on now.
kernel_package() {
    local dep
    dep=$(apt-cache show --no-all-versions "$KERNEL_META" 2>/dev/null | sed -n 's/^Depends: //p' \
        | head -n1)
    if [ -z "$dep" ] && is_root; then
        apt-get update -qq >/dev/null
        dep=$(apt-cache show --no-all-versions "$KERNEL_META" | sed -n 's/^Depends: //p' | head -n1)
    fi
    [ -n "$dep" ] || return 1
    # "linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
    echo "$dep" | sed -E 's/^([^ ,]+) \(= ([^)]+)\).*/\1 \2/'
}

inputs_key() {  # inputs_key KERNEL_PKG KERNEL_VER
    local bb
    bb=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null) \
        || die "busybox-static is not installed: run scripts/stack/libvirt.sh install"
    {
        echo "kernel=$1=$2"
        echo "busybox-static=$bb"
        echo "modules=${MODULES[*]}"
        cat "$HERE/guest.sh" "$HERE/guest/init" "$HERE/guest/udhcpc.script" | sha256sum | cut -c1-16
    }
}

# order_modules MODDIR: print MODULES with their modinfo dependencies first, each once.
declare -A SEEN=() KO=()
emit_module() {
    local name=${1//-/_} dep
    [ -n "${SEEN[$name]:-}" ] && return 0
    [ -n "${KO[$name]:-}" ] || die "kernel module $name is not in the kernel package"
    SEEN[$name]=1
    for dep in $(modinfo -F depends "${KO[$name]}" | tr ',' ' '); do emit_module "$dep"; done
    echo "$name"
}
order_modules() {
    local f base
    while IFS= read -r f; do base=$(basename "$f" .ko); KO[${base//-/_}]=$f; done \
        < <(find "$1" -name '*.ko')
    for f in "${MODULES[@]}"; do emit_module "$f"; done
}

# build_into OUTDIR TMP PKG VER: download and unpack the kernel package, assemble the initramfs.
build_into() {
    local out=$1 tmp=$2 pkg=$3 ver=$4 root kver m
    local debs=$out/debs deb
    # Keep the kernel package itself, so a change to the init alone does not download it again.
    deb=$(ls "$debs/${pkg}_${ver#*:}_"*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        say "guest: downloading $pkg $ver"
        rm -rf "$debs" && mkdir -p "$debs"
        (cd "$debs" && apt-get download -q=2 "$pkg=$ver" 2>/dev/null) \
            || die "apt-get download $pkg=$ver failed"
        deb=$(ls "$debs/${pkg}_"*.deb)
    fi
    dpkg-deb -x "$deb" "$tmp/kpkg"
    kver=$(basename "$(ls -d "$tmp"/kpkg/lib/modules/*/)")
    cp "$tmp/kpkg/boot/vmlinuz-$kver" "$tmp/vmlinuz"
    echo "$kver" >"$tmp/kernel_version"

    root=$tmp/root
    mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,mnt,lib/modules}
    cp /bin/busybox "$root/bin/busybox"
    "$root/bin/busybox" --list | while read -r applet; do
        [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    order_modules "$tmp/kpkg/lib/modules/$kver" >"$root/etc/modules.order"
    while read -r m; do cp "${KO[$m]}" "$root/lib/modules/$m.ko"; done <"$root/etc/modules.order"
    install -m 0755 "$HERE/guest/init" "$root/init"
    install -m 0755 "$HERE/guest/udhcpc.script" "$root/etc/udhcpc.script"
    # The kernel opens /dev/console before running /init; only root can make the node (init
    # re-opens the console after mounting devtmpfs either way).
    if is_root; then mknod -m 600 "$root/dev/console" c 5 1; fi
    (cd "$root" && find . -print0 | LC_ALL=C sort -z \
        | cpio --null -o -H newc --owner 0:0 --quiet | gzip -9 >"$tmp/initrd.img")
    rm -rf "$tmp/kpkg" "$tmp/root"
}

cmd_build() {
    local out=$1 pkg="" ver="" key tmp
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    exec 9>"$out/.lock"
    flock 9
    if read -r pkg ver < <(kernel_package); then
        key=$(inputs_key "$pkg" "$ver")
    elif [ -f "$out/inputs" ]; then
        say "guest: cannot resolve $KERNEL_META (no apt lists?); using the cached artefacts"
        key=$(cat "$out/inputs")
    else
        die "cannot resolve $KERNEL_META: run apt-get update"
    fi
    if [ -f "$out/inputs" ] && [ "$(cat "$out/inputs")" = "$key" ] \
        && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then
        :
    else
        [ -n "$pkg" ] || die "the cached artefacts in $out are incomplete and $KERNEL_META cannot be resolved"
        tmp=$(mktemp -d "$out/.build.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        build_into "$out" "$tmp" "$pkg" "$ver"
        mv -f "$tmp/vmlinuz" "$out/vmlinuz"
        mv -f "$tmp/initrd.img" "$out/initrd.img"
        mv -f "$tmp/kernel_version" "$out/kernel_version"
        echo "$key" >"$out/inputs"
        rm -rf "$tmp"
        trap - EXIT
        say "guest: built $out (kernel $(cat "$out/kernel_version"))"
    fi
    echo "kernel=$out/vmlinuz"
    echo "initrd=$out/initrd.img"
    echo "kernel_version=$(cat "$out/kernel_version")"
}

case ${1:-} in
    build) [ $# -eq 2 ] || die "usage: $0 build OUTDIR"; cmd_build "$2" ;;
    *) die "usage: $0 build OUTDIR" ;;
esac
