"""Routes as data: every handler is registered with its method, full path, service and
access rule, so the app, the auth middleware and the OpenAPI document all read the same
table (a route cannot be served without being documented).

Each API module owns one `Routes` and decorates its handlers:

    routes = Routes("compute", "/compute/v2.1")

    @routes.get("/servers/{server_id}", summary="Show a server")
    async def show_server(request: web.Request) -> web.Response: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Access(Enum):
    PUBLIC = "public"  # no token (discovery, authentication)
    READER = "reader"  # any role on the project; reads only for a reader-only token
    MEMBER = "member"  # member or admin (what a reader may not do)
    ADMIN = "admin"  # admin only


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the full path, e.g. /compute/v2.1/servers/{server_id}
    handler: Handler
    service: str  # identity, compute, network, volume, image, events, gateway
    summary: str
    access: Access
    body: type[BaseModel] | None = None  # the request body's model, for the document
    query: dict[str, str] = field(default_factory=dict)  # query parameter -> description
    status: int = 200  # the success status
    tags: tuple[str, ...] = ()


class Routes:
    """The routes of one API module under one path prefix."""

    def __init__(self, service: str, prefix: str = "") -> None:
        self.service = service
        self.prefix = prefix.rstrip("/")
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        access: Access | None = None,
        body: type[BaseModel] | None = None,
        query: dict[str, str] | None = None,
        status: int | None = None,
        tags: tuple[str, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """Register the decorated handler. By default a GET/HEAD needs a reader and
        anything else a member; pass `access` to say otherwise."""
        method = method.upper()
        if access is None:
            access = Access.READER if method in ("GET", "HEAD") else Access.MEMBER
        default_status = {"POST": 201, "DELETE": 204}.get(method, 200)

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    method,
                    self.prefix + path,
                    handler,
                    self.service,
                    summary,
                    access,
                    body,
                    dict(query or {}),
                    status or default_status,
                    tags,
                )
            )
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def head(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("HEAD", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)


ROUTE_KEY = "skymesh.route"


def add_routes(app: web.Application, routes: list[Route]) -> None:
    """Add every route to the app; each aiohttp route remembers its `Route`."""
    resources: dict[str, web.Resource] = {}
    for route in routes:
        if route.path not in resources:
            resources[route.path] = app.router.add_resource(route.path)
        resources[route.path].add_route(route.method, _tagged(route))


def _tagged(route: Route) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await route.handler(request)

    handler.__dict__[ROUTE_KEY] = route
    handler.__name__ = route.handler.__name__
    handler.__doc__ = route.handler.__doc__
    return handler


def route_of(request: web.Request) -> Route | None:
    """The `Route` the request matched, None for 404/405."""
    handler = request.match_info.handler
    route: Route | None = getattr(handler, "__dict__", {}).get(ROUTE_KEY)
    return route
