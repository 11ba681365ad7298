"""What a consumer does with one delivery, shared by every transport.

The transport hands over the raw body; this module decodes it, runs the handler and
says what to do with the message: ack it, requeue it (the handler failed in a way
that may pass on retry), or dead-letter it with a reason (it can never succeed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import ValidationError

from corebus.bus import EventHandler, RpcHandler
from corebus.envelope import Envelope, Kind, decode_any, reply_to
from corebus.errors import InvalidMessage
from schemas.errors import InternalError, SkymeshError

log = logging.getLogger(__name__)

# Sends one reply envelope back to the caller.
Respond = Callable[[Envelope], Awaitable[None]]


class Disposition(Enum):
    ACK = "ack"
    REQUEUE = "requeue"
    DEAD = "dead"


@dataclass
class Outcome:
    disposition: Disposition = Disposition.ACK
    reason: str = ""
    # Items of a batch that must be dead-lettered on their own (raw JSON values).
    dead_items: list[tuple[Any, str]] = field(default_factory=list)


def error_reply(request: Envelope, error: SkymeshError) -> Envelope:
    return reply_to(request, Kind.ERROR, "error", 1, error.to_wire())


def _parse(raw: Any) -> Envelope:
    try:
        return Envelope.model_validate(raw)
    except ValidationError as exc:
        raise InvalidMessage(f"invalid envelope: {_short(exc)}") from None


def _short(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(root)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {first['msg']}{more}"


def _failure(exc: BaseException) -> Outcome:
    """Casts and events: refuse what can never pass, retry what might."""
    if isinstance(exc, SkymeshError) and not exc.retryable:
        return Outcome(Disposition.DEAD, f"{exc.code}: {exc.message}")
    if isinstance(exc, ValidationError):  # the payload can never pass
        return Outcome(Disposition.DEAD, f"invalid payload: {_short(exc)}")
    log.warning("handler failed, will retry: %s", exc, exc_info=exc)
    return Outcome(Disposition.REQUEUE, f"{type(exc).__name__}: {exc}")


async def deliver_rpc(body: bytes, topic: str, handler: RpcHandler, respond: Respond) -> Outcome:
    """Calls and casts. A wire message holds one request, or a batch of calls that one
    caller coalesced; each call is answered through `respond` as soon as it is done,
    even when its handler fails."""
    try:
        items = decode_any(body)
    except ValueError as exc:
        return Outcome(Disposition.DEAD, f"undecodable body: {exc}")
    if len(items) == 1:
        return await _one_request(items[0], topic, handler, respond)
    outcomes = await asyncio.gather(*(_one_request(r, topic, handler, respond) for r in items))
    merged = Outcome()
    for raw, outcome in zip(items, outcomes, strict=True):
        if outcome.disposition is Disposition.DEAD:
            merged.dead_items.append((raw, outcome.reason))
        elif outcome.disposition is Disposition.REQUEUE:
            merged.disposition, merged.reason = Disposition.REQUEUE, outcome.reason
    return merged


async def _one_request(raw: Any, topic: str, handler: RpcHandler, respond: Respond) -> Outcome:
    try:
        request = _parse(raw)
    except InvalidMessage as exc:
        return Outcome(Disposition.DEAD, exc.message)
    if request.kind is Kind.CALL and request.expired():
        log.info("dropping call %s on %s: its deadline passed", request.message_id, topic)
        return Outcome()
    try:
        reply = await handler(topic, request)
    except SkymeshError as exc:
        if request.kind is not Kind.CALL:
            return _failure(exc)
        reply = error_reply(request, exc)
    except Exception as exc:
        if request.kind is not Kind.CALL:
            return _failure(exc)
        log.exception("handler for %s failed", topic)
        reply = error_reply(request, InternalError(f"{type(exc).__name__}: {exc}"))
    if request.kind is Kind.CALL and reply is not None:
        await respond(reply)
    return Outcome()


async def deliver_events(body: bytes, topic: str, handler: EventHandler) -> Outcome:
    """One event, or a batch of them coalesced into one wire message."""
    try:
        items = decode_any(body)
    except ValueError as exc:
        return Outcome(Disposition.DEAD, f"undecodable body: {exc}")
    outcome = Outcome()
    for raw in items:
        try:
            event = _parse(raw)
            await handler(topic, event)
        except Exception as exc:
            failed = _failure(exc)
            if failed.disposition is Disposition.REQUEUE:
                # Redeliver the whole message; handlers are idempotent by contract.
                return failed
            outcome.dead_items.append((raw, failed.reason))
    if len(items) == 1 and outcome.dead_items:
        return Outcome(Disposition.DEAD, outcome.dead_items[0][1])
    return outcome
