"""`skymesh up` turns the security on: each agent connects as its own RabbitMQ user
with its own fact key and no database settings, the conductor holds the master
secret, an unsigned fact on the deployment's vhost is dead-lettered, and `skymesh
down` removes the agents' users again."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest

from corebus.amqp.admin import _ctl, vhost_of
from corebus.amqp.bus import AmqpBus
from corebus.client import Client
from corebus.launcher import recorded
from schemas.instance_state import PowerState
from schemas.messages.facts import InstancePowerStateChanged
from tests.functional.mesh.conftest import Deployment
from tests.functional.security.test_agent_credentials import environ_of

pytestmark = [pytest.mark.functional, pytest.mark.slow]


async def connection_users(vhost: str) -> set[str]:
    listing = await _ctl("list_connections", "user", "vhost")
    return {f.split("\t")[0] for f in listing.splitlines() if f.endswith(f"\t{vhost}")}


async def test_up_gives_each_agent_its_own_credentials(deployment: Deployment) -> None:
    vhost = vhost_of(deployment.amqp_url)
    users = await connection_users(vhost)
    for host in ("compute-1", "compute-2", "compute-3", "network-1", "storage-1"):
        assert f"agent-{host}@{vhost}" in users, users
    processes = {name: pid for name, pid, alive in recorded(deployment.home) if alive}
    conductor = environ_of(processes["conductor"])
    assert len(conductor["SKYMESH_AMQP__FACT_MASTER_KEY"]) >= 32
    assert conductor["SKYMESH_DATABASE__DSN"] == deployment.dsn
    agent = environ_of(processes["compute-1"])
    assert len(agent["SKYMESH_AMQP__FACT_KEY"]) == 64
    assert "FACT_MASTER_KEY" not in str(agent)
    assert f"agent-compute-1%40{vhost}" in agent["SKYMESH_AMQP__URL"]
    assert not [k for k in agent if k.startswith("SKYMESH_DATABASE")]
    assert deployment.dsn not in str(agent)


async def test_an_unsigned_fact_is_dead_lettered(deployment: Deployment) -> None:
    bus = AmqpBus(deployment.amqp_url, name=f"forger-{uuid.uuid4().hex[:6]}")
    await bus.start()
    try:
        fact = InstancePowerStateChanged(
            host="compute-1",
            resource_id=uuid.uuid4(),
            seq=1,
            observed_at=datetime.now(UTC),
            power_state=PowerState.SHUTDOWN,
        )
        await Client(bus).publish("events", fact.routing_key(), fact)
        await bus.flush()
        deadline = time.monotonic() + 20
        found: list[str] = []
        while not found and time.monotonic() < deadline:
            letters = await bus.dead_letters(limit=500)
            found = [d.reason for d in letters if str(fact.resource_id).encode() in d.body]
            await asyncio.sleep(0.3)
        assert found and "unsigned fact" in found[0], found
    finally:
        await bus.close()
