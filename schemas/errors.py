"""Errors that may cross the wire.

Only subclasses of `SkymeshError` that are registered here are re-raised on the
calling side; anything else arrives as `RemoteError` with the remote message.
Each error has a stable `code` (its wire name), an HTTP status for the gateway,
and says whether retrying the same request may succeed.
"""

from __future__ import annotations

from typing import Any, ClassVar

ERRORS: dict[str, type[SkymeshError]] = {}


class SkymeshError(Exception):
    code: ClassVar[str] = "skymesh_error"
    http_status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code:
            ERRORS[code] = cls

    def to_wire(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "retryable": self.retryable,
        }


def error_from_wire(data: dict[str, Any]) -> SkymeshError:
    """Rebuild a registered error from its wire form; unknown codes become RemoteError."""
    code = str(data.get("code", ""))
    message = str(data.get("message", ""))
    details = data.get("details") or {}
    cls = ERRORS.get(code)
    if cls is None:
        return RemoteError(message, remote_code=code, **details)
    return cls(message, **details)


class RemoteError(SkymeshError):
    """The remote side failed with an error type this side does not know."""

    code = "remote_error"


class InternalError(SkymeshError):
    code = "internal_error"


class InvalidInput(SkymeshError):
    code = "invalid_input"
    http_status = 400


class NotFound(SkymeshError):
    code = "not_found"
    http_status = 404


class Conflict(SkymeshError):
    code = "conflict"
    http_status = 409


class Forbidden(SkymeshError):
    code = "forbidden"
    http_status = 403


class Unauthorized(SkymeshError):
    code = "unauthorized"
    http_status = 401


class QuotaExceeded(SkymeshError):
    code = "quota_exceeded"
    http_status = 403


class NoValidHost(SkymeshError):
    code = "no_valid_host"
    http_status = 500


class PlanConflict(SkymeshError):
    """A placement plan no longer fits: the scheduler retries on refreshed state."""

    code = "plan_conflict"
    http_status = 409
    retryable = True


class Gone(SkymeshError):
    """What was asked for existed once but has been purged (an event stream's resume
    point older than the notification retention): the caller must resync."""

    code = "gone"
    http_status = 410
