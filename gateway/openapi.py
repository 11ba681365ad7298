"""`GET /openapi.json`: an OpenAPI 3.1 document of what this gateway serves, built from
the same route table the app and the auth middleware read (gateway/routing.py), so a
route cannot be served without being documented.

Each route gives a path (path parameters from `{name}`), its query parameters, the
request body's JSON Schema (pydantic), the success status and the error answers in the
format of the route's service, the token it needs (`X-Auth-Token`, or also `?token=`
for the event streams) and a tag per service. API modules may add response details a
route table cannot know (another content type, an extra status) in a module-level
`OPENAPI_RESPONSES = {handler: {"410": {...}}}`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from http import HTTPStatus
from importlib import metadata
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway.auth import QUERY_TOKEN_SERVICES
from gateway.errors import service_of
from gateway.http import gateway, json
from gateway.routing import Access, Handler, Route, Routes

routes = Routes("gateway")

DOCUMENT = "openapi_document"
PATH_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
COMPONENT = "#/components/schemas/{model}"
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {  # Keystone, Glance and the gateway's own routes
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer"},
                    "title": {"type": "string"},
                    "message": {"type": "string"},
                },
            }
        },
    },
    "ComputeFault": {  # Nova and Cinder: {"itemNotFound": {"code", "message"}}
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        },
    },
    "NeutronError": {
        "type": "object",
        "properties": {
            "NeutronError": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "message": {"type": "string"},
                    "detail": {"type": "string"},
                },
            }
        },
    },
}
SECURITY_SCHEMES = {
    "authToken": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
    "queryToken": {"type": "apiKey", "in": "query", "name": "token"},
}


def openapi_path(path: str) -> str:
    """`/servers/{server_id:[0-9a-f-]+}` -> `/servers/{server_id}`."""
    return PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def _error_schema(path: str) -> str:
    service = service_of(path)
    if service in ("compute", "volume"):
        return "ComputeFault"
    return "NeutronError" if service == "network" else "Error"


def _response(status: int, description: str | None = None, schema: str | None = None) -> Any:
    answer: dict[str, Any] = {"description": description or HTTPStatus(status).phrase}
    if schema is not None:
        ref = {"$ref": COMPONENT.format(model=schema)}
        answer["content"] = {"application/json": {"schema": ref}}
    return answer


def _errors(route: Route) -> dict[str, Any]:
    statuses: set[int] = set()
    if route.body is not None or route.query:
        statuses.add(400)
    if route.access is not Access.PUBLIC:
        statuses |= {401, 403}
    if PATH_PARAM.search(route.path):
        statuses.add(404)
    if route.method in ("POST", "PUT", "PATCH", "DELETE") and route.access is not Access.PUBLIC:
        statuses.add(409)
    schema = _error_schema(route.path)
    return {str(s): _response(s, schema=schema) for s in sorted(statuses)}


def _parameters(route: Route) -> list[dict[str, Any]]:
    found = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PATH_PARAM.findall(route.path)
    ]
    found += [
        {"name": name, "in": "query", "required": False, "description": text}
        | {"schema": {"type": "string"}}
        for name, text in route.query.items()
    ]
    return found


def _security(route: Route) -> list[dict[str, list[str]]]:
    if route.access is Access.PUBLIC:
        return []
    schemes: list[dict[str, list[str]]] = [{"authToken": []}]
    if route.service in QUERY_TOKEN_SERVICES:
        schemes.append({"queryToken": []})
    return schemes


def _description(route: Route) -> str:
    access = {
        Access.PUBLIC: "no token needed",
        Access.READER: "any role on the project",
        Access.MEMBER: "member or admin (not a reader)",
        Access.ADMIN: "admin only",
    }[route.access]
    doc = inspect.getdoc(route.handler) or ""
    return f"{doc}\n\nAccess: {access}.".strip()


def _operation(
    route: Route, op_id: str, bodies: dict[type[BaseModel], Any], extra: dict[str, Any]
) -> dict[str, Any]:
    ok = _response(route.status)
    operation: dict[str, Any] = {
        "operationId": op_id,
        "summary": route.summary,
        "description": _description(route),
        "tags": list(dict.fromkeys((route.service, *route.tags))),
        "responses": {str(route.status): ok, **_errors(route), **extra},
        "security": _security(route),
    }
    parameters = _parameters(route)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        content = {"application/json": {"schema": bodies[route.body]}}
        operation["requestBody"] = {"required": True, "content": content}
    return operation


def _body_schemas(
    found: Iterable[Route],
) -> tuple[dict[type[BaseModel], Any], dict[str, Any]]:
    """Each body model's schema (a $ref) and the component schemas they refer to."""
    models = list(dict.fromkeys(r.body for r in found if r.body is not None))
    if not models:
        return {}, {}
    refs, top = models_json_schema([(m, "validation") for m in models], ref_template=COMPONENT)
    return {m: refs[(m, "validation")] for m in models}, dict(top.get("$defs", {}))


def document(
    found: list[Route], base_url: str, extras: dict[Handler, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `found`; `extras` adds responses per handler."""
    bodies, schemas = _body_schemas(found)
    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for route in found:
        op_id = base = f"{route.service}_{route.handler.__name__}"
        n = 1
        while op_id in used:
            n += 1
            op_id = f"{base}_{n}"
        used.add(op_id)
        extra = (extras or {}).get(route.handler, {})
        item = paths.setdefault(openapi_path(route.path), {})
        item[route.method.lower()] = _operation(route, op_id, bodies, extra)
    services = sorted({tag for r in found for tag in (r.service, *r.tags)})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "skymesh gateway",
            "version": _version(),
            "description": "The OpenStack-compatible APIs of skymesh (identity v3, compute "
            "v2.1, network v2.0, block storage v3, image v2) and its event streams.",
        },
        "servers": [{"url": base_url}],
        "tags": [{"name": name} for name in services],
        "paths": paths,
        "components": {
            "schemas": {**schemas, **ERROR_SCHEMAS},
            "securitySchemes": SECURITY_SCHEMES,
        },
        "security": [{"authToken": []}],
    }


def _version() -> str:
    try:
        return metadata.version("skymesh")
    except metadata.PackageNotFoundError:
        return "0"


def served_document(base_url: str) -> dict[str, Any]:
    """The document of every API module's routes and response extras."""
    from gateway.app import all_routes, api_modules  # the app imports this module

    extras: dict[Handler, dict[str, Any]] = {}
    for module in api_modules():
        extras.update(getattr(module, "OPENAPI_RESPONSES", {}))
    return document(all_routes(), base_url, extras)


@routes.get("/openapi.json", summary="This gateway's OpenAPI 3.1 document", access=Access.PUBLIC)
async def openapi_document(request: web.Request) -> web.Response:
    """Built once per process from the route table."""
    shared = gateway(request)
    if DOCUMENT not in shared.state:
        shared.state[DOCUMENT] = served_document(shared.public_url)
    return json(shared.state[DOCUMENT])
