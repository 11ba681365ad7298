"""libvirt lifecycle events on the asyncio loop (libvirtaio).

libvirt accepts one event loop implementation per process, for the life of the
process, so the first agent loop that opens a connection owns it: a second asyncio loop
in the same process cannot receive libvirt events (tests of the libvirt driver share
one session-scoped loop for that reason).
"""

from __future__ import annotations

import asyncio
from typing import Any

import libvirt
import libvirtaio

from node_agent.drivers.errors import DriverError

# virDomainEventType -> its detail names, by detail number (libvirt-domain.h).
DETAILS: dict[int, tuple[str, ...]] = {
    libvirt.VIR_DOMAIN_EVENT_DEFINED: ("added", "updated", "renamed", "from_snapshot"),
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: ("removed", "renamed"),
    libvirt.VIR_DOMAIN_EVENT_STARTED: ("booted", "migrated", "restored", "from_snapshot", "wakeup"),
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: (
        "paused",
        "migrated",
        "ioerror",
        "watchdog",
        "restored",
        "from_snapshot",
        "api_error",
        "postcopy",
        "postcopy_failed",
    ),
    libvirt.VIR_DOMAIN_EVENT_RESUMED: ("unpaused", "migrated", "from_snapshot", "postcopy"),
    libvirt.VIR_DOMAIN_EVENT_STOPPED: (
        "shutdown",
        "destroyed",
        "crashed",
        "migrated",
        "saved",
        "failed",
        "from_snapshot",
    ),
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: ("finished", "guest", "host"),
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: ("memory", "disk"),
    libvirt.VIR_DOMAIN_EVENT_CRASHED: ("panicked", "crashloaded"),
}


def detail_name(event: int, detail: int) -> str:
    names = DETAILS.get(event, ())
    return names[detail] if 0 <= detail < len(names) else str(detail)


def _quiet(_ctx: Any, _err: Any) -> None:
    """libvirt prints every error to stderr unless a handler takes them; we raise them."""


def ensure_event_impl() -> None:
    """Register libvirtaio on the running loop (once per process)."""
    loop = asyncio.get_running_loop()
    impl = libvirtaio.getCurrentImpl()
    if impl is None:
        libvirt.registerErrorHandler(_quiet, None)
        libvirtaio.virEventRegisterAsyncIOImpl(loop=loop)
        return
    if impl.loop is not loop:
        raise DriverError(
            "libvirt events are bound to another asyncio loop of this process; "
            "run the libvirt driver on one loop per process"
        )
