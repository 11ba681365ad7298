"""The Bus contract runs against both transports: the same test bodies, the same
expectations. The AMQP variant uses this run's own vhost."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from corebus.amqp.bus import AmqpBus
from corebus.bus import Bus
from corebus.memory import InMemoryBus

BusFactory = Callable[..., Any]


@pytest.fixture(params=["memory", "amqp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_bus(request: pytest.FixtureRequest, transport: str) -> AsyncIterator[BusFactory]:
    """Make buses that share one broker (one vhost, or one in-memory exchange set)."""
    made: list[Bus] = []
    shared_memory = InMemoryBus(delivery_limit=3, call_timeout=5)
    url = request.getfixturevalue("amqp_url") if transport == "amqp" else ""

    async def factory(**options: Any) -> Bus:
        if transport == "memory":
            if made:
                return made[0]  # one in-memory broker: every "process" shares it
            bus: Bus = shared_memory
        else:
            opts = {"delivery_limit": 3, "call_timeout": 5.0, "publish_timeout": 10.0}
            opts.update(options)
            bus = AmqpBus(url, name=f"test-{uuid.uuid4().hex[:6]}", **opts)
        await bus.start()
        made.append(bus)
        return bus

    yield factory
    for bus in made:
        await bus.close()


def unique(prefix: str) -> str:
    """Service and group names unique per test, so durable queues never collide."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"
