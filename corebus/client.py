"""Typed calls on top of a `Bus`: messages in, validated reply models out."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from corebus.bus import Bus
from corebus.envelope import Envelope, Kind, RequestContext, envelope_for
from corebus.errors import InvalidMessage
from schemas.base import Message
from schemas.errors import SkymeshError

M = TypeVar("M", bound=Message)


class Client:
    def __init__(self, bus: Bus, context: RequestContext | None = None) -> None:
        self.bus = bus
        self.context = context

    async def call(
        self,
        topic: str,
        message: Message,
        reply: type[M],
        *,
        timeout: float | None = None,
        context: RequestContext | None = None,
        idempotency_key: str | None = None,
    ) -> M:
        request = envelope_for(
            message, Kind.CALL, context=context or self.context, idempotency_key=idempotency_key
        )
        answer = await self.bus.call(topic, request, timeout)
        return parse_reply(answer, reply)

    async def cast(
        self,
        topic: str,
        message: Message,
        *,
        context: RequestContext | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        request = envelope_for(
            message, Kind.CAST, context=context or self.context, idempotency_key=idempotency_key
        )
        await self.bus.cast(topic, request)

    async def publish(
        self,
        stream: str,
        topic: str,
        message: Message,
        *,
        context: RequestContext | None = None,
    ) -> None:
        await self.bus.publish(
            stream, topic, envelope_for(message, Kind.EVENT, context=context or self.context)
        )


def parse_reply(answer: Envelope, reply: type[M]) -> M:
    if answer.schema_name != reply.message_name:
        raise InvalidMessage(f"expected a {reply.message_name!r} reply, got {answer.schema_name!r}")
    return reply.model_validate(answer.payload)


async def ping(bus: Bus, service: str, timeout: float = 2.0) -> bool:
    """Does `service` answer? (Every service answers `<service>.ping`.)"""
    try:
        await bus.call(f"{service}.ping", Envelope(kind=Kind.CALL, schema="ping"), timeout)
    except SkymeshError:
        return False
    return True


async def wait_until_answers(bus: Bus, service: str, poll_s: float = 0.2) -> None:
    """Return once `service` answers its ping (bound it with asyncio.timeout)."""
    answered = await ping(bus, service)
    while not answered:
        await asyncio.sleep(poll_s)
        answered = await ping(bus, service)
