"""libvirtd + virtlogd and the test guest for `skymesh up --hypervisor qemu`.

`up` installs what is missing and starts libvirtd and virtlogd with scripts/stack/libvirt.sh
(PID files under `$SKYMESH_HOME/stack/qemu/libvirt`; daemons that already run, started by
anyone else, are used as they are and never stopped), then builds the busybox test guest
(scripts/stack/guest.sh: Debian's kernel + a busybox initramfs) in a cache shared by all
homes (`$SKYMESH_GUEST_CACHE`, default `~/.cache/skymesh/guest`) and links it as
`$SKYMESH_HOME/stack/qemu/guest`, where the QEMU driver of the compute agents finds it
(node_agent/drivers/hypervisor/qemu.py: images without kernel properties, like the seeded
`busybox`, boot that kernel and initramfs with the image as their root disk).

`SKYMESH_LIBVIRT_URI` points the agents at another libvirt (nothing is started then).

`down` destroys and undefines the domains whose files live in this home (the agents of
this home made them; agents of other homes sharing the libvirtd are left alone), then stops
the daemons `up` started, unless libvirtd still has other domains (another home's, a test
run's): then they stay up for those.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Mapping
from pathlib import Path

from corebus import up_stacks

REPO = Path(__file__).resolve().parents[1]
LIBVIRT_SH = REPO / "scripts" / "stack" / "libvirt.sh"
GUEST_SH = REPO / "scripts" / "stack" / "guest.sh"
LOCAL_URI = "qemu:///system"


def _stack_dir(home: Path) -> Path:
    return home / "stack" / "qemu"


class QemuStack:
    name = "libvirt/QEMU"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.external = env.get("SKYMESH_LIBVIRT_URI") or None
        self.uri = self.external or LOCAL_URI
        cache = env.get("SKYMESH_GUEST_CACHE")
        self.guest_cache = Path(cache) if cache else Path.home() / ".cache" / "skymesh" / "guest"

    async def up(self, home: Path) -> None:
        directory = _stack_dir(home)
        directory.mkdir(parents=True, exist_ok=True)
        if self.external is None:
            await up_stacks.run_script(LIBVIRT_SH, "install", timeout=900)
            await up_stacks.run_script(LIBVIRT_SH, "up", env=self._env(home), timeout=120)
        await up_stacks.run_script(GUEST_SH, "build", str(self.guest_cache), timeout=900)
        link = directory / "guest"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(self.guest_cache.resolve(), target_is_directory=True)

    def agent_args(self, role: str, host: str) -> tuple[str, ...]:
        return ("--libvirt-uri", self.uri) if role == "compute" else ()

    async def down(self, home: Path) -> None:
        await asyncio.to_thread(remove_domains_under, self.uri, home)
        if self.external is None and not await asyncio.to_thread(_in_use_by_others, self.uri):
            await up_stacks.run_script(LIBVIRT_SH, "down", env=self._env(home), timeout=120)
        with contextlib.suppress(FileNotFoundError):
            (_stack_dir(home) / "guest").unlink()

    def _env(self, home: Path) -> dict[str, str]:
        return {"SKYMESH_STACK_STATE": str(_stack_dir(home))}


def remove_domains_under(uri: str, home: Path) -> list[str]:
    """Destroy and undefine every domain whose definition names a file under `home`."""
    try:
        import libvirt
    except ImportError:  # pragma: no cover - libvirt-python is a dependency
        return []
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return []  # libvirtd does not run: nothing can run either
    removed = []
    try:
        for dom in conn.listAllDomains():
            with contextlib.suppress(libvirt.libvirtError):
                if str(home.resolve()) + "/" not in dom.XMLDesc(0):
                    continue
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
                removed.append(dom.name())
    finally:
        conn.close()
    return removed


def _test_sessions_active() -> bool:
    """Integration test sessions hold /run/skymesh/libvirt/users.lock shared while they use
    libvirtd (tests/integration/compute/libvirt_stack.py)."""
    lock = Path(os.environ.get("SKYMESH_STACK_STATE", "/run/skymesh")) / "libvirt" / "users.lock"
    if not lock.exists():
        return False
    with open(lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _in_use_by_others(uri: str) -> bool:
    """libvirtd still has domains (another home's, a test's), or a test session uses it:
    it stays up."""
    if _test_sessions_active():
        return True
    try:
        import libvirt

        conn = libvirt.open(uri)
    except Exception:
        return False
    try:
        return bool(conn.listAllDomains())
    finally:
        conn.close()
