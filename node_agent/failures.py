"""How driver failures leave a handler whose outcome is not a fact.

Retryable failures are re-raised as they are (not SkymeshErrors): the bus requeues the
cast, up to its delivery limit. Others become the matching wire error: a call's caller
gets it, a cast is dead-lettered with the reason.
"""

from __future__ import annotations

from node_agent.drivers.errors import DriverError, InvalidStateError, NotFoundError
from schemas.errors import Conflict, InternalError, NotFound, SkymeshError

REASON_MAX = 2048


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
