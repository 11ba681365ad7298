"""Kernel events of the DVR namespaces: one pyroute2 socket per namespace bound to the link
and IPv4 address groups; a deleted link or address calls `on_loss(namespace)` so the driver
re-creates what its plans need."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from pyroute2.netlink.rtnl import RTMGRP_IPV4_IFADDR, RTMGRP_LINK

from node_agent.drivers.dvr.kernel import iproute

log = logging.getLogger(__name__)
LOSSES = {"RTM_DELLINK", "RTM_DELADDR"}
HOST = ""  # the key of the agent's own namespace


class KernelWatch:
    def __init__(self, on_loss: Callable[[str], None]) -> None:
        self._on_loss = on_loss
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def sync(self, namespaces: set[str]) -> None:
        """Watch exactly `namespaces` (HOST: the agent's own namespace)."""
        for name in set(self._tasks) - namespaces:
            await self._stop(name)
        for name in namespaces - set(self._tasks):
            ready = asyncio.get_running_loop().create_future()
            self._tasks[name] = asyncio.create_task(self._watch(name, ready), name=f"dvr-{name}")
            with contextlib.suppress(Exception):
                await ready

    async def close(self) -> None:
        for name in list(self._tasks):
            await self._stop(name)

    async def _stop(self, name: str) -> None:
        task = self._tasks.pop(name)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def _watch(self, name: str, ready: asyncio.Future[None]) -> None:
        ipr = iproute(name or None)
        try:
            await ipr.bind(RTMGRP_LINK | RTMGRP_IPV4_IFADDR)
            ready.set_result(None)
            while True:
                async for msg in ipr.get():
                    if msg.get("event") in LOSSES:
                        self._on_loss(name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a namespace that vanished: the next reconcile sees it
            log.warning("dvr: watching %s stopped: %s", name or "the host", exc)
            if not ready.done():
                ready.set_exception(exc)
        finally:
            ipr.close()
