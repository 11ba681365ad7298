"""The conductor's server API extras for the compute API: servers shown with their
ports, volumes and tags (list and show), update (name, description), metadata and
tags. Every call is scoped to the caller's project (another project's server is
NotFound); admins see every project, and list them all when asked (`all_tenants`)."""

from __future__ import annotations

from typing import Any

import asyncpg

from conductor.db.queries import instance_metadata, instances, server_views
from conductor.db.queries.instance_list import InstanceFilter
from conductor.server_extras_views import check_editable, owned, scope, views
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Forbidden, InvalidInput, NotFound, QuotaExceeded
from schemas.instance_state import states_for_status
from schemas.messages import conductor_server_extras as m

MAX_METADATA_ITEMS = 128  # Nova's default metadata_items quota


class ServerExtras:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, down_after_s: float) -> None:
        self._pool = pool
        self._down_after = down_after_s

    @rpc
    async def find_servers(self, ctx: RequestContext, req: m.FindServers) -> m.FindServersReply:
        own = scope(ctx) if not ctx.is_admin else ctx.project_id
        if (req.host or req.project_id) and not ctx.is_admin:
            raise Forbidden("filtering by project or host is for admins")
        project = req.project_id or (None if ctx.all_tenants else own)
        states = states_for_status(req.status) if req.status else None
        filters = InstanceFilter(
            host=req.host,
            image_id=req.image_id,
            flavor_id=req.flavor_id,
            tags=req.tags,
            tags_any=req.tags_any,
            changes_since=req.changes_since,
            include_deleted=req.deleted or req.changes_since is not None,
            vm_states=sorted({vm.value for vm, _ in states}) if states else None,
        )
        async with self._pool.acquire() as conn:
            if req.marker and not await server_views.marker_exists(conn, req.marker, project):
                raise InvalidInput(f"marker [{req.marker}] not found")
            try:
                rows = await server_views.search_instances(
                    conn,
                    project,
                    filters,
                    name_regex=req.name,
                    limit=req.limit,
                    marker=req.marker,
                )
            except asyncpg.InvalidRegularExpressionError as exc:
                raise InvalidInput(f"invalid name filter {req.name!r}: {exc}") from None
            found = await views(conn, rows, self._down_after)
        marker = rows[-1]["id"] if len(rows) == req.limit else None
        servers = tuple(
            v for v in found if req.status is None or v.server.status == req.status
        )  # task states refine the vm_state filter
        return m.FindServersReply(servers=servers, next_marker=marker)

    @rpc
    async def show_server(self, ctx: RequestContext, req: m.ShowServer) -> m.ServerViewReply:
        async with self._pool.acquire() as conn:
            return await self._view(conn, req.server_id, ctx)

    @rpc
    async def update_server(self, ctx: RequestContext, req: m.UpdateServer) -> m.ServerViewReply:
        changes: dict[str, Any] = {}
        if req.name is not None:
            changes["name"] = req.name
        if req.description is not None or req.clear_description:
            changes["description"] = req.description
        async with self._pool.acquire() as conn, conn.transaction():
            await owned(conn, req.server_id, ctx, for_update=True)
            if changes:
                await instances.update_state(conn, req.server_id, **changes)
            return await self._view(conn, req.server_id, ctx)

    @rpc
    async def set_server_metadata(
        self, ctx: RequestContext, req: m.SetServerMetadata
    ) -> m.ServerMetadataReply:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await owned(conn, req.server_id, ctx, for_update=True)
            check_editable(row, ctx, "update_metadata")
            count = len(req.metadata if req.replace else {**row["metadata"], **req.metadata})
            if count > MAX_METADATA_ITEMS:
                raise QuotaExceeded(
                    f"Quota exceeded for metadata_items: Requested {count}, "
                    f"but the limit is {MAX_METADATA_ITEMS}",
                    resource="metadata_items",
                )
            metadata = await instance_metadata.set_metadata(
                conn, req.server_id, req.metadata, replace=req.replace
            )
        return m.ServerMetadataReply(metadata=metadata)

    @rpc
    async def delete_server_metadata(
        self, ctx: RequestContext, req: m.DeleteServerMetadata
    ) -> m.ServerMetadataReply:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await owned(conn, req.server_id, ctx, for_update=True)
            check_editable(row, ctx, "delete_metadata")
            if not await instance_metadata.delete_metadata_key(conn, req.server_id, req.key):
                raise NotFound(f"Metadata item was not found: {req.key}")
            metadata = await instance_metadata.get_metadata(conn, req.server_id)
        return m.ServerMetadataReply(metadata=metadata)

    @rpc
    async def set_server_tags(self, ctx: RequestContext, req: m.SetServerTags) -> m.ServerTagsReply:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await owned(conn, req.server_id, ctx, for_update=True)
            check_editable(row, ctx, "update tags")
            tags = await instance_metadata.set_tags(conn, req.server_id, req.tags)
        return m.ServerTagsReply(tags=tuple(tags))

    @rpc
    async def change_server_tag(
        self, ctx: RequestContext, req: m.ChangeServerTag
    ) -> m.ServerTagsReply:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await owned(conn, req.server_id, ctx, for_update=True)
            check_editable(row, ctx, "update tag" if req.present else "delete tag")
            if req.present:
                if req.tag not in row["tags"] and len(row["tags"]) >= m.MAX_TAGS:
                    raise InvalidInput(
                        f"The number of tags exceeded the per-server limit {m.MAX_TAGS}"
                    )
                changed = await instance_metadata.add_tag(conn, req.server_id, req.tag)
            else:
                changed = await instance_metadata.remove_tag(conn, req.server_id, req.tag)
                if not changed:
                    raise NotFound(f"Tag '{req.tag}' could not be found.")
            row = await owned(conn, req.server_id, ctx)
        return m.ServerTagsReply(tags=tuple(row["tags"]), changed=changed)

    async def _view(self, conn: Any, server_id: Any, ctx: RequestContext) -> m.ServerViewReply:
        row = await owned(conn, server_id, ctx)
        (view,) = await views(conn, [row], self._down_after)
        return m.ServerViewReply(view=view)
