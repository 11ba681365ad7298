"""The AMQP transport (RabbitMQ through aio-pika).

One connection per bus with a supervisor: when the broker drops it, pending calls
fail at once with `ConnectionLost` (retryable), the supervisor reconnects with
jittered exponential back-off (tenacity), re-declares the topology and re-attaches
every consumer. Publishes of casts and events wait (bounded) for the connection to
come back and use publisher confirms; calls are published mandatory and confirmed too, so an
unroutable call (no consumer) fails at once instead of at its deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

import aio_pika
import aiormq.exceptions
import orjson
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
)
from tenacity import AsyncRetrying, retry_if_exception_type, wait_random_exponential

from corebus.amqp import topology as topo
from corebus.amqp.batcher import Batcher
from corebus.amqp.consumer import AmqpConsumer, AmqpSubscription
from corebus.amqp.deliveries import (
    api_delivery,
    dead_letter_of,
    event_delivery,
    rpc_delivery,
)
from corebus.api import ApiHandler
from corebus.bus import STREAMS, DeadLetter, EventHandler, RpcHandler
from corebus.envelope import Envelope, Kind, decode_any
from corebus.errors import BusUnavailable, ConnectionLost, DeadlineExceeded, NoConsumer
from corebus.metrics import DEAD_LETTERS
from corebus.replies import raise_for_error
from corebus.signing import Signer, Verifier
from corebus.topics import validate_topic

log = logging.getLogger(__name__)
EVENTS = "events"  # the stream agents publish their facts on

# Errors that mean "the connection or channel is gone", as opposed to a refusal.
TRANSIENT = (
    aiormq.exceptions.AMQPConnectionError,
    aiormq.exceptions.ChannelInvalidStateError,
    aiormq.exceptions.ChannelClosed,
    ConnectionError,
    RuntimeError,
)


class AmqpBus:
    def __init__(
        self,
        url: str,
        *,
        name: str = "skymesh",
        prefetch: int = 128,
        delivery_limit: int = 5,
        call_timeout: float = 30.0,
        publish_timeout: float = 30.0,
        event_linger: float = 0.0,
        event_batch_max: int = 256,
        reconnect_max: float = 2.0,
        call_batch_max: int = 64,
        signer: Signer | None = None,
        verifier: Verifier | None = None,
    ) -> None:
        self._url = url
        self._signer = signer  # an agent signs the facts it publishes
        self._verifier = verifier  # the conductor refuses facts that do not verify
        self._name = name
        self._prefetch = prefetch
        self._delivery_limit = delivery_limit
        self._call_timeout = call_timeout
        self._publish_timeout = publish_timeout
        self._reconnect_max = reconnect_max
        self._connection: AbstractConnection | None = None
        self._call_channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._reply_queue = ""
        self._pending: dict[str, asyncio.Future[Envelope]] = {}
        self._consumers: list[AmqpConsumer] = []
        self._ready = asyncio.Event()
        self._lost = asyncio.Event()
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._batcher = Batcher(self._send_events, linger=event_linger, max_items=event_batch_max)
        # Calls to one topic and replies to one caller issued in the same loop tick
        # travel together: one AMQP message (and one confirm) for many requests.
        self._calls = Batcher(self._send_calls, max_items=call_batch_max)
        self._replies = Batcher(self._send_replies, max_items=call_batch_max)
        self.reconnects = 0

    # -- connection lifecycle --------------------------------------------------
    async def start(self) -> None:
        self._closing = False
        deadline = time.monotonic() + self._publish_timeout
        async for attempt in self._retrying(deadline):
            with attempt:
                await self._open()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"{self._name}-amqp")

    def _retrying(self, deadline: float | None = None) -> AsyncRetrying:
        def give_up(state: Any) -> bool:
            return self._closing or (deadline is not None and time.monotonic() > deadline)

        return AsyncRetrying(
            wait=wait_random_exponential(multiplier=0.05, max=self._reconnect_max),
            retry=retry_if_exception_type(Exception),
            stop=give_up,
            reraise=True,
        )

    async def _open(self) -> None:
        connection = await aio_pika.connect(
            self._url, timeout=5, client_properties={"connection_name": self._name}
        )
        try:
            calls = await connection.channel(publisher_confirms=False)
            confirms = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchanges = {}
            for name in (
                topo.RPC_EXCHANGE,
                topo.CAST_EXCHANGE,
                *map(topo.stream_exchange, STREAMS),
            ):
                exchanges[name] = await topo.declare_exchange(confirms, name)
            await topo.declare_dead_letters(confirms)
            exchanges[topo.DLX_EXCHANGE] = await topo.declare_exchange(confirms, topo.DLX_EXCHANGE)
            reply_name = f"reply.{self._name}.{uuid.uuid4().hex[:12]}"
            replies = await calls.declare_queue(reply_name, exclusive=True, auto_delete=True)
            await replies.consume(self._on_reply, no_ack=True)
            for consumer in list(self._consumers):
                await consumer.attach(connection)
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        self._connection, self._call_channel = connection, calls
        self._exchanges, self._reply_queue = exchanges, reply_name
        connection.close_callbacks.add(self._on_closed)
        self._ready.set()

    def _on_closed(self, _sender: object, exc: BaseException | None = None) -> None:
        if self._closing:
            return
        log.warning("AMQP connection lost (%s); reconnecting", exc)
        self._ready.clear()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionLost(f"broker connection lost: {exc}"))
        self._lost.set()

    async def _supervise(self) -> None:
        while not self._closing:
            await self._lost.wait()
            self._lost.clear()
            if self._closing:
                return
            started = time.monotonic()
            async for attempt in self._retrying():
                with attempt:
                    await self._open()
            self.reconnects += 1
            log.info("AMQP reconnected in %.2fs", time.monotonic() - started)

    async def _wait_ready(self, deadline: float) -> None:
        if self._ready.is_set():
            return
        if self._closing:
            raise BusUnavailable("bus closed")
        try:
            await asyncio.wait_for(self._ready.wait(), max(deadline - time.monotonic(), 0))
        except TimeoutError:
            raise BusUnavailable("the broker is unreachable") from None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._batcher.drain()
        for consumer in list(self._consumers):
            await consumer.cancel()
        self._closing = True
        self._lost.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(BusUnavailable("bus closed"))
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._ready.clear()

    # -- calls -----------------------------------------------------------------
    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        try:
            replies = [Envelope.model_validate(raw) for raw in decode_any(message.body)]
        except ValueError:
            log.warning("dropping an undecodable reply")
            return
        for reply in replies:
            fut = self._pending.get(reply.correlation_id or "")
            if fut is not None and not fut.done():
                fut.set_result(reply)

    async def call(self, topic: str, request: Envelope, timeout: float | None = None) -> Envelope:
        validate_topic(topic)
        timeout = self._call_timeout if timeout is None else timeout
        left = request.remaining()
        timeout = timeout if left is None else min(timeout, left)
        request = request.model_copy(update={"kind": Kind.CALL, "deadline": time.time() + timeout})
        deadline = time.monotonic() + timeout
        fut: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        mid = request.message_id
        self._pending[mid] = fut
        try:
            await self._wait_ready(deadline)
            item = request.model_dump(mode="json", by_alias=True, exclude_none=True)
            sent = self._calls.add(topo.RPC_EXCHANGE, topic, item)
            sent.add_done_callback(_retrieve)
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    # The reply may come before the confirm; a refusal (no consumer,
                    # lost connection) comes as the confirm's error.
                    await asyncio.wait((sent, fut), return_when=asyncio.FIRST_COMPLETED)
                    if not fut.done():
                        await sent
                    reply = await fut
            except TimeoutError:
                raise DeadlineExceeded(f"no reply to {topic} within {timeout:.3g}s") from None
        finally:
            self._pending.pop(mid, None)
        return raise_for_error(reply)

    async def _send_calls(self, exchange: str, topic: str, body: bytes) -> None:
        message = aio_pika.Message(
            body, reply_to=self._reply_queue, content_type="application/json"
        )
        try:
            # Mandatory and confirmed: an unroutable call comes back as PublishError at once.
            await self._exchanges[exchange].publish(message, topic, mandatory=True)
        except aiormq.exceptions.PublishError:
            raise NoConsumer(f"no consumer for {topic!r}") from None
        except TRANSIENT as exc:
            raise ConnectionLost(f"could not send the call: {exc}") from None

    async def send_reply(self, reply_to: str, reply: Envelope) -> None:
        item = reply.model_dump(mode="json", by_alias=True, exclude_none=True)
        await self._replies.add("", reply_to, item)

    async def _send_replies(self, _exchange: str, reply_to: str, body: bytes) -> None:
        if not self._ready.is_set() or self._call_channel is None:
            return  # the caller saw ConnectionLost already
        message = aio_pika.Message(body, content_type="application/json")
        with contextlib.suppress(*TRANSIENT):
            await self._call_channel.default_exchange.publish(message, reply_to, mandatory=False)

    # -- confirmed publishing --------------------------------------------------
    async def _publish_confirmed(
        self,
        exchange: str,
        topic: str,
        body: bytes,
        *,
        mandatory: bool,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Publish until the broker confirms, riding out reconnects (bounded)."""
        deadline = time.monotonic() + self._publish_timeout
        while True:
            await self._wait_ready(deadline)
            message = aio_pika.Message(
                body,
                content_type="application/json",
                headers=headers,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            try:
                await self._exchanges[exchange].publish(message, topic, mandatory=mandatory)
                return
            except aiormq.exceptions.PublishError:
                raise NoConsumer(f"no consumer for {topic!r} on {exchange}") from None
            except (aiormq.exceptions.DeliveryError, *TRANSIENT) as exc:
                if time.monotonic() > deadline:
                    raise BusUnavailable(f"publish to {exchange} not confirmed: {exc}") from None
                await asyncio.sleep(0.01)

    async def cast(self, topic: str, request: Envelope) -> None:
        validate_topic(topic)
        request = request.model_copy(update={"kind": Kind.CAST})
        await self._publish_confirmed(topo.CAST_EXCHANGE, topic, request.encode(), mandatory=True)

    async def publish(
        self, stream: str, topic: str, event: Envelope, *, coalesce: bool = True
    ) -> None:
        validate_topic(topic)
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; one of {STREAMS}")
        if self._signer is not None and stream == EVENTS:
            event = self._signer.sign(event)
        if not coalesce:
            exchange = topo.stream_exchange(stream)
            await self._publish_confirmed(exchange, topic, event.encode(), mandatory=False)
            return
        item = event.model_dump(mode="json", by_alias=True, exclude_none=True)
        await self._batcher.add(topo.stream_exchange(stream), topic, item)

    async def publish_raw(self, stream: str, topic: str, body: bytes) -> None:
        """Publish bytes as they are (tests use it to send poison messages)."""
        exchange = {"rpc": topo.RPC_EXCHANGE, "cast": topo.CAST_EXCHANGE}.get(
            stream, topo.stream_exchange(stream)
        )
        await self._publish_confirmed(exchange, topic, body, mandatory=False)

    async def _send_events(self, exchange: str, topic: str, body: bytes) -> None:
        await self._publish_confirmed(exchange, topic, body, mandatory=False)

    async def flush(self) -> None:
        await self._batcher.drain()

    async def send_raw_reply(self, reply_to: str, correlation_id: str | None, body: bytes) -> None:
        """Answer an external producer (not an envelope: see corebus/api.py)."""
        if not self._ready.is_set() or self._call_channel is None:
            return
        message = aio_pika.Message(
            body, correlation_id=correlation_id, content_type="application/json"
        )
        with contextlib.suppress(*TRANSIENT):
            await self._call_channel.default_exchange.publish(message, reply_to, mandatory=False)

    async def serve_api(self, handler: ApiHandler, group: str = "commands") -> AmqpSubscription:
        """Consume external commands from `skymesh.api` (competing consumers of `group`)."""

        consumer = AmqpConsumer(
            self,
            topo.stream_exchange("api"),
            f"api.{group}",
            ("#",),
            api_delivery(handler, self.send_raw_reply),
            durable=True,
            prefetch=self._prefetch,
            delivery_limit=self._delivery_limit,
        )
        return AmqpSubscription([await self._consume(consumer)])

    # -- dead letters ----------------------------------------------------------
    async def dead_letter(self, exchange: str, topic: str, reason: str, body: Any) -> None:
        log.warning("dead-lettering a message on %s %s: %s", exchange, topic, reason)
        DEAD_LETTERS.labels(exchange).inc()
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = {topo.REASON_HEADER: reason[:1000], topo.ORIGIN_HEADER: exchange}
        await self._publish_confirmed(
            topo.DLX_EXCHANGE, topic or "unrouted", raw, mandatory=False, headers=headers
        )

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        deadline = time.monotonic() + self._publish_timeout
        await self._wait_ready(deadline)
        assert self._connection is not None
        taken: list[DeadLetter] = []
        async with self._connection.channel() as channel:
            queue = await channel.get_queue(topo.DEAD_LETTER_QUEUE, ensure=False)
            while len(taken) < limit:
                message = await queue.get(no_ack=True, fail=False)
                if message is None:
                    break
                taken.append(dead_letter_of(message))
        return taken

    # -- consuming -------------------------------------------------------------
    def forget(self, consumer: AmqpConsumer) -> None:
        with contextlib.suppress(ValueError):
            self._consumers.remove(consumer)

    async def _consume(self, consumer: AmqpConsumer) -> AmqpConsumer:
        self._consumers.append(consumer)
        if self._ready.is_set() and self._connection is not None:
            await consumer.attach(self._connection)
        return consumer

    async def serve(
        self, service: str, bindings: Sequence[str], handler: RpcHandler
    ) -> AmqpSubscription:
        deliver = rpc_delivery(handler, self.send_reply)
        patterns = tuple(bindings)
        common = {"prefetch": self._prefetch, "delivery_limit": self._delivery_limit}
        calls = AmqpConsumer(
            self, topo.RPC_EXCHANGE, f"rpc.{service}", patterns, deliver, durable=False, **common
        )
        casts = AmqpConsumer(
            self, topo.CAST_EXCHANGE, f"cast.{service}", patterns, deliver, durable=True, **common
        )
        return AmqpSubscription([await self._consume(calls), await self._consume(casts)])

    async def subscribe(
        self, stream: str, patterns: Sequence[str], handler: EventHandler, group: str | None = None
    ) -> AmqpSubscription:
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; one of {STREAMS}")
        if self._verifier is not None and stream == EVENTS:
            handler = self._verifier.guard(handler)

        consumer = AmqpConsumer(
            self,
            topo.stream_exchange(stream),
            None if group is None else f"{stream}.{group}",
            tuple(patterns),
            event_delivery(handler),
            durable=group is not None,
            prefetch=self._prefetch,
            delivery_limit=self._delivery_limit,
        )
        return AmqpSubscription([await self._consume(consumer)])


def _retrieve(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled():
        fut.exception()  # seen; the caller raised it or already had its reply
