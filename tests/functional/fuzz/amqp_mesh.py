"""A small mesh in one process on the real broker: one conductor (real PostgreSQL)
and node agents with fake drivers, each on an AMQP connection of its own, so what
the tests publish travels through RabbitMQ exactly as it does between processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conductor.db.admin import create_database, drop_database
from conductor.db.migrate import upgrade
from conductor.db.pool import open_pool
from conductor.main import conductor_services
from conductor.seed import seed
from corebus.amqp.admin import create_vhost, delete_vhost, vhost_of, with_vhost
from corebus.amqp.bus import AmqpBus
from corebus.client import Client
from corebus.config import Settings, load_settings
from corebus.service import ServiceRunner
from node_agent.agent import NodeAgent
from node_agent.config import AgentConfig
from schemas.messages.conductor_hosts import ListHosts, ListHostsReply
from schemas.placement import HostRole


@dataclass
class AmqpMesh:
    url: str
    settings: Settings
    pool: Any
    conductor_bus: AmqpBus
    agents: dict[str, NodeAgent]
    buses: list[AmqpBus] = field(default_factory=list)
    conductor_services: list[Any] = field(default_factory=list)

    async def bus(self, url: str | None = None, **options: Any) -> AmqpBus:
        """Another connection to the broker (closed with the mesh)."""
        opts: dict[str, Any] = {"call_timeout": 10.0, "publish_timeout": 10.0}
        opts.update(options)
        bus = AmqpBus(url or self.url, name=f"test-{uuid.uuid4().hex[:6]}", **opts)
        await bus.start()
        self.buses.append(bus)
        return bus

    async def hosts_up(self, names: set[str], timeout: float = 30.0) -> None:
        client = Client(self.conductor_bus)
        deadline = time.monotonic() + timeout
        while True:
            reply = await client.call("conductor.list_hosts", ListHosts(), ListHostsReply)
            if names <= {h.name for h in reply.hosts if h.is_up}:
                return
            assert time.monotonic() < deadline, f"the agents {names} never came up"
            await asyncio.sleep(0.1)


@asynccontextmanager
async def scratch_vhost(amqp_url: str) -> AsyncIterator[str]:
    """A vhost of the test's own (the dead-letter queue is per vhost)."""
    vhost = f"{vhost_of(amqp_url)}_{uuid.uuid4().hex[:6]}"
    await create_vhost(vhost)
    try:
        yield with_vhost(amqp_url, vhost)
    finally:
        await delete_vhost(vhost)


@asynccontextmanager
async def scratch_database(pg_dsn: str) -> AsyncIterator[str]:
    dsn = f"{pg_dsn}_{uuid.uuid4().hex[:6]}"
    await create_database(dsn)
    try:
        await upgrade(dsn)
        yield dsn
    finally:
        await drop_database(dsn)


AgentBus = Callable[[str], str]  # host -> the AMQP URL its agent connects with


@asynccontextmanager
async def running_mesh(
    dsn: str,
    url: str,
    home: Path,
    hosts: tuple[str, ...] = ("compute-1",),
    *,
    agent_url: AgentBus | None = None,
    agent_options: Callable[[str], dict[str, Any]] | None = None,
    conductor_options: dict[str, Any] | None = None,
    **overrides: Any,
) -> AsyncIterator[AmqpMesh]:
    """The conductor and one compute agent per host; `agent_url` picks each agent's
    broker URL (its own RabbitMQ user), `agent_options` and `conductor_options` add
    bus options (a fact signer, a verifier)."""
    settings = load_settings(
        None,
        home=home,
        database={"dsn": dsn},
        amqp={"url": url},
        conductor={"sweep_interval_s": 0.5, "image_dir": str(home / "images")},
        **overrides,
    )
    opts: dict[str, Any] = {"call_timeout": 10.0, "publish_timeout": 10.0, "delivery_limit": 3}
    runners: list[ServiceRunner] = []
    buses: list[AmqpBus] = []
    async with open_pool(settings.database) as pool:
        async with pool.acquire() as conn:
            await seed(conn, home / "images")
        conductor_bus = AmqpBus(url, name="conductor", **opts, **(conductor_options or {}))
        await conductor_bus.start()
        buses.append(conductor_bus)
        mesh = AmqpMesh(url, settings, pool, conductor_bus, {})
        try:
            mesh.conductor_services = conductor_services(pool, conductor_bus, settings)
            runners.append(ServiceRunner(conductor_bus, mesh.conductor_services))
            await runners[-1].start()
            for host in hosts:
                bus = AmqpBus(
                    agent_url(host) if agent_url else url,
                    name=f"node_agent@{host}",
                    **opts,
                    **(agent_options(host) if agent_options else {}),
                )
                await bus.start()
                buses.append(bus)
                config = AgentConfig(host, frozenset({HostRole.COMPUTE}), home / "agents" / host)
                agent = NodeAgent(config, bus)
                mesh.agents[host] = agent
                runners.append(ServiceRunner(bus, agent.services()))
                await runners[-1].start()
            await mesh.hosts_up(set(hosts))
            yield mesh
        finally:
            for runner in reversed(runners):
                await runner.stop()
            for bus in [*mesh.buses, *reversed(buses)]:
                await bus.close()
