"""Exchanges and queues of one skymesh deployment (one RabbitMQ vhost).

- `skymesh.rpc`   topic: calls; each service's `rpc.<service>` queue is classic and
  auto-deleted with its last consumer, so a call to an absent service is returned
  unroutable at once (mandatory flag) instead of waiting for its deadline.
- `skymesh.cast`  topic: one-way commands; `cast.<service>` is a durable quorum queue
  that holds work while the service restarts.
- `skymesh.events`, `skymesh.notifications`, `skymesh.api` topic: facts, public
  notifications, external commands; `<stream>.<group>` quorum queues for competing
  consumers, exclusive server-named queues for broadcast subscribers.
- `skymesh.dlx`   topic -> `skymesh.dead-letters` (quorum): every refused message, with
  its reason in the `x-skymesh-reason` header.
"""

from __future__ import annotations

from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

RPC_EXCHANGE = "skymesh.rpc"
CAST_EXCHANGE = "skymesh.cast"
DLX_EXCHANGE = "skymesh.dlx"
DEAD_LETTER_QUEUE = "skymesh.dead-letters"
REASON_HEADER = "x-skymesh-reason"
ORIGIN_HEADER = "x-skymesh-exchange"


def stream_exchange(stream: str) -> str:
    return f"skymesh.{stream}"


def quorum_args(delivery_limit: int) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": DLX_EXCHANGE,
    }


async def declare_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_dead_letters(channel: AbstractChannel) -> AbstractQueue:
    exchange = await declare_exchange(channel, DLX_EXCHANGE)
    queue = await channel.declare_queue(
        DEAD_LETTER_QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await queue.bind(exchange, "#")
    return queue


async def declare_bound_queue(
    channel: AbstractChannel,
    exchange_name: str,
    queue_name: str | None,
    patterns: tuple[str, ...],
    *,
    durable: bool,
    delivery_limit: int,
) -> AbstractQueue:
    """A quorum queue when durable, else a classic one that goes away with its consumer
    (server-named and exclusive when `queue_name` is None)."""
    exchange = await declare_exchange(channel, exchange_name)
    if durable:
        assert queue_name is not None
        queue = await channel.declare_queue(
            queue_name, durable=True, arguments=quorum_args(delivery_limit)
        )
    elif queue_name is None:
        queue = await channel.declare_queue(None, exclusive=True, auto_delete=True)
    else:
        queue = await channel.declare_queue(queue_name, auto_delete=True)
    for pattern in patterns:
        await queue.bind(exchange, pattern)
    return queue
