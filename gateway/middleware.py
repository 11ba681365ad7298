"""The gateway's middlewares, outermost first: request id and errors, authorisation,
microversions."""

from __future__ import annotations

import logging
import re
from uuid import uuid4

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway import microversion
from gateway.auth import authorise
from gateway.context import GATEWAY
from gateway.errors import HttpError, from_skymesh, render, service_of
from gateway.http import REQUEST_ID_KEY, json
from gateway.routing import Access, route_of
from schemas.errors import SkymeshError

log = logging.getLogger(__name__)
REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@web.middleware
async def request_id_and_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer carries X-OpenStack-Request-ID; every error is rendered the way the
    path's service renders it, and nothing escapes as a bare 500 page."""
    given = request.headers.get("X-OpenStack-Request-ID", "")
    request_id = given if REQUEST_ID.match(given) else f"req-{uuid4()}"
    request[REQUEST_ID_KEY] = request_id
    try:
        response = await handler(request)
    except HttpError as exc:
        response = _error(request, exc)
    except SkymeshError as exc:
        response = _error(request, from_skymesh(exc))
    except web.HTTPRequestEntityTooLarge as exc:
        response = _error(request, HttpError(413, exc.text or "Request Entity Too Large"))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        response = _error(request, HttpError(exc.status, message))
        if isinstance(exc, web.HTTPMethodNotAllowed):
            response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
    except Exception:
        log.exception("%s %s failed (%s)", request.method, request.path, request_id)
        response = _error(request, HttpError(500, f"Unexpected error ({request_id})"))
    response.headers["X-OpenStack-Request-ID"] = request_id
    if service_of(request.path) == "compute":
        response.headers["X-Compute-Request-ID"] = request_id
    return response


def _error(request: web.Request, error: HttpError) -> web.Response:
    response = json(render(service_of(request.path), error), status=error.status)
    for name, value in error.headers.items():
        response.headers[name.replace("_", "-")] = value
    if error.status == 401:
        base = request.app[GATEWAY].public_url
        response.headers["WWW-Authenticate"] = f'Keystone uri="{base}/identity"'
    return response


@web.middleware
async def no_nul_characters(request: web.Request, handler: Handler) -> web.StreamResponse:
    """PostgreSQL text cannot hold NUL: refuse it in the path and query with a 400
    (JSON bodies are checked by `http.body`) instead of failing deep in the conductor."""
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.query.items()):
        raise HttpError(400, "NUL characters are not allowed in the path or the query")
    return await handler(request)


@web.middleware
async def authorisation(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = route_of(request)
    if route is not None and route.access is not Access.PUBLIC:
        await authorise(request, route)
    return await handler(request)


@web.middleware
async def microversions(request: web.Request, handler: Handler) -> web.StreamResponse:
    served = microversion.RANGES.get(service_of(request.path))
    if served is None or route_of(request) is None:
        return await handler(request)
    version = microversion.requested(request, served)
    request[microversion.MICROVERSION_KEY] = version
    response = await handler(request)
    microversion.answer_headers(response, served, version)
    return response


MIDDLEWARES = (request_id_and_errors, no_nul_characters, authorisation, microversions)
