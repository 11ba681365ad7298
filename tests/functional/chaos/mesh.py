"""A mesh of real processes (`skymesh up --detach --hypervisor fake`) on a database and a
vhost of its own, and the faults the chaos and audit tests inflict on it: kill -9 a process
by its recorded PID and start it again as `up` started it, close the vhost's RabbitMQ
connections, terminate the conductors' PostgreSQL backends of this database. Everything
is stopped by PID (`skymesh down` reads the PID files; restarted processes write theirs
there too)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from conductor.db.admin import split_dsn
from corebus.amqp.admin import (
    vhost_of,
)
from corebus.config import AmqpSettings, DatabaseSettings, Settings
from corebus.launcher import Launcher, ProcessSpec, is_alive, run_dir
from corebus.up_cli import services
from tests.functional.mesh.deployment import Deployment, deployed

# Faster deadlines than the defaults, so a lost step is retried within the test's bound.
CHAOS_SETTINGS = {
    "SKYMESH_CONDUCTOR__SPAWN_TIMEOUT_S": "20",
    "SKYMESH_CONDUCTOR__SCHEDULE_TIMEOUT_S": "15",
    "SKYMESH_CONDUCTOR__ACTION_TIMEOUT_S": "20",
    "SKYMESH_CONDUCTOR__HEARTBEAT_INTERVAL_S": "2",
}


@dataclass(frozen=True)
class ChaosMesh(Deployment):
    @property
    def vhost(self) -> str:
        return vhost_of(self.amqp_url)

    def pid(self, name: str) -> int:
        return int((run_dir(self.home) / f"{name}.pid").read_text().strip())

    async def kill9(self, name: str) -> int:
        """SIGKILL the process `up` started as `name` (by its recorded PID)."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if not is_alive(pid):
                break
            await asyncio.sleep(0.05)
        return pid

    async def restart(self, name: str) -> int:
        """Start `name` again exactly as `up` did; its PID file is rewritten."""
        args = argparse.Namespace(
            hypervisor="fake", network="fake", storage="fake", computes=3, conductors=2
        )
        spec = next(s for s in services(args) if s.name == name)
        spec = await self._secured(spec)
        launcher = Launcher(self.home, env=self.env)
        proc = await launcher.start(spec, detach=True)
        return proc.pid

    async def _secured(self, spec: ProcessSpec) -> ProcessSpec:
        """The spec with the credentials `up` gives that process (its own broker user and
        fact key for an agent, the fact master key for a conductor), when `up` does."""
        try:
            from corebus.up_security import secure
        except ImportError:
            return spec
        settings = Settings(
            home=self.home,
            database=DatabaseSettings(dsn=self.dsn),
            amqp=AmqpSettings(url=self.amqp_url),
        )
        (secured,) = await secure([spec], settings)
        return secured

    async def close_connections(self) -> int:
        """Close every RabbitMQ connection of this test's vhost (no other), all at once:
        `rabbitmqctl list_connections pid vhost` filtered by vhost, then one
        `close_connection` per pid, concurrently (one after the other takes seconds)."""
        ctl = shutil.which("rabbitmqctl") or "rabbitmqctl"
        listing = await _run(ctl, "-q", "list_connections", "pid", "vhost")
        pids = [
            fields[0]
            for fields in (line.split("\t") for line in listing.splitlines())
            if len(fields) == 2 and fields[1] == self.vhost
        ]
        reason = "skymesh chaos test"
        await asyncio.gather(*(_run(ctl, "-q", "close_connection", pid, reason) for pid in pids))
        return len(pids)

    async def terminate_conductor_backends(self) -> int:
        """pg_terminate_backend on the conductors' connections to this database only."""
        maintenance, name = split_dsn(self.dsn)
        conn = await asyncpg.connect(maintenance)
        try:
            rows = await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND application_name = 'skymesh-conductor' "
                "AND pid <> pg_backend_pid()",
                name,
            )
        finally:
            await conn.close()
        return len(rows)


@contextmanager
def mesh_of(
    pg_dsn: str,
    amqp_url: str,
    home: Path,
    name: str,
    conductors: int = 2,
    settings: dict[str, str] | None = None,
) -> Iterator[ChaosMesh]:
    """`skymesh up` on a fresh database and vhost; down, dropped and deleted at the end."""
    up = ("--hypervisor", "fake", "--no-demo", "--conductors", str(conductors))
    chaos = {**CHAOS_SETTINGS, **(settings or {})}
    with deployed(ChaosMesh, pg_dsn, amqp_url, home, name, up, chaos) as mesh:
        yield mesh


async def _run(*argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await proc.communicate()
    return out.decode()
