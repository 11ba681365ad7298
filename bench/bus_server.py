"""The server side of `skymesh bench bus`, run in its own process so the caller and
the handler do not share one core (as in a real deployment)."""

from __future__ import annotations

import argparse
import asyncio

from corebus.amqp.bus import AmqpBus
from corebus.envelope import RequestContext
from corebus.service import ServiceRunner, rpc
from schemas.base import Message


class Ping(Message):
    message_name = "bench.ping"
    n: int


class Pong(Message):
    message_name = "bench.pong"
    n: int


class BenchService:
    name = "bench"

    @rpc
    async def ping(self, ctx: RequestContext, req: Ping) -> Pong:
        return Pong(n=req.n)


async def serve(url: str) -> None:
    bus = AmqpBus(url, name="bench-server", prefetch=256)
    await bus.start()
    runner = ServiceRunner(bus, [BenchService()])
    print("ready", flush=True)
    try:
        await runner.run_until_stopped()
    finally:
        await bus.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    asyncio.run(serve(parser.parse_args().url))


if __name__ == "__main__":
    main()
