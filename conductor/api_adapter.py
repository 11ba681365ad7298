"""The AMQP producer API: external commands on `skymesh.api` become the same conductor
requests the HTTP gateway sends, on behalf of the skymesh user whose name is the
broker-validated AMQP `user_id`, in that user's default project, with its roles there.

Commands: `servers.create`, `servers.delete`, `servers.action`, `servers.get`,
`servers.list`, `servers.attach_volume`, `servers.detach_volume`,
`servers.attach_interface`, `servers.detach_interface`, `volumes.create`,
`volumes.delete`, `volumes.get`, `volumes.list`, `flavors.list`, `images.list`; bodies
are the conductor request models (docs/amqp-api.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from pydantic import ValidationError

from conductor.actions import ServerActions
from conductor.catalog import Catalog
from conductor.db.queries import identity
from conductor.servers import ServerAPI
from corebus.api import ApiCommand
from corebus.bus import Bus, Subscription
from corebus.envelope import RequestContext
from corebus.errors import InvalidMessage
from schemas.base import Message
from schemas.errors import Forbidden, Unauthorized
from schemas.messages.conductor_actions import ServerAction
from schemas.messages.conductor_catalog import ListFlavors, ListImages
from schemas.messages.conductor_networks import (
    CreateFloatingIp,
    CreateNetwork,
    DeleteFloatingIp,
    DeleteNetwork,
    ListNetworks,
)
from schemas.messages.conductor_servers import (
    AttachInterface,
    AttachVolume,
    CreateServer,
    DeleteServer,
    DetachInterface,
    DetachVolume,
    GetServer,
    ListServers,
)
from schemas.messages.conductor_volumes import CreateVolume, DeleteVolume, GetVolume, ListVolumes

# command -> (request model, changes something)
COMMANDS: dict[str, tuple[type[Message], bool]] = {
    "servers.create": (CreateServer, True),
    "servers.delete": (DeleteServer, True),
    "servers.action": (ServerAction, True),
    "servers.get": (GetServer, False),
    "servers.list": (ListServers, False),
    "servers.attach_volume": (AttachVolume, True),
    "servers.detach_volume": (DetachVolume, True),
    "servers.attach_interface": (AttachInterface, True),
    "servers.detach_interface": (DetachInterface, True),
    "volumes.create": (CreateVolume, True),
    "volumes.delete": (DeleteVolume, True),
    "volumes.get": (GetVolume, False),
    "volumes.list": (ListVolumes, False),
    "flavors.list": (ListFlavors, False),
    "images.list": (ListImages, False),
    "networks.create": (CreateNetwork, True),
    "networks.delete": (DeleteNetwork, True),
    "networks.list": (ListNetworks, False),
    "floating_ips.create": (CreateFloatingIp, True),
    "floating_ips.delete": (DeleteFloatingIp, True),
}

READ_ROLES = frozenset({"reader", "member", "admin"})
WRITE_ROLES = frozenset({"member", "admin"})

Call = Callable[[RequestContext, Any, str | None], Awaitable[Message]]
Route = tuple[type[Message], Call, bool]


class ApiAdapter:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: Bus,
        servers: ServerAPI,
        actions: ServerActions,
        catalog: Catalog,
        more_calls: Mapping[str, Call] | None = None,
    ) -> None:
        """`more_calls`: the other conductor services' commands (volumes, devices)."""
        self._pool = pool
        self._bus = bus
        self._subscription: Subscription | None = None
        calls: dict[str, Call] = {
            "servers.create": servers.create,
            "servers.delete": no_key(servers.delete_server),
            "servers.action": no_key(actions.server_action),
            "servers.get": no_key(servers.get_server),
            "servers.list": no_key(servers.list_servers),
            "flavors.list": no_key(catalog.list_flavors),
            "images.list": no_key(catalog.list_images),
            **(more_calls or {}),
        }
        self.routes: dict[str, Route] = {
            name: (model, calls[name], writes)
            for name, (model, writes) in COMMANDS.items()
            if name in calls
        }

    async def start(self) -> None:
        self._subscription = await self._bus.serve_api(self.handle)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.cancel()

    async def handle(self, command: ApiCommand) -> Any:
        route = self.routes.get(command.topic)
        if route is None:
            known = ", ".join(sorted(self.routes))
            raise InvalidMessage(f"unknown command {command.topic!r} (known: {known})")
        model, call, writes = route
        ctx = await self.context_of(command.principal, writes)
        try:
            request = model.model_validate(command.payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(body)"
            raise InvalidMessage(f"{command.topic}: {where}: {first['msg']}") from None
        result = await call(ctx, request, command.idempotency_key)
        return result.model_dump(mode="json")

    async def context_of(self, principal: str | None, writes: bool) -> RequestContext:
        """The request context of the publishing user (refused when unknown or without a
        role that allows the command)."""
        if not principal:
            raise Unauthorized("the command carries no user_id property")
        async with self._pool.acquire() as conn:
            user = await identity.get_user_by_name(conn, principal)
            if user is None or not user["enabled"] or user["default_project_id"] is None:
                raise Unauthorized(f"{principal!r} is not a skymesh user with a default project")
            project_id = user["default_project_id"]
            roles = set(await identity.roles_for(conn, user["id"], project_id))
        allowed = WRITE_ROLES if writes else READ_ROLES
        if not roles & allowed:
            raise Forbidden(f"{principal!r} needs one of {sorted(allowed)} in its project")
        return RequestContext(
            user_id=user["id"],
            project_id=project_id,
            roles=tuple(sorted(roles)),
            is_admin="admin" in roles,
        )


def no_key(
    handler: Callable[[RequestContext, Any], Awaitable[Message]],
) -> Callable[[RequestContext, Any, str | None], Awaitable[Message]]:
    async def call(ctx: RequestContext, request: Any, _key: str | None) -> Message:
        return await handler(ctx, request)

    return call
