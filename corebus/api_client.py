"""A client of the AMQP producer API (`skymesh.api`), as an external producer would
write it with aio-pika: JSON bodies, `user_id` = the connection's user, answers on an
exclusive reply queue matched by correlation id. Used by `skymesh up` and the boot
benchmark; docs/amqp-api.md describes the protocol."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

import aio_pika
import orjson
from aio_pika.abc import AbstractIncomingMessage

from corebus.api import IDEMPOTENCY_HEADER
from schemas.errors import error_from_wire


class ApiClient:
    def __init__(self, url: str) -> None:
        self._url = url
        self._user = unquote(urlsplit(url).username or "guest")
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._replies = ""

    async def __aenter__(self) -> ApiClient:
        self._connection = await aio_pika.connect(self._url)
        channel = await self._connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.consume(self._on_reply, no_ack=True)
        self._replies = queue.name
        self._exchange = await channel.get_exchange("skymesh.api")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        fut = self._pending.get(message.correlation_id or "")
        if fut is not None and not fut.done():
            fut.set_result(orjson.loads(message.body))

    async def command(
        self,
        name: str,
        body: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        timeout: float = 30.0,
    ) -> Any:
        """Send `name` and return its result; a refusal raises the error it names."""
        assert self._exchange is not None, "use `async with ApiClient(url)`"
        correlation = uuid.uuid4().hex
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[correlation] = fut
        headers: dict[str, Any] | None = (
            {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else None
        )
        message = aio_pika.Message(
            orjson.dumps(body),
            message_id=uuid.uuid4().hex,  # the key when none is given: a redelivery is one command
            user_id=self._user,
            reply_to=self._replies,
            correlation_id=correlation,
            content_type="application/json",
            headers=headers,
        )
        try:
            await self._exchange.publish(message, routing_key=name)
            answer = await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(correlation, None)
        if not answer.get("ok"):
            raise error_from_wire(answer.get("error") or {})
        return answer.get("result")
