"""The gateway application: one aiohttp app, every API module's routes, the
middlewares, and the shared `Gateway` parts.

API modules are listed explicitly (no discovery by scanning); each exports `routes`.
Modules that need start-up or shutdown work (the event hub) export `on_startup`,
`on_shutdown` (runs before the server waits for open requests: end long-lived streams
there) and `on_cleanup` too.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from aiohttp import web

from corebus.bus import Bus
from corebus.client import Client
from corebus.config import GatewaySettings
from gateway.auth import TOKEN_CACHE, TokenCache
from gateway.context import GATEWAY, Gateway
from gateway.middleware import MIDDLEWARES
from gateway.routing import Route, add_routes

API_MODULES: tuple[str, ...] = (
    "gateway.discovery",
    "gateway.identity_tokens",
    "gateway.identity",
    "gateway.identity_users",
    "gateway.identity_roles",
    "gateway.compute_servers",
    "gateway.compute_server_actions",
    "gateway.compute_server_meta",
    "gateway.compute_server_devices",
    "gateway.compute_server_activity",
    "gateway.compute_admin",
    "gateway.compute_admin_flavor_specs",
    "gateway.compute_admin_keypairs",
    "gateway.compute_admin_server_groups",
    "gateway.compute_admin_quotas",
    "gateway.compute_admin_services",
    "gateway.compute_admin_hypervisors",
    "gateway.compute_admin_aggregates",
    "gateway.network",
    "gateway.network_ports",
    "gateway.network_security",
    "gateway.network_routers",
    "gateway.volume",
    "gateway.volume_quotas",
    "gateway.image",
    "gateway.image_data",
    "gateway.events",
    "gateway.placement",
    "gateway.openapi",
)


def api_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in API_MODULES]


def all_routes() -> list[Route]:
    return [route for module in api_modules() for route in module.routes.routes]


def build_app(settings: GatewaySettings, bus: Bus, base_url: str | None = None) -> web.Application:
    """The application; `base_url` is what clients use (default from the settings)."""
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=settings.max_body_bytes)
    shared = Gateway(
        settings=settings,
        bus=bus,
        client=Client(bus),
        public_url=base_url or settings.base_url,
    )
    shared.state[TOKEN_CACHE] = TokenCache(settings.token_cache_s)
    app[GATEWAY] = shared
    for module in api_modules():
        add_routes(app, module.routes.routes)
        if hasattr(module, "on_startup"):
            app.on_startup.append(module.on_startup)
        if hasattr(module, "on_shutdown"):
            app.on_shutdown.append(module.on_shutdown)
        if hasattr(module, "on_cleanup"):
            app.on_cleanup.append(module.on_cleanup)
    return app
