import asyncio

import orjson
import pytest

from corebus.amqp.batcher import Batcher


async def test_items_of_one_tick_travel_together() -> None:
    sent: list[tuple[str, str, object]] = []

    async def send(exchange: str, topic: str, body: bytes) -> None:
        sent.append((exchange, topic, orjson.loads(body)))

    batcher = Batcher(send, max_items=3)
    futures = [batcher.add("ex", "t", {"n": i}) for i in range(5)]
    futures.append(batcher.add("ex", "other", {"n": 9}))
    await asyncio.gather(*futures)
    assert ("ex", "t", [{"n": 0}, {"n": 1}, {"n": 2}]) in sent  # closed at max_items
    assert ("ex", "t", [{"n": 3}, {"n": 4}]) in sent
    assert ("ex", "other", {"n": 9}) in sent  # a lone item is sent as itself
    assert len(sent) == 3


async def test_a_failed_send_fails_every_item() -> None:
    async def send(exchange: str, topic: str, body: bytes) -> None:
        raise ConnectionError("gone")

    batcher = Batcher(send)
    futures = [batcher.add("ex", "t", {"n": i}) for i in range(3)]
    for fut in futures:
        with pytest.raises(ConnectionError):
            await fut


async def test_drain_waits_for_everything() -> None:
    done: list[int] = []

    async def send(exchange: str, topic: str, body: bytes) -> None:
        await asyncio.sleep(0.05)
        done.append(len(orjson.loads(body)))

    batcher = Batcher(send, linger=10)  # a long linger: only drain sends it
    for i in range(4):
        batcher.add("ex", "t", {"n": i})
    await batcher.drain()
    assert done == [4]
