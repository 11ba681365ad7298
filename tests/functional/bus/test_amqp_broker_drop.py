"""The AMQP transport survives the broker closing every connection of its vhost:
calls in flight fail at once with a retryable error, the bus reconnects, re-declares
its topology and resumes consuming. Only this run's vhost is touched."""

from __future__ import annotations

import asyncio
import time

import pytest

from corebus.amqp.admin import close_vhost_connections, vhost_of
from corebus.amqp.bus import AmqpBus
from corebus.client import Client
from corebus.errors import ConnectionLost
from corebus.service import ServiceRunner
from tests.functional.bus.conftest import unique
from tests.functional.bus.messages import Echo, EchoReply
from tests.functional.bus.test_contract import Collector, EchoService, tick, wait_for

pytestmark = pytest.mark.functional


async def call_until_ok(client: Client, topic: str, budget: float) -> float:
    """Retry a call (as a caller would on a retryable error); seconds until it worked."""
    started = time.monotonic()
    while True:
        try:
            await client.call(topic, Echo(text="again"), EchoReply, timeout=1)
            return time.monotonic() - started
        except Exception as exc:
            assert getattr(exc, "retryable", False), f"non-retryable failure: {exc!r}"
            assert time.monotonic() - started < budget, "the mesh did not recover in time"
            await asyncio.sleep(0.05)


async def test_broker_closing_every_connection(amqp_url: str) -> None:
    server = AmqpBus(amqp_url, name="drop-server", call_timeout=10)
    caller = AmqpBus(amqp_url, name="drop-caller", call_timeout=10)
    await server.start()
    await caller.start()
    svc = EchoService(unique("drop"))
    runner = ServiceRunner(server, [svc])
    await runner.start()
    got = Collector()
    group = unique("g")
    sub = await server.subscribe("events", ["drop.#"], got, group=group)
    client = Client(caller)
    try:
        in_flight = asyncio.create_task(
            client.call(f"{svc.name}.echo", Echo(text="slow", delay=3), EchoReply, timeout=10)
        )
        await wait_for(lambda: svc.in_flight == 1)

        closed = await close_vhost_connections(vhost_of(amqp_url))
        assert closed >= 2
        dropped = time.monotonic()
        with pytest.raises(ConnectionLost) as lost:
            await in_flight
        assert lost.value.retryable
        assert time.monotonic() - dropped < 2.0  # failed at once, not at its deadline

        recovered = await call_until_ok(client, f"{svc.name}.echo", budget=20)
        # events published after the drop reach the re-attached durable group queue
        await asyncio.gather(*(caller.publish("events", "drop.x", tick(i)) for i in range(50)))
        await wait_for(lambda: len({n for _, n in got.seen}) == 50, timeout=20)
        assert server.reconnects >= 1 and caller.reconnects >= 1
        print(f"\nbroker drop: calls worked again after {recovered:.2f}s")
    finally:
        await sub.cancel()
        await runner.stop()
        await caller.close()
        await server.close()
