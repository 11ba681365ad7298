#!/usr/bin/env bash
# umockdev: fake PCI/SR-IOV device trees for the PCI integration tests.
#
#   scripts/stack/umockdev.sh install   apt-install umockdev, its GObject introspection data and
#                                       Debian's python3-gi, and expose `gi` (only that package)
#                                       to the project's venv through a .pth file naming a folder
#                                       of symlinks (.venv/debian-gi)
#   scripts/stack/umockdev.sh status    say whether the venv can drive UMockdev.Testbed
#
# Idempotent. Nothing runs in the background: each test starts its own testbed in a child
# process under `umockdev-wrapper` (LD_PRELOAD=libumockdev-preload.so.0), which makes libudev,
# and so pyudev, see the testbed's /sys instead of the machine's.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

PACKAGES=(umockdev gir1.2-umockdev-1.0 python3-gi)
VENV_PY=.venv/bin/python
LINKS=.venv/debian-gi
PTH_NAME=skymesh-debian-gi.pth

cmd_install() {
    [ -x "$VENV_PY" ] || die "no venv at .venv: run scripts/bootstrap.sh first"
    # parallel test workers may call this at once
    exec 9>.venv/.skymesh-umockdev-install.lock
    flock 9
    apt_install "${PACKAGES[@]}"
    local ver dist
    ver=$("$VENV_PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    dist=/usr/lib/python3/dist-packages
    compgen -G "$dist/gi/_gi.cpython-${ver//./}*.so" >/dev/null \
        || die "Debian's python3-gi has no build for Python $ver (the venv's Python)"
    mkdir -p "$LINKS"
    ln -sfn "$dist/gi" "$LINKS/gi"
    local site
    site=$("$VENV_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    printf '%s\n' "$(cd "$LINKS" && pwd)" >"$site/$PTH_NAME"
    cmd_status
}

cmd_status() {
    if umockdev-wrapper "$VENV_PY" -c '
import gi
gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev
UMockdev.Testbed.new()
' 2>/dev/null; then
        say "umockdev: the venv drives UMockdev.Testbed"
    else
        die "umockdev: the venv cannot import gi/UMockdev: run '$0 install'"
    fi
}

case "${1:-}" in
install) cmd_install ;;
status) cmd_status ;;
*) die "usage: $0 install|status" ;;
esac
