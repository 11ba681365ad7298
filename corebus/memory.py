"""In-memory transport with the same routing and failure semantics as the AMQP one.

Messages are encoded to JSON and decoded again on delivery, so what passes here
passes on the wire too. Queues mirror the AMQP topology: `rpc.<service>` disappears
with its last consumer (so a call to an absent service fails at once), `cast.<service>`
and `events.<group>` are durable and buffer while nobody consumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from corebus.api import ApiHandler, deliver_api
from corebus.bus import STREAMS, DeadLetter, EventHandler, RpcHandler
from corebus.dispatch import Disposition, Outcome, deliver_events, deliver_rpc
from corebus.envelope import Envelope, Kind
from corebus.errors import BusUnavailable, DeadlineExceeded, NoConsumer
from corebus.metrics import DEAD_LETTERS
from corebus.replies import raise_for_error
from corebus.topics import matches, validate_topic

log = logging.getLogger(__name__)

RPC, CAST = "rpc", "cast"


@dataclass
class _Message:
    exchange: str
    topic: str
    body: bytes
    reply_to: str | None = None
    attempts: int = 0
    props: dict[str, Any] = field(default_factory=dict)  # AMQP properties of api commands


@dataclass(eq=False)
class _Queue:
    name: str
    exchange: str
    patterns: tuple[str, ...]
    auto_delete: bool
    items: asyncio.Queue[_Message] = field(default_factory=asyncio.Queue)
    consumers: int = 0


class _Consumer:
    def __init__(self, bus: InMemoryBus, queue: _Queue, run: object, prefetch: int) -> None:
        self._bus, self._queue, self._run = bus, queue, run
        self._slots = asyncio.Semaphore(prefetch)
        self._inflight: set[asyncio.Task[None]] = set()
        self._reader = asyncio.create_task(self._read())
        queue.consumers += 1

    async def _read(self) -> None:
        while True:
            await self._slots.acquire()
            msg = await self._queue.items.get()
            task = asyncio.create_task(self._handle(msg))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _handle(self, msg: _Message) -> None:
        try:
            outcome: Outcome = await self._run(msg)  # type: ignore[operator]
            self._bus._settle(self._queue, msg, outcome)
        finally:
            self._slots.release()

    async def cancel(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        self._queue.consumers -= 1
        if self._queue.auto_delete and self._queue.consumers == 0:
            self._bus._queues.pop(self._queue.name, None)


class InMemoryBus:
    def __init__(
        self, *, prefetch: int = 128, delivery_limit: int = 5, call_timeout: float = 30.0
    ) -> None:
        self._prefetch = prefetch
        self._delivery_limit = delivery_limit
        self._call_timeout = call_timeout
        self._queues: dict[str, _Queue] = {}
        self._pending: dict[str, asyncio.Future[Envelope]] = {}
        self._raw_pending: dict[str, asyncio.Future[bytes]] = {}
        self._dead: list[DeadLetter] = []
        self._names = itertools.count()
        self._closed = False

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(BusUnavailable("bus closed"))

    # -- routing ---------------------------------------------------------------
    def _route(self, msg: _Message, mandatory: bool) -> None:
        if self._closed:
            raise BusUnavailable("bus closed")
        targets = [
            q
            for q in self._queues.values()
            if q.exchange == msg.exchange and any(matches(p, msg.topic) for p in q.patterns)
        ]
        if not targets and mandatory:
            raise NoConsumer(f"no consumer for {msg.topic!r} on {msg.exchange}")
        for q in targets:
            q.items.put_nowait(
                _Message(msg.exchange, msg.topic, msg.body, msg.reply_to, props=msg.props)
            )

    def _declare(
        self, name: str, exchange: str, patterns: Sequence[str], auto_delete: bool
    ) -> _Queue:
        queue = self._queues.get(name)
        if queue is None:
            queue = _Queue(name, exchange, tuple(patterns), auto_delete)
            self._queues[name] = queue
        else:
            queue.patterns = tuple(dict.fromkeys((*queue.patterns, *patterns)))
        return queue

    def _settle(self, queue: _Queue, msg: _Message, outcome: Outcome) -> None:
        for raw, reason in outcome.dead_items:
            self._dead_letter(msg, reason, orjson.dumps(raw))
        if outcome.disposition is Disposition.DEAD:
            self._dead_letter(msg, outcome.reason, msg.body)
        elif outcome.disposition is Disposition.REQUEUE:
            msg.attempts += 1
            if msg.attempts >= self._delivery_limit:
                self._dead_letter(msg, f"delivery limit reached: {outcome.reason}", msg.body)
            elif queue.name in self._queues:
                queue.items.put_nowait(msg)

    def _dead_letter(self, msg: _Message, reason: str, body: bytes) -> None:
        log.warning("dead-lettering a message on %s %s: %s", msg.exchange, msg.topic, reason)
        DEAD_LETTERS.labels(msg.exchange).inc()
        self._dead.append(DeadLetter(msg.exchange, msg.topic, reason, body))

    def _resolve(self, reply_to: str, reply: Envelope) -> None:
        fut = self._pending.get(reply_to)
        if fut is not None and not fut.done():
            fut.set_result(Envelope.decode(reply.encode()))

    # -- client side -----------------------------------------------------------
    async def call(self, topic: str, request: Envelope, timeout: float | None = None) -> Envelope:
        validate_topic(topic)
        timeout = self._call_timeout if timeout is None else timeout
        left = request.remaining()
        if left is None:
            request = request.model_copy(
                update={"deadline": time.time() + timeout, "kind": Kind.CALL}
            )
        else:
            timeout = min(timeout, left)
            request = request.model_copy(update={"kind": Kind.CALL})
        fut: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._pending[request.message_id] = fut
        try:
            self._route(_Message(RPC, topic, request.encode(), request.message_id), True)
            try:
                reply = await asyncio.wait_for(fut, max(timeout, 0))
            except TimeoutError:
                raise DeadlineExceeded(f"no reply to {topic} within {timeout:.3g}s") from None
        finally:
            self._pending.pop(request.message_id, None)
        return raise_for_error(reply)

    async def cast(self, topic: str, request: Envelope) -> None:
        validate_topic(topic)
        request = request.model_copy(update={"kind": Kind.CAST})
        self._route(_Message(CAST, topic, request.encode()), True)

    async def publish(
        self, stream: str, topic: str, event: Envelope, *, coalesce: bool = True
    ) -> None:
        validate_topic(topic)
        _check_stream(stream)
        self._route(_Message(stream, topic, event.encode()), False)

    async def publish_raw(self, stream: str, topic: str, body: bytes) -> None:
        """Publish bytes as they are (tests use it to send poison messages)."""
        exchange = {"rpc": RPC, "cast": CAST}.get(stream, stream)
        self._route(_Message(exchange, topic, body), False)

    async def flush(self) -> None:
        return None

    async def send_reply(self, reply_to: str, reply: Envelope) -> None:
        self._resolve(reply_to, reply)

    # -- server side -----------------------------------------------------------
    async def serve(
        self, service: str, bindings: Sequence[str], handler: RpcHandler
    ) -> _Subscription:
        async def run(msg: _Message) -> Outcome:
            async def respond(reply: Envelope) -> None:
                if msg.reply_to is not None:
                    self._resolve(msg.reply_to, reply)

            return await deliver_rpc(msg.body, msg.topic, handler, respond)

        calls = self._declare(f"rpc.{service}", RPC, bindings, auto_delete=True)
        casts = self._declare(f"cast.{service}", CAST, bindings, auto_delete=False)
        return _Subscription([_Consumer(self, q, run, self._prefetch) for q in (calls, casts)])

    async def subscribe(
        self, stream: str, patterns: Sequence[str], handler: EventHandler, group: str | None = None
    ) -> _Subscription:
        _check_stream(stream)

        async def run(msg: _Message) -> Outcome:
            return await deliver_events(msg.body, msg.topic, handler)

        if group is None:
            queue = self._declare(f"{stream}.bcast.{next(self._names)}", stream, patterns, True)
        else:
            queue = self._declare(f"{stream}.{group}", stream, patterns, False)
        return _Subscription([_Consumer(self, queue, run, self._prefetch)])

    async def serve_api(self, handler: ApiHandler, group: str = "commands") -> _Subscription:
        async def run(msg: _Message) -> Outcome:
            return await deliver_api(
                msg.body,
                msg.topic,
                principal=msg.props.get("user_id"),
                reply_to=msg.reply_to,
                correlation_id=msg.props.get("correlation_id"),
                idempotency_key=msg.props.get("idempotency_key"),
                handler=handler,
                respond=self.send_raw_reply,
            )

        queue = self._declare(f"api.{group}", "api", ("#",), auto_delete=False)
        return _Subscription([_Consumer(self, queue, run, self._prefetch)])

    async def send_raw_reply(self, reply_to: str, correlation_id: str | None, body: bytes) -> None:
        fut = self._raw_pending.get(reply_to)
        if fut is not None and not fut.done():
            fut.set_result(body)

    async def send_command(
        self,
        topic: str,
        body: bytes,
        *,
        principal: str | None,
        idempotency_key: str | None = None,
        timeout: float = 10.0,
    ) -> Any:
        """What an external producer does: publish a command and wait for the answer."""
        reply_to = f"api-reply-{next(self._names)}"
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._raw_pending[reply_to] = fut
        props = {
            "user_id": principal,
            "correlation_id": reply_to,
            "idempotency_key": idempotency_key,
        }
        try:
            self._route(_Message("api", topic, body, reply_to, props=props), False)
            return orjson.loads(await asyncio.wait_for(fut, timeout))
        finally:
            self._raw_pending.pop(reply_to, None)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        taken, self._dead = self._dead[:limit], self._dead[limit:]
        return taken


class _Subscription:
    def __init__(self, consumers: list[_Consumer]) -> None:
        self._consumers = consumers

    async def cancel(self) -> None:
        await asyncio.gather(*(c.cancel() for c in self._consumers))


def _check_stream(stream: str) -> None:
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; one of {STREAMS}")
