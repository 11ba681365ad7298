"""libvirtd + virtlogd for a test session, through scripts/stack/libvirt.sh.

libvirtd is machine-wide. A session that finds it not running starts it and leaves a note;
every session (each xdist worker is one) holds a shared lock in the state directory while it
uses the daemons; the last one out stops them with `libvirt.sh down`, but only if a test
session started them (a daemon that a person or another tool started is left alone).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LIBVIRT_SH = REPO / "scripts" / "stack" / "libvirt.sh"
GUEST_SH = REPO / "scripts" / "stack" / "guest.sh"
STATE = Path(os.environ.get("SKYMESH_STACK_STATE", "/run/skymesh")) / "libvirt"
URI = "qemu:///system"


def _script(*args: str | Path) -> str:
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


def _daemons_running() -> bool:
    status = _script(LIBVIRT_SH, "status")
    return "libvirtd: running" in status and "virtlogd: running" in status


def _others_domains() -> bool:
    """Whether libvirtd still has domains (someone else's, e.g. a `skymesh up`): then it
    stays up, whoever started it."""
    out = subprocess.run(
        ["virsh", "-q", "-c", URI, "list", "--all", "--name"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return any(line.strip() for line in out.splitlines())


@contextmanager
def running_libvirtd() -> Iterator[str]:
    """Install what is missing, make sure the daemons run, yield the URI; stop them at the
    end when a test session started them and no other session still uses them."""
    if os.geteuid() != 0:
        raise RuntimeError("the compute integration tests drive qemu:///system and need root")
    STATE.mkdir(parents=True, exist_ok=True)
    note = STATE / "started-by-tests"
    # setup.lock serialises start and stop; users.lock is held shared by every session
    # using the daemons, so the one that gets it exclusively at the end is the last one.
    with open(STATE / "setup.lock", "w") as setup, open(STATE / "users.lock", "w") as users:
        fcntl.flock(setup, fcntl.LOCK_EX)
        try:
            _script(LIBVIRT_SH, "install")
            if not _daemons_running():
                note.touch()
            _script(LIBVIRT_SH, "up")
            fcntl.flock(users, fcntl.LOCK_SH)
        finally:
            fcntl.flock(setup, fcntl.LOCK_UN)
        try:
            yield URI
        finally:
            fcntl.flock(setup, fcntl.LOCK_EX)
            fcntl.flock(users, fcntl.LOCK_UN)
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another session still uses the daemons: the last one stops them
            else:
                if note.exists() and not _others_domains():
                    _script(LIBVIRT_SH, "down")
                    note.unlink()
            fcntl.flock(setup, fcntl.LOCK_UN)


def build_guest(cache: Path) -> dict[str, str]:
    """Build (or reuse from `cache`) the guest kernel and initramfs; the script's key=value
    lines (kernel, initrd, kernel_version)."""
    out = _script(GUEST_SH, "build", cache)
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
