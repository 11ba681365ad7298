"""From an AMQP delivery to the shared dispatch logic, and back from a dead-lettered
message to a `DeadLetter`: what the AMQP transport reads off a message's properties."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractIncomingMessage

from corebus.amqp import topology as topo
from corebus.api import IDEMPOTENCY_HEADER, ApiHandler, RawRespond, deliver_api
from corebus.bus import DeadLetter, EventHandler, RpcHandler
from corebus.dispatch import Outcome, deliver_events, deliver_rpc
from corebus.envelope import Envelope

Deliver = Callable[[AbstractIncomingMessage], Awaitable[Outcome]]
SendReply = Callable[[str, Envelope], Awaitable[None]]


def rpc_delivery(handler: RpcHandler, send_reply: SendReply) -> Deliver:
    """Calls and casts; each call is answered on the message's `reply_to`."""

    async def deliver(message: AbstractIncomingMessage) -> Outcome:
        async def respond(reply: Envelope) -> None:
            if message.reply_to:
                await send_reply(message.reply_to, reply)

        return await deliver_rpc(message.body, message.routing_key or "", handler, respond)

    return deliver


def event_delivery(handler: EventHandler) -> Deliver:
    async def deliver(message: AbstractIncomingMessage) -> Outcome:
        return await deliver_events(message.body, message.routing_key or "", handler)

    return deliver


def api_delivery(handler: ApiHandler, respond: RawRespond) -> Deliver:
    """External commands: the principal is the broker-validated `user_id`; the
    idempotency key a header or the message id."""

    async def deliver(message: AbstractIncomingMessage) -> Outcome:
        headers = message.headers or {}
        key = headers.get(IDEMPOTENCY_HEADER) or message.message_id
        return await deliver_api(
            message.body,
            message.routing_key or "",
            principal=message.user_id,
            reply_to=message.reply_to,
            correlation_id=message.correlation_id,
            idempotency_key=None if key is None else str(key),
            handler=handler,
            respond=respond,
        )

    return deliver


def dead_letter_of(message: AbstractIncomingMessage) -> DeadLetter:
    """Ours carry the reason in a header; the broker's own (delivery limit) in x-death."""
    headers = message.headers or {}
    reason = headers.get(topo.REASON_HEADER) or headers.get("x-first-death-reason") or "unknown"
    origin = headers.get(topo.ORIGIN_HEADER) or headers.get("x-first-death-exchange") or ""
    if isinstance(reason, bytes):
        reason = reason.decode()
    if isinstance(origin, bytes):
        origin = origin.decode()
    return DeadLetter(str(origin), message.routing_key or "", str(reason), message.body)
