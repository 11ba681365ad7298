"""The conductor's periodic network sync: the database's intent, sent to a network agent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from conductor.network_sync import NetworkSync, build_intent
from schemas.errors import InvalidInput
from schemas.messages.agent_network import Drift, SyncNetwork, SyncNetworkReply
from schemas.messages.conductor_hosts import RegisterHost
from schemas.messages.conductor_networks import CreateNetwork, NetworkReply
from schemas.placement import HostInventory, HostRole
from tests.functional.conductor.conftest import Mesh

pytestmark = pytest.mark.functional


class Agent:
    """Stands in for the bus client: answers node_agent.network.sync, keeps casts."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.calls: list[tuple[str, SyncNetwork]] = []
        self.called = asyncio.Event()
        self.casts: list[tuple[str, Any]] = []

    async def cast(self, topic: str, message: Any, **_: Any) -> None:
        self.casts.append((topic, message))

    async def call(self, topic: str, message: SyncNetwork, reply: Any, **_: Any) -> Any:
        self.calls.append((topic, message))
        self.called.set()
        if self.refuse:
            raise InvalidInput("the FakeNetwork driver does not reconcile")
        nets = message.networks
        return SyncNetworkReply(
            drift=tuple(
                Drift(kind="network", action="created", resource_id=str(n.network.id)) for n in nets
            )
        )


async def test_the_intent_holds_the_databases_networks_and_goes_to_an_agent(mesh: Mesh) -> None:
    name = f"sync-{uuid.uuid4().hex[:6]}"
    made = await mesh.client.call(
        "conductor.create_network", CreateNetwork(name=name, cidr="10.77.0.0/24"), NetworkReply
    )
    async with mesh.pool.acquire() as conn:
        intent = await build_intent(conn)
    mine = [n for n in intent.networks if n.network.id == made.network.id]
    assert len(mine) == 1 and [s.cidr for s in mine[0].subnets] == ["10.77.0.0/24"]

    agent = Agent()
    job = NetworkSync(mesh.pool, agent, interval_s=3600)  # type: ignore[arg-type]
    assert await job.run_once() is None  # the first round waits for the agents
    reply = await job.run_once()
    assert reply is not None and reply.count("network", "created") == len(intent.networks)
    assert agent.calls[0][0] == "node_agent.network.sync"

    refusing = NetworkSync(mesh.pool, Agent(refuse=True), interval_s=3600)  # type: ignore[arg-type]
    await refusing.run_once()
    assert await refusing.run_once() is None


async def test_a_network_agent_registering_brings_the_sync_forward(mesh: Mesh) -> None:
    agent = Agent()
    job = NetworkSync(mesh.pool, agent, interval_s=3600)  # type: ignore[arg-type]
    await job.start()
    try:
        await asyncio.sleep(0.2)
        assert agent.calls == []  # the round at start waits for the agents
        job.soon()  # what the host registry does when a network agent registers
        await asyncio.wait_for(agent.called.wait(), 10)
        assert agent.calls[0][0] == "node_agent.network.sync"
    finally:
        await job.stop()


async def test_a_dvr_compute_host_that_registers_is_sent_the_whole_intent(
    mesh: Mesh, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"dvr-{uuid.uuid4().hex[:6]}"
    made = await mesh.client.call(
        "conductor.create_network", CreateNetwork(name=name, cidr="10.78.0.0/24"), NetworkReply
    )
    monkeypatch.setenv("SKYMESH_NETWORK_BACKEND", "dvr")
    monkeypatch.setenv("SKYMESH_DVR_COMPUTE_HOSTS", "dvr-compute-1,dvr-compute-2")
    casts = Agent()
    job = NetworkSync(mesh.pool, casts, interval_s=3600)  # type: ignore[arg-type]

    def host(name: str, *roles: HostRole) -> RegisterHost:
        return RegisterHost(
            name=name,
            incarnation=uuid.uuid4(),
            roles=frozenset(roles),
            agent_version="test",
            started_at=datetime.now(UTC),
            inventory=HostInventory(vcpus=4, memory_mb=4096, disk_gb=40),
        )

    assert job.host_registered(host("compute-9", HostRole.COMPUTE)) is None  # not dvr
    assert job.host_registered(host("network-1", HostRole.NETWORK)) is None  # it syncs
    resync = job.host_registered(host("dvr-compute-2", HostRole.COMPUTE))
    assert resync is not None
    sent = await asyncio.wait_for(resync, 10)
    topics = [topic for topic, _ in casts.casts]
    assert topics and all(t.startswith("node_agent.dvr-compute-2.ensure_") for t in topics)
    mine = [m for t, m in casts.casts if t.endswith("ensure_network")]
    assert made.network.id in {m.network.id for m in mine}
    async with mesh.pool.acquire() as conn:
        assert sent == len(casts.casts) == len(_commands(await build_intent(conn)))


def _commands(intent: SyncNetwork) -> list[Any]:
    return [
        *intent.networks,
        *intent.security_groups,
        *intent.ports,
        *intent.routers,
        *intent.floating_ips,
    ]


async def test_an_agent_that_cannot_reconcile_gets_the_intent_as_ensures_on_registration(
    mesh: Mesh,
) -> None:
    made = await mesh.client.call(
        "conductor.create_network",
        CreateNetwork(name=f"ens-{uuid.uuid4().hex[:6]}", cidr="10.79.0.0/24"),
        NetworkReply,
    )
    agent = Agent(refuse=True)  # the fake and dvr drivers
    job = NetworkSync(mesh.pool, agent, interval_s=3600)  # type: ignore[arg-type]
    await job.run_once()  # the round at start
    job.soon()  # what a network agent's registration does
    await job.run_once()
    sent = {m.network.id for t, m in agent.casts if t == "node_agent.network.ensure_network"}
    assert made.network.id in sent
    assert all(t.startswith("node_agent.network.ensure_") for t, _ in agent.casts)
    agent.casts.clear()
    await job.run_once()  # a periodic round: a refusing agent is not flooded
    assert agent.casts == []
