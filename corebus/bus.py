"""The `Bus` protocol: what every transport offers, with identical semantics.

- `call`: request and reply with a deadline. No consumer bound -> `NoConsumer` at
  once; deadline passed -> `DeadlineExceeded`; connection dropped -> `ConnectionLost`.
  A remote error comes back as the registered error type (or `RemoteError`).
- `cast`: one-way command to a service's durable queue (survives the service's absence).
- `publish` / `subscribe`: events on a stream (`events`, `notifications`, `api`) by
  topic; `group` makes competing consumers on a durable queue, no group is broadcast.
- Messages that do not decode or validate are dead-lettered with a reason, never
  crash a consumer; handlers that keep failing are dead-lettered after
  `delivery_limit` attempts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from corebus.envelope import Envelope

if TYPE_CHECKING:
    from corebus.api import ApiHandler

STREAMS = ("events", "notifications", "api")

# An RPC handler gets every call and cast routed to its service; for calls it
# returns the reply (or error) envelope, for casts its return value is ignored.
RpcHandler = Callable[[str, Envelope], Awaitable[Envelope | None]]
# An event handler gets the routing topic and one event envelope.
EventHandler = Callable[[str, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class DeadLetter:
    exchange: str
    topic: str
    reason: str
    body: bytes


class Subscription(Protocol):
    async def cancel(self) -> None:
        """Stop taking new messages, then wait for those in flight."""


class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def call(
        self, topic: str, request: Envelope, timeout: float | None = None
    ) -> Envelope: ...

    async def cast(self, topic: str, request: Envelope) -> None: ...

    async def publish(
        self, stream: str, topic: str, event: Envelope, *, coalesce: bool = True
    ) -> None:
        """With `coalesce` (internal streams), events to one topic in one loop tick may
        share a wire message (a JSON array); without, each is a message of its own (the
        public notification stream, read by subscribers outside skymesh)."""

    async def flush(self) -> None:
        """Wait until every event published so far is confirmed by the broker."""

    async def serve(
        self, service: str, bindings: Sequence[str], handler: RpcHandler
    ) -> Subscription: ...

    async def subscribe(
        self,
        stream: str,
        patterns: Sequence[str],
        handler: EventHandler,
        group: str | None = None,
    ) -> Subscription: ...

    async def send_reply(self, reply_to: str, reply: Envelope) -> None:
        """Answer an external producer that named a `reply_to` queue."""

    async def serve_api(self, handler: ApiHandler, group: str = "commands") -> Subscription:
        """Consume external producers' commands from the `api` stream (corebus/api.py)."""

    async def send_raw_reply(self, reply_to: str, correlation_id: str | None, body: bytes) -> None:
        """Answer an external producer with raw JSON bytes."""

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Take up to `limit` dead letters (oldest first) from the dead-letter queue."""
