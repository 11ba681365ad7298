"""`skymesh bench bus`: RPC round trips and event throughput on both transports.

RPC: sequential calls give p50/p99 and calls/s with one in flight; then calls/s with
100 in flight. Events: facts published by one process (coalesced and confirmed),
counted when the subscriber has handled each one. The AMQP runs use a private vhost
(created and deleted here) and a server in its own process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rich.console import Console

from bench.bus_server import BenchService, Ping, Pong
from bench.stats import percentile
from corebus.amqp.admin import create_vhost, delete_vhost, with_vhost
from corebus.amqp.bus import AmqpBus
from corebus.bus import Bus
from corebus.client import Client
from corebus.envelope import Envelope, Kind, envelope_for
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner

err = Console(stderr=True)


async def rpc_sequential(client: Client, count: int) -> tuple[list[float], float]:
    samples = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        await client.call("bench.ping", Ping(n=i), Pong)
        samples.append(time.perf_counter() - t0)
    return samples, count / (time.perf_counter() - started)


async def rpc_concurrent(client: Client, count: int, in_flight: int) -> float:
    todo = iter(range(count))

    async def worker() -> None:
        for i in todo:
            await client.call("bench.ping", Ping(n=i), Pong)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return count / (time.perf_counter() - started)


async def events(publisher: Bus, subscriber: Bus, count: int, window: int) -> float:
    done = asyncio.Event()
    seen = 0

    async def on_fact(topic: str, envelope: Envelope) -> None:
        nonlocal seen
        seen += 1
        if seen >= count:
            done.set()

    group = "bench" + uuid.uuid4().hex[:6]
    sub = await subscriber.subscribe("events", ["compute.*.instance.#"], on_fact, group=group)
    fact = envelope_for(Ping(n=0), Kind.EVENT)
    started = time.perf_counter()
    for start in range(0, count, window):
        n = min(window, count - start)
        await asyncio.gather(
            *(
                publisher.publish("events", "compute.bench.instance.power_state", fact)
                for _ in range(n)
            )
        )
    await asyncio.wait_for(done.wait(), 120)
    rate = count / (time.perf_counter() - started)
    await sub.cancel()
    return rate


@asynccontextmanager
async def amqp_pair(server_url: str) -> AsyncIterator[tuple[Bus, Bus]]:
    vhost = f"skymesh_bench_{os.getpid()}"
    await create_vhost(vhost)
    url = with_vhost(server_url, vhost)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bus_server", url, stdout=asyncio.subprocess.PIPE
    )
    caller = AmqpBus(url, name="bench-caller", prefetch=512)
    events_bus = AmqpBus(url, name="bench-events", prefetch=512)
    try:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("the bench server did not start")
        await caller.start()
        await events_bus.start()
        yield caller, events_bus
    finally:
        await caller.close()
        await events_bus.close()
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
        await delete_vhost(vhost)


@asynccontextmanager
async def memory_pair() -> AsyncIterator[tuple[Bus, Bus]]:
    bus = InMemoryBus(prefetch=512)
    runner = ServiceRunner(bus, [BenchService()])
    await runner.start()
    try:
        yield bus, bus
    finally:
        await runner.stop()


async def measure(pair: Any, label: str, calls: int, event_count: int) -> dict[str, float]:
    async with pair as (caller, events_bus):
        client = Client(caller)
        await rpc_concurrent(client, 200, 20)  # warm-up
        err.print(f"[bold]{label}[/]: {calls} sequential calls")
        samples, rate_1 = await rpc_sequential(client, calls)
        err.print(f"[bold]{label}[/]: {calls * 5} calls, 100 in flight")
        rate_100 = await rpc_concurrent(client, calls * 5, 100)
        err.print(f"[bold]{label}[/]: {event_count} events")
        ev_rate = await events(events_bus, events_bus, event_count, 2000)
    return {
        "rpc_p50_ms": round(percentile(samples, 50) * 1000, 3),
        "rpc_p99_ms": round(percentile(samples, 99) * 1000, 3),
        "rpc_calls_per_s_1": round(rate_1, 1),
        "rpc_calls_per_s": round(rate_100, 1),
        "events_per_s": round(ev_rate, 1),
    }


async def run(amqp_url: str, calls: int, event_count: int) -> dict[str, Any]:
    result = {
        "memory": await measure(memory_pair(), "memory", calls, event_count),
        "amqp": await measure(amqp_pair(amqp_url), "amqp", calls, event_count),
    }
    return result
