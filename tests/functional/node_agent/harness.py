"""A stand-in conductor, a fact collector and agent start-up for node agent tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from corebus.amqp.bus import AmqpBus
from corebus.bus import Bus, Subscription
from corebus.envelope import Envelope, RequestContext
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner, rpc
from node_agent.agent import NodeAgent
from node_agent.config import AgentConfig
from schemas.base import MESSAGES
from schemas.errors import NotFound
from schemas.messages.conductor_hosts import Heartbeat, RegisterHost, RegisterHostReply
from schemas.messages.facts import Fact
from schemas.placement import HostRole

F = TypeVar("F", bound=Fact)


class StandInConductor:
    """Answers register_host and heartbeat like conductor/hosts.py, without a database."""

    name = "conductor"

    def __init__(self, heartbeat_interval_s: float = 0.1) -> None:
        self.interval = heartbeat_interval_s
        self.registrations: list[RegisterHost] = []
        self.heartbeats: list[Heartbeat] = []
        self.forget_next_heartbeat = False

    @rpc
    async def register_host(self, ctx: RequestContext, req: RegisterHost) -> RegisterHostReply:
        self.registrations.append(req)
        host_id = uuid.uuid5(uuid.NAMESPACE_DNS, req.name)
        return RegisterHostReply(host_id=host_id, generation=0, heartbeat_interval_s=self.interval)

    @rpc
    async def heartbeat(self, ctx: RequestContext, req: Heartbeat) -> None:
        if self.forget_next_heartbeat:
            self.forget_next_heartbeat = False
            raise NotFound(f"host {req.name} must register again", host=req.name)
        self.heartbeats.append(req)


@dataclass
class Facts:
    """Every fact seen on `events` for one host, with its routing key."""

    seen: list[tuple[str, Fact]] = field(default_factory=list)

    async def on_event(self, topic: str, envelope: Envelope) -> None:
        model = MESSAGES[envelope.schema_name]
        fact = model.model_validate(envelope.payload)
        assert isinstance(fact, Fact)
        self.seen.append((topic, fact))

    def of(self, model: type[F], resource_id: uuid.UUID | None = None) -> list[F]:
        return [
            f
            for _t, f in self.seen
            if isinstance(f, model) and (resource_id is None or f.resource_id == resource_id)
        ]

    async def wait_for(
        self, model: type[F], check: Callable[[F], bool] = lambda f: True, timeout: float = 5
    ) -> F:
        deadline = time.monotonic() + timeout
        while True:
            found = [f for f in self.of(model) if check(f)]
            if found:
                return found[-1]
            assert time.monotonic() < deadline, f"no {model.message_name}; saw {self.topics()}"
            await asyncio.sleep(0.01)

    def topics(self) -> list[str]:
        return [t for t, _f in self.seen]


class Mesh:
    """One broker (a vhost, or one in-memory bus), a stand-in conductor, agents."""

    def __init__(self, transport: str, amqp_url: str, tmp_path: Path) -> None:
        self.transport, self.url, self.tmp_path = transport, amqp_url, tmp_path
        self.conductor = StandInConductor()
        self.memory = InMemoryBus(call_timeout=5)
        self.buses: list[Bus] = []
        self.runners: list[ServiceRunner] = []
        self.subscriptions: list[Subscription] = []

    async def bus(self) -> Bus:
        if self.transport == "memory":
            if not self.buses:
                await self.memory.start()
                self.buses.append(self.memory)
            return self.memory
        bus = AmqpBus(self.url, name=f"test-{uuid.uuid4().hex[:6]}", call_timeout=5.0)
        await bus.start()
        self.buses.append(bus)
        return bus

    async def start(self) -> None:
        runner = ServiceRunner(await self.bus(), [self.conductor])
        await runner.start()
        self.runners.append(runner)

    async def watch(self, host: str) -> Facts:
        facts = Facts()
        bus = await self.bus()
        self.subscriptions.append(await bus.subscribe("events", [f"*.{host}.#"], facts.on_event))
        return facts

    async def agent(
        self, host: str, roles: str = "compute", state_dir: Path | None = None, **options: Any
    ) -> tuple[NodeAgent, ServiceRunner]:
        config = AgentConfig(
            host=host,
            roles=frozenset(HostRole(r) for r in roles.split(",")),
            state_dir=state_dir or self.tmp_path / host,
            call_timeout_s=5,
            **options,
        )
        agent = NodeAgent(config, await self.bus())
        runner = ServiceRunner(agent.facts.client.bus, agent.services())
        await runner.start()
        self.runners.insert(0, runner)
        await asyncio.wait_for(agent.registration.registered.wait(), 10)
        return agent, runner

    async def close(self) -> None:
        for sub in self.subscriptions:
            await sub.cancel()
        for runner in self.runners:
            await runner.stop()
        for bus in self.buses:
            await bus.close()


async def mesh(transport: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[Mesh]:
    made = Mesh(transport, amqp_url, tmp_path)
    await made.start()
    try:
        yield made
    finally:
        await made.close()


def unique_host() -> str:
    return f"cmp-{uuid.uuid4().hex[:8]}"
