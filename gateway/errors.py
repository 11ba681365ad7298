"""Errors in the shape each OpenStack client expects.

Handlers raise `HttpError` (or let a `SkymeshError` from the conductor through); the
error middleware renders it in the format of the service the path belongs to:
Nova and Cinder `{"itemNotFound": {"code": 404, "message": ...}}`, Neutron
`{"NeutronError": {"type", "message", "detail"}}`, Keystone and Glance
`{"error": {"code", "title", "message"}}`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from schemas.errors import SkymeshError

# Nova's fault names by status (nova/api/openstack/wsgi.py Fault._fault_names)
NOVA_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

NEUTRON_TYPES = {
    400: "BadRequest",
    401: "NotAuthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "OverQuota",
    415: "UnsupportedMediaType",
    503: "ServiceUnavailable",
}


class HttpError(Exception):
    """An error answer; `kind` refines Neutron's `type` (e.g. NetworkNotFound)."""

    def __init__(
        self, status: int, message: str, *, kind: str | None = None, **headers: str
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.headers = headers


def bad_request(message: str) -> HttpError:
    return HttpError(400, message)


def not_found(message: str, kind: str | None = None) -> HttpError:
    return HttpError(404, message, kind=kind)


def conflict(message: str, kind: str | None = None) -> HttpError:
    return HttpError(409, message, kind=kind)


def forbidden(message: str = "Policy doesn't allow this operation.") -> HttpError:
    return HttpError(403, message)


def from_skymesh(exc: SkymeshError) -> HttpError:
    """A conductor error as an HTTP error; unknown remote errors stay 500."""
    status = exc.http_status
    if exc.code == "no_valid_host":
        status = 409  # only raised synchronously when nothing can ever fit
    if exc.code == "remote_error" or status >= 500:
        status = 503 if exc.retryable else 500
    return HttpError(status, exc.message, kind=exc.details.get("kind"))


def service_of(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def render(service: str, error: HttpError) -> dict[str, Any]:
    title = HTTPStatus(error.status).phrase if error.status in HTTPStatus._value2member_map_ else ""
    if service in ("compute", "volume"):
        name = NOVA_FAULTS.get(error.status, "computeFault")
        return {name: {"code": error.status, "message": error.message}}
    if service == "network":
        kind = error.kind or NEUTRON_TYPES.get(error.status, "NeutronError")
        return {"NeutronError": {"type": kind, "message": error.message, "detail": ""}}
    return {"error": {"code": error.status, "title": title, "message": error.message}}
