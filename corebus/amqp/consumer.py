"""One consuming subscription on the AMQP transport. It remembers what it consumes so
the bus can re-attach it after a reconnect, and it settles each delivery as the
shared dispatch logic says (ack, requeue, or dead-letter with the reason)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue

from corebus.amqp.deliveries import Deliver
from corebus.amqp.topology import declare_bound_queue
from corebus.dispatch import Disposition, Outcome

if TYPE_CHECKING:
    from corebus.amqp.bus import AmqpBus

log = logging.getLogger(__name__)


class AmqpConsumer:
    def __init__(
        self,
        bus: AmqpBus,
        exchange: str,
        queue_name: str | None,
        patterns: tuple[str, ...],
        deliver: Deliver,
        *,
        durable: bool,
        prefetch: int,
        delivery_limit: int,
    ) -> None:
        self._bus = bus
        self._exchange = exchange
        self._queue_name = queue_name
        self._patterns = patterns
        self._deliver = deliver
        self._durable = durable
        self._prefetch = prefetch
        self._delivery_limit = delivery_limit
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._inflight: set[asyncio.Task[object]] = set()
        self._cancelled = False

    async def attach(self, connection: AbstractConnection) -> None:
        """(Re)declare the queue and start consuming on a fresh channel."""
        self._channel = await connection.channel(publisher_confirms=False)
        await self._channel.set_qos(prefetch_count=self._prefetch)
        self._queue = await declare_bound_queue(
            self._channel,
            self._exchange,
            self._queue_name,
            self._patterns,
            durable=self._durable,
            delivery_limit=self._delivery_limit,
        )
        self._tag = await self._queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await self._settle(message, await self._deliver(message))
        except Exception:
            # The channel died under us: the broker redelivers the message elsewhere.
            log.debug("could not settle a delivery on %s", self._exchange, exc_info=True)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _settle(self, message: AbstractIncomingMessage, outcome: Outcome) -> None:
        topic = message.routing_key or ""
        for raw, reason in outcome.dead_items:
            await self._bus.dead_letter(self._exchange, topic, reason, raw)
        if outcome.disposition is Disposition.DEAD:
            await self._bus.dead_letter(self._exchange, topic, outcome.reason, message.body)
            await message.ack()
        elif outcome.disposition is Disposition.REQUEUE:
            await message.nack(requeue=True)
        else:
            await message.ack()

    async def cancel(self) -> None:
        """Stop consuming, let in-flight deliveries finish, close the channel."""
        self._cancelled = True
        self._bus.forget(self)
        if self._queue is not None and self._tag is not None:
            with contextlib.suppress(Exception):
                await self._queue.cancel(self._tag)
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        if self._channel is not None:
            with contextlib.suppress(Exception):
                await self._channel.close()


class AmqpSubscription:
    def __init__(self, consumers: list[AmqpConsumer]) -> None:
        self._consumers = consumers

    async def cancel(self) -> None:
        await asyncio.gather(*(c.cancel() for c in self._consumers))
