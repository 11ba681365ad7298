"""The conductor's flavor API for the gateway: listing and showing what a project may
use, and the admin writes (create, describe, delete, extra specs, access to private
flavors)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from conductor.compute_admin_scope import require_admin
from conductor.db.queries import admin_flavors, flavors
from conductor.db.types import Connection
from conductor.records import flavor_from_row
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, InvalidInput, NotFound
from schemas.messages.conductor_compute_admin import (
    ChangeFlavorAccess,
    CreateFlavor,
    DeleteFlavor,
    FlavorAccessReply,
    FlavorReply,
    FlavorsReply,
    GetFlavor,
    GetFlavorAccess,
    SearchFlavors,
    SetFlavorExtraSpecs,
    UnsetFlavorExtraSpec,
    UpdateFlavor,
)


def _missing(flavor_id: UUID) -> NotFound:
    return NotFound(f"Flavor {flavor_id} could not be found.", flavor_id=str(flavor_id))


class FlavorAdmin:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @rpc
    async def search_flavors(self, ctx: RequestContext, req: SearchFlavors) -> FlavorsReply:
        is_public = req.is_public if ctx.is_admin else True
        async with self._pool.acquire() as conn:
            if req.marker is not None and not await admin_flavors.flavor_exists(conn, req.marker):
                raise InvalidInput(f"marker [{req.marker}] not found")
            rows = await admin_flavors.search_flavors(
                conn,
                is_public=is_public,
                project_id=ctx.project_id,
                min_ram_mb=req.min_ram_mb,
                min_disk_gb=req.min_disk_gb,
                marker=req.marker,
                limit=req.limit,
            )
        return FlavorsReply(flavors=tuple(flavor_from_row(row) for row in rows))

    @rpc
    async def get_flavor(self, ctx: RequestContext, req: GetFlavor) -> FlavorReply:
        """A flavor the caller's project may use (any flavor for an admin)."""
        async with self._pool.acquire() as conn:
            row = await flavors.get_flavor(
                conn, req.flavor_id, project_id=None if ctx.is_admin else ctx.project_id
            )
        if row is None or (ctx.project_id is None and not ctx.is_admin):
            raise _missing(req.flavor_id)
        return FlavorReply(flavor=flavor_from_row(row))

    @rpc
    async def create_flavor(self, ctx: RequestContext, req: CreateFlavor) -> FlavorReply:
        require_admin(ctx, "creating flavors")
        async with self._pool.acquire() as conn:
            try:
                row = await flavors.create_flavor(
                    conn,
                    req.name,
                    vcpus=req.vcpus,
                    memory_mb=req.memory_mb,
                    disk_gb=req.disk_gb,
                    ephemeral_gb=req.ephemeral_gb,
                    swap_mb=req.swap_mb,
                    is_public=req.is_public,
                    description=req.description,
                    flavor_id=req.flavor_id,
                )
            except asyncpg.UniqueViolationError:
                what = f"id {req.flavor_id}" if req.flavor_id else f"name {req.name}"
                raise Conflict(f"Flavor with {what} already exists.") from None
        return FlavorReply(flavor=flavor_from_row(row))

    @rpc
    async def update_flavor(self, ctx: RequestContext, req: UpdateFlavor) -> FlavorReply:
        require_admin(ctx, "updating flavors")
        async with self._pool.acquire() as conn:
            row = await admin_flavors.set_description(conn, req.flavor_id, req.description)
        if row is None:
            raise _missing(req.flavor_id)
        return FlavorReply(flavor=flavor_from_row(row))

    @rpc
    async def delete_flavor(self, ctx: RequestContext, req: DeleteFlavor) -> None:
        """Servers keep the flavor snapshot they were built with."""
        require_admin(ctx, "deleting flavors")
        async with self._pool.acquire() as conn:
            if not await flavors.delete_flavor(conn, req.flavor_id):
                raise _missing(req.flavor_id)

    @rpc
    async def set_flavor_extra_specs(
        self, ctx: RequestContext, req: SetFlavorExtraSpecs
    ) -> FlavorReply:
        require_admin(ctx, "setting flavor extra specs")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _locked(conn, req.flavor_id)
            await flavors.set_extra_specs(conn, row["id"], req.extra_specs)
            found = await flavors.get_flavor(conn, req.flavor_id)
        assert found is not None
        return FlavorReply(flavor=flavor_from_row(found))

    @rpc
    async def unset_flavor_extra_spec(
        self, ctx: RequestContext, req: UnsetFlavorExtraSpec
    ) -> FlavorReply:
        require_admin(ctx, "deleting flavor extra specs")
        async with self._pool.acquire() as conn, conn.transaction():
            await _locked(conn, req.flavor_id)
            if not await flavors.unset_extra_spec(conn, req.flavor_id, req.key):
                raise NotFound(f"Flavor {req.flavor_id} has no extra specs with key {req.key}.")
            found = await flavors.get_flavor(conn, req.flavor_id)
        assert found is not None
        return FlavorReply(flavor=flavor_from_row(found))

    @rpc
    async def get_flavor_access(
        self, ctx: RequestContext, req: GetFlavorAccess
    ) -> FlavorAccessReply:
        require_admin(ctx, "listing flavor access")
        async with self._pool.acquire() as conn:
            row = await flavors.get_flavor(conn, req.flavor_id)
            if row is None:
                raise _missing(req.flavor_id)
            if row["is_public"]:
                raise NotFound("Access list not available for public flavors.")
            projects = await admin_flavors.access_list(conn, req.flavor_id)
        return FlavorAccessReply(flavor_id=req.flavor_id, project_ids=tuple(projects))

    @rpc
    async def change_flavor_access(
        self, ctx: RequestContext, req: ChangeFlavorAccess
    ) -> FlavorAccessReply:
        require_admin(ctx, "changing flavor access")
        async with self._pool.acquire() as conn, conn.transaction():
            row = await _locked(conn, req.flavor_id)
            if row["is_public"]:
                raise Conflict("Can not add access to a public flavor.")
            given = set(await admin_flavors.access_list(conn, req.flavor_id))
            if req.grant:
                if req.project_id in given:
                    raise Conflict(
                        f"Flavor access already exists for flavor {req.flavor_id} "
                        f"and project {req.project_id} combination."
                    )
                if not await admin_flavors.project_exists(conn, req.project_id):
                    raise InvalidInput(f"Project {req.project_id} does not exist.")
                await flavors.add_access(conn, req.flavor_id, req.project_id)
            elif not await flavors.remove_access(conn, req.flavor_id, req.project_id):
                raise NotFound(
                    f"Flavor access not found for {req.flavor_id} / {req.project_id} combination."
                )
            projects = await admin_flavors.access_list(conn, req.flavor_id)
        return FlavorAccessReply(flavor_id=req.flavor_id, project_ids=tuple(projects))


async def _locked(conn: Connection, flavor_id: UUID) -> dict[str, Any]:
    """The flavor row, locked for this transaction; NotFound when there is none."""
    row = await admin_flavors.lock_flavor(conn, flavor_id)
    if row is None:
        raise _missing(flavor_id)
    return dict(row)
