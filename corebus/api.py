"""Commands from external AMQP producers on `skymesh.api`.

External producers do not speak skymesh's envelope: they publish a JSON object (the
same request body as the HTTP API) with the routing key naming the command
(`servers.create`), and AMQP properties: `user_id` (RabbitMQ checks it equals the
connection's user, so it can be trusted as the principal), `reply_to` and
`correlation_id` for an answer, and `message_id` or an `idempotency-key` header.

Malformed or unauthorised commands are refused to the dead-letter exchange with the
reason (and answered, when a reply was asked for); a command the domain refuses (quota,
not found) is answered with the error and not dead-lettered.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from corebus.dispatch import Disposition, Outcome
from corebus.errors import InvalidMessage
from schemas.errors import Forbidden, SkymeshError, Unauthorized

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "idempotency-key"
# Errors that mean the command itself is unacceptable: dead-lettered with the reason.
REFUSALS = (InvalidMessage, Unauthorized, Forbidden)


@dataclass(frozen=True)
class ApiCommand:
    topic: str
    payload: dict[str, Any]
    principal: str | None  # the broker-validated publishing user
    reply_to: str | None = None
    correlation_id: str | None = None
    idempotency_key: str | None = None


# Answers a command with a JSON-able result (None: nothing to say).
ApiHandler = Callable[[ApiCommand], Awaitable[Any]]
# Sends raw reply bytes to (reply_to, correlation_id).
RawRespond = Callable[[str, str | None, bytes], Awaitable[None]]


def ok(result: Any) -> bytes:
    return orjson.dumps({"ok": True, "result": result})


def failed(error: SkymeshError) -> bytes:
    return orjson.dumps({"ok": False, "error": error.to_wire()})


async def deliver_api(
    body: bytes,
    topic: str,
    *,
    principal: str | None,
    reply_to: str | None,
    correlation_id: str | None,
    idempotency_key: str | None,
    handler: ApiHandler,
    respond: RawRespond,
) -> Outcome:
    async def answer(data: bytes) -> None:
        if reply_to:
            await respond(reply_to, correlation_id, data)

    try:
        payload = orjson.loads(body)
    except ValueError as exc:
        await answer(failed(InvalidMessage(f"the body is not JSON: {exc}")))
        return Outcome(Disposition.DEAD, f"undecodable body: {exc}")
    if not isinstance(payload, dict):
        await answer(failed(InvalidMessage("the body must be a JSON object")))
        return Outcome(Disposition.DEAD, "the body must be a JSON object")
    command = ApiCommand(topic, payload, principal, reply_to, correlation_id, idempotency_key)
    try:
        result = await handler(command)
    except REFUSALS as exc:
        await answer(failed(exc))
        return Outcome(Disposition.DEAD, f"{exc.code}: {exc.message}")
    except SkymeshError as exc:
        if exc.retryable and not reply_to:
            return Outcome(Disposition.REQUEUE, f"{exc.code}: {exc.message}")
        await answer(failed(exc))
        return Outcome()
    except Exception as exc:
        log.exception("api command %s failed", topic)
        return Outcome(Disposition.REQUEUE, f"{type(exc).__name__}: {exc}")
    await answer(ok(result))
    return Outcome()
