"""A throw-away deployment for benchmarks: its own vhost, database and state directory,
processes started with the launcher and stopped (and everything dropped) at the end."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rich.console import Console

from corebus.amqp.admin import create_vhost, delete_vhost, with_vhost
from corebus.client import Client, wait_until_answers
from corebus.config import Settings
from corebus.launcher import Launcher, ProcessSpec
from corebus.transport import make_bus
from schemas.messages.conductor_hosts import ListHosts, ListHostsReply

err = Console(stderr=True)


@dataclass
class Deployment:
    launcher: Launcher
    amqp_url: str
    dsn: str
    home: Path
    kinds: dict[str, str] = field(default_factory=dict)  # process name -> kind

    async def start(self, name: str, kind: str, *args: str) -> None:
        await self.launcher.start(ProcessSpec(name, args), detach=True)
        self.kinds[name] = kind

    def peak_rss_mb(self) -> dict[str, float]:
        """The largest peak resident set (VmHWM) per process kind, in MB."""
        peaks: dict[str, float] = {}
        for name, proc in self.launcher.children.items():
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                continue
            kb = next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")),
                0,
            )
            kind = self.kinds.get(name, name)
            peaks[kind] = max(peaks.get(kind, 0.0), round(kb / 1024, 1))
        return peaks


def _with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


@asynccontextmanager
async def deployment(settings: Settings, label: str) -> AsyncIterator[Deployment]:
    name = f"skymesh_{label}_{os.getpid()}"
    url = with_vhost(settings.amqp.url, name)
    dsn = _with_database(settings.database.dsn, name)
    with tempfile.TemporaryDirectory(prefix=f"skymesh-{label}-") as tmp:
        home = Path(tmp)
        env = {
            "SKYMESH_HOME": tmp,
            "SKYMESH_DATABASE__DSN": dsn,
            "SKYMESH_AMQP__URL": url,
            "SKYMESH_LOGGING__LEVEL": "WARNING",
        }
        launcher = Launcher(home, None, env)
        await create_vhost(name)
        deploy = Deployment(launcher, url, dsn, home)
        try:
            for step in (("db", "upgrade"), ("seed",)):
                if await launcher.run_once(ProcessSpec(step[0], step)) != 0:
                    raise RuntimeError(f"skymesh {' '.join(step)} failed")
            yield deploy
        finally:
            await launcher.stop_all()
            await launcher.run_once(ProcessSpec("db", ("db", "drop")))
            await delete_vhost(name)


async def wait_ready(amqp_url: str, settings: Settings, hosts: int, timeout: float) -> float:
    """Seconds until conductor and scheduler answer and `hosts` hosts are up."""
    started = time.monotonic()
    bus = make_bus(settings.amqp.model_copy(update={"url": amqp_url}), name="bench-probe")
    await bus.start()
    try:
        async with asyncio.timeout(timeout):
            for service in ("conductor", "scheduler"):
                await wait_until_answers(bus, service)
            up = 0
            while up < hosts:
                reply = await Client(bus).call("conductor.list_hosts", ListHosts(), ListHostsReply)
                up = sum(h.is_up for h in reply.hosts)
                err.print(f"  {up}/{hosts} hosts up", end="\r")
                if up < hosts:
                    await asyncio.sleep(0.5)
    finally:
        await bus.close()
    err.print()
    return time.monotonic() - started
