"""How driver failures leave a handler whose outcome is not a fact.

Retryable failures are re-raised as they are (not SkymeshErrors): the bus requeues the
cast, up to its delivery limit. Others become the matching wire error: a call's caller
gets it, a cast is dead-lettered with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from node_agent.drivers.errors import DriverError, InvalidStateError, NotFoundError
from schemas.errors import Conflict, InternalError, NotFound, SkymeshError

REASON_MAX = 2048
T = TypeVar("T")


def reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:REASON_MAX]


def wire_error(exc: DriverError) -> Exception:
    if exc.retryable:
        return exc
    error: SkymeshError
    if isinstance(exc, NotFoundError):
        error = NotFound(reason(exc))
    elif isinstance(exc, InvalidStateError):
        error = Conflict(reason(exc))
    else:
        error = InternalError(reason(exc))
    return error


async def driver_call(work: Awaitable[T]) -> T:
    """Await a driver step; a DriverError leaves as `wire_error` says."""
    try:
        return await work
    except DriverError as exc:
        raise wire_error(exc) from None
