"""Small helpers every API handler uses: the caller, conductor calls, bodies, queries
and JSON answers."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from corebus.envelope import Kind, RequestContext, envelope_for
from gateway.context import GATEWAY, Caller, Gateway
from gateway.errors import HttpError, bad_request, not_found
from schemas.base import Message

M = TypeVar("M", bound=Message)
B = TypeVar("B", bound=BaseModel)

CALLER_KEY: web.RequestKey[Caller] = web.RequestKey("skymesh.caller", Caller)
REQUEST_ID_KEY: web.RequestKey[str] = web.RequestKey("skymesh.request_id", str)


def gateway(request: web.Request) -> Gateway:
    return request.app[GATEWAY]


def caller(request: web.Request) -> Caller:
    """The authenticated caller (the auth middleware put it there)."""
    found = request.get(CALLER_KEY)
    if found is None:
        raise HttpError(401, "The request you have made requires authentication.")
    return found


def project_of(request: web.Request) -> UUID:
    """The caller's project; a project-scoped token is needed."""
    project = caller(request).project_id
    if project is None:
        raise HttpError(403, "this request needs a project-scoped token")
    return project


def all_projects(request: web.Request) -> bool:
    """Did an admin ask for every project (`all_tenants`, `all_projects` or, for
    Neutron and Cinder, just being admin without a `project_id`/`tenant_id` filter)?"""
    value = request.query.get("all_tenants", request.query.get("all_projects", ""))
    return caller(request).is_admin and value.lower() not in ("", "0", "false", "no")


def context(request: web.Request, *, every_project: bool = False) -> RequestContext:
    return caller(request).context(all_projects=every_project)


async def call(
    request: web.Request,
    method: str,
    message: Message,
    reply: type[M],
    *,
    every_project: bool = False,
    timeout: float | None = None,
) -> M:
    """Call `conductor.<method>` as the caller; conductor errors become HTTP errors in
    the error middleware."""
    return await gateway(request).client.call(
        f"conductor.{method}",
        message,
        reply,
        context=context(request, every_project=every_project),
        idempotency_key=request.headers.get("Idempotency-Key"),
        timeout=timeout,
    )


async def call_none(
    request: web.Request, method: str, message: Message, *, timeout: float | None = None
) -> None:
    """Call a conductor method whose reply carries nothing the handler needs (None or
    `Accepted`); errors still raise."""
    request_envelope = envelope_for(
        message,
        Kind.CALL,
        context=context(request),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    await gateway(request).bus.call(f"conductor.{method}", request_envelope, timeout)


async def body(request: web.Request) -> dict[str, Any]:
    """The JSON object in the body; 400 when it is not one, 415 for another type."""
    if request.content_type not in ("application/json", "application/octet-stream", ""):
        if not request.content_type.endswith("+json"):
            raise HttpError(415, f"unsupported content type {request.content_type!r}")
    raw = await request.read()
    if not raw:
        raise bad_request("the request needs a JSON body")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"malformed JSON in the request body: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON object")
    if _has_nul(data):
        raise bad_request("NUL characters (\\u0000) are not allowed in the request body")
    return data


def _has_nul(data: Any) -> bool:
    """Whether a decoded JSON value holds a NUL character in any key or string."""
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any("\x00" in k or _has_nul(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_has_nul(v) for v in data)
    return False


def wrapped(data: dict[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` as an object, e.g. the `server` in `{"server": {...}}`."""
    inner = data.get(key)
    if not isinstance(inner, dict):
        raise bad_request(f"the request body needs a {key!r} object")
    return inner


def parse(model: type[B], data: Any, what: str = "request") -> B:
    """Validate `data` as `model`; a clear 400 naming the first bad field otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(f"invalid {what}: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def uuid_arg(request: web.Request, name: str, what: str | None = None) -> UUID:
    """A UUID path parameter; a clean 404 when it is not one (as Nova answers lookups
    by name on `/servers/<name>`)."""
    raw = request.match_info[name]
    try:
        return UUID(raw)
    except ValueError:
        raise not_found(f"{what or name.removesuffix('_id')} {raw} could not be found") from None


def query_int(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"query parameter {name} must be an integer, not {raw!r}") from None


def query_uuid(request: web.Request, name: str) -> UUID | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise bad_request(f"query parameter {name} must be a UUID, not {raw!r}") from None


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer (orjson: datetimes as ISO 8601, UUIDs as strings)."""
    return web.Response(
        body=orjson.dumps(data, default=_default),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def no_content(status: int = 204) -> web.Response:
    return web.Response(status=status)


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def iso(value: Any) -> str | None:
    """A datetime the way OpenStack writes it: `2026-01-02T03:04:05Z` (None stays)."""
    if value is None:
        return None
    return str(value.strftime("%Y-%m-%dT%H:%M:%SZ"))


def url(request: web.Request, path: str) -> str:
    """An absolute URL of this gateway (for links)."""
    return gateway(request).public_url.rstrip("/") + path
