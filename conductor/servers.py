"""The conductor's server API: create, delete, get and list servers.

Handlers are thin: check who asks, then one transaction writes the instance, its quota
usage, its action record and the `instance.*.start` notification; the build and the
delete go on from there, driven by the agents' facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg

from conductor import boot_groups, boot_ports, boot_volumes, lifecycle
from conductor.agents import Casts, agent_topic, cast_all
from conductor.build import Builds
from conductor.db.queries import (
    admin_server_groups,
    flavors,
    images,
    instance_actions,
    instances,
    migrations,
)
from conductor.db.queries.instance_list import InstanceFilter, list_instances
from conductor.quota import charge
from conductor.records import flavor_from_row, instance_from_row
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import current_envelope, rpc
from schemas.block_device import SourceType, boot_device
from schemas.compute import Flavor
from schemas.errors import Forbidden, NotFound
from schemas.flavor_specs import resource_request
from schemas.instance_state import states_for_status
from schemas.messages.agent_compute import Destroy
from schemas.messages.common import Accepted
from schemas.messages.conductor_servers import (
    CreateServer,
    CreateServerReply,
    DeleteServer,
    GetServer,
    GetServerReply,
    ListServers,
    ListServersReply,
)
from schemas.messages.scheduler import RequestSpec, ServerGroupHint


def identity(ctx: RequestContext) -> tuple[UUID, UUID]:
    """(project, user) of a user-facing request; refused without both."""
    if ctx.project_id is None or ctx.user_id is None:
        raise Forbidden("this request needs a user and a project")
    return ctx.project_id, ctx.user_id


class ServerAPI:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        client: Client,
        builds: Builds,
        *,
        schedule_timeout_s: float,
        action_timeout_s: float,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._pool = pool
        self._client = client
        self._builds = builds
        self._schedule_timeout = schedule_timeout_s
        self._action_timeout = action_timeout_s
        self._on_commit = on_commit  # wakes the outbox relay

    @rpc
    async def create_server(self, ctx: RequestContext, req: CreateServer) -> CreateServerReply:
        envelope = current_envelope()
        # no key given: the message id, so a call redelivered (its conductor died before
        # acking it) creates nothing twice
        key = (envelope.idempotency_key or envelope.message_id) if envelope else None
        return await self.create(ctx, req, key)

    async def create(
        self, ctx: RequestContext, req: CreateServer, key: str | None
    ) -> CreateServerReply:
        """Create the servers of `req` with their ports, volumes and group membership,
        all or nothing; the same idempotency `key` again returns the server the first
        request created."""
        project_id, _ = identity(ctx)
        reservation = "r-" + uuid.uuid4().hex[:12]
        async with self._pool.acquire() as conn, conn.transaction():
            if key is not None:
                # a concurrent duplicate (the same message redelivered) waits here for the
                # first to commit, then finds its server instead of failing on the key
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{project_id}:{key}"
                )
                existing = await instances.get_by_idempotency_key(conn, project_id, key)
                if existing is not None:  # the same request again: the same server
                    return CreateServerReply(server_ids=(existing["id"],), reservation_id=key)
            ids, casts = await self._create_in(conn, ctx, req, key)
            await self._builds.own(conn, ids)  # resumable from here if this conductor dies
        self._on_commit()
        await cast_all(self._client, casts, ctx)
        for instance_id in ids:
            self._builds.start(instance_id, ctx.request_id)
        return CreateServerReply(server_ids=tuple(ids), reservation_id=reservation)

    async def _create_in(
        self, conn: Any, ctx: RequestContext, req: CreateServer, key: str | None
    ) -> tuple[list[UUID], Casts]:
        """The create transaction's writes: the instances and what they boot with."""
        project_id, user_id = identity(ctx)
        flavor, image_properties = await _flavor(conn, req, project_id)
        count = req.max_count
        nics = await boot_ports.requested_networks(conn, req.networks, project_id)
        boot_ports.check_count(nics, count)
        boot_volumes.check_count(req.block_device_mapping, count)
        await charge(
            conn,
            project_id,
            {"instances": count, "cores": flavor.vcpus * count, "ram": flavor.memory_mb * count},
        )
        group = None
        if req.server_group_id is not None:
            group = await boot_groups.admit(conn, req.server_group_id, project_id, count)
        group_ids: list[UUID] = []
        casts: Casts = []
        if any(nic.network_id is not None for nic in nics):
            group_ids, casts = await boot_ports.security_groups(
                conn, project_id, req.security_groups
            )
        ids = [uuid.uuid4() for _ in range(count)]
        for n, instance_id in enumerate(ids):
            spec = _spec(req, instance_id, (project_id, user_id), flavor, image_properties, group)
            await self._insert(conn, ctx, req, spec, n, key if n == 0 else None, flavor)
            await boot_ports.allocate(conn, instance_id, project_id, nics, group_ids)
            casts += await boot_volumes.reserve(
                conn,
                instance_id,
                project_id,
                user_id,
                req.block_device_mapping,
                lifecycle.deadline_in(self._action_timeout),
            )
        if group is not None:
            await admin_server_groups.add_members(conn, group.group_id, ids)
        return ids, casts

    async def _insert(
        self,
        conn: Any,
        ctx: RequestContext,
        req: CreateServer,
        spec: RequestSpec,
        n: int,
        key: str | None,
        flavor: Flavor,
    ) -> None:
        """The instance row of the `n`th server, its create action and notification."""
        (instance_id,) = spec.instance_ids
        assert spec.user_id is not None
        await instances.insert_instance(
            conn,
            instance_id=instance_id,
            project_id=spec.project_id,
            user_id=spec.user_id,
            name=req.name if req.max_count == 1 else f"{req.name}-{n + 1}",
            flavor=flavor.model_dump(mode="json"),
            flavor_id=flavor.id,
            image_id=spec.image_id,
            task_deadline=lifecycle.deadline_in(self._schedule_timeout),
            availability_zone=req.availability_zone,
            key_name=req.key_name,
            user_data=req.user_data,
            config_drive=req.config_drive,
            request_spec=spec.model_dump(mode="json"),
            idempotency_key=key,
            description=req.description,
            metadata=req.metadata,
        )
        await instance_actions.start_action(
            conn,
            instance_id,
            ctx.request_id,
            "create",
            project_id=spec.project_id,
            user_id=spec.user_id,
        )
        await lifecycle.emit(conn, "instance.create.start", instance_id, ctx.request_id)

    @rpc
    async def delete_server(self, ctx: RequestContext, req: DeleteServer) -> Accepted:
        project_id, user_id = identity(ctx)
        destroy_on: list[str] = []
        cleanup: Casts = []
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._owned(conn, req.server_id, ctx, for_update=True)
            if row["locked"] and not ctx.is_admin:
                raise Forbidden(f"server {req.server_id} is locked")
            await instance_actions.start_action(
                conn,
                req.server_id,
                ctx.request_id,
                "delete",
                project_id=project_id,
                user_id=user_id,
            )
            if row["task_state"] != "deleting":
                await lifecycle.emit(conn, "instance.delete.start", req.server_id, ctx.request_id)
            if row["host"] is None:  # never placed: nothing on any host to clean up
                cleanup = await lifecycle.finish_delete(conn, req.server_id, ctx.request_id)
            else:
                await instances.update_state(
                    conn,
                    req.server_id,
                    task_state="deleting",
                    task_deadline=lifecycle.deadline_in(self._action_timeout),
                )
                destroy_on = [row["host"], *await _other_copy(conn, row)]
        self._on_commit()
        await cast_all(self._client, cleanup, ctx)
        for host in destroy_on:
            destroy = Destroy(instance_id=req.server_id)
            await self._client.cast(agent_topic(host, destroy), destroy, context=ctx)
        return Accepted(resource_id=req.server_id, request_id=ctx.request_id)

    @rpc
    async def get_server(self, ctx: RequestContext, req: GetServer) -> GetServerReply:
        async with self._pool.acquire() as conn:
            row = await self._owned(conn, req.server_id, ctx)
            fault = await instance_actions.latest_fault(conn, req.server_id)
        return GetServerReply(server=instance_from_row(row, _fault_of(row, fault)))

    @rpc
    async def list_servers(self, ctx: RequestContext, req: ListServers) -> ListServersReply:
        project_id, _ = identity(ctx)
        if (req.project_id or req.host) and not ctx.is_admin:
            raise Forbidden("filtering by project or host is for admins")
        scope = req.project_id if ctx.is_admin else project_id
        states = states_for_status(req.status) if req.status else None
        filters = InstanceFilter(
            name=req.name,
            host=req.host,
            image_id=req.image_id,
            flavor_id=req.flavor_id,
            changes_since=req.changes_since,
            include_deleted=req.deleted,
            vm_states=sorted({vm.value for vm, _ in states}) if states else None,
        )
        async with self._pool.acquire() as conn:
            rows = await list_instances(conn, scope, filters, limit=req.limit, marker=req.marker)
        marker = rows[-1]["id"] if len(rows) == req.limit else None
        servers = tuple(
            server
            for server in map(instance_from_row, rows)
            if req.status is None or server.status == req.status  # task states refine it
        )
        return ListServersReply(servers=servers, next_marker=marker)

    async def _owned(
        self, conn: Any, server_id: UUID, ctx: RequestContext, *, for_update: bool = False
    ) -> dict[str, Any]:
        project_id = None if ctx.is_admin else identity(ctx)[0]
        row = await instances.get_instance(
            conn, server_id, project_id=project_id, for_update=for_update
        )
        if row is None:
            raise NotFound(f"server {server_id} not found", server_id=str(server_id))
        return row


async def _other_copy(conn: Any, row: dict[str, Any]) -> list[str]:
    """The other host of a resize or migration in progress, which keeps a copy until
    the move is confirmed (its destroy fact is dropped: the host is not the instance's)."""
    moving = await migrations.in_progress(conn, row["id"])
    if moving is None:
        return []
    hosts = {moving["source_host"], moving["dest_host"]} - {row["host"], None}
    return sorted(hosts)


async def _flavor(conn: Any, req: CreateServer, project_id: UUID) -> tuple[Flavor, dict[str, str]]:
    """The flavor to create with and the properties of its image, which must exist (none
    when booting from a volume: the volume holds the root disk). The properties go to
    the scheduler (image architecture, hypervisor type and version)."""
    row = await flavors.get_flavor(conn, req.flavor_id, project_id=project_id)
    if row is None or row["disabled"]:
        raise NotFound(f"flavor {req.flavor_id} not found", flavor_id=str(req.flavor_id))
    image_id = _image_of(req)
    if image_id is None:
        return flavor_from_row(row), {}
    image = await _active_image(conn, image_id)
    if image is None:
        raise NotFound(f"image {image_id} not found or not active")
    properties = image["properties"] or {}
    return flavor_from_row(row), {key: str(value) for key, value in properties.items()}


def _image_of(req: CreateServer) -> UUID | None:
    """The image of the root disk: none when it is a volume; the boot mapping's image
    when it is a local disk made from one and no imageRef was given."""
    if req.boots_from_volume:
        return None
    boot = boot_device(req.block_device_mapping)
    if req.image_id is None and boot is not None and boot.source_type is SourceType.IMAGE:
        return boot.uuid
    return req.image_id


def _spec(
    req: CreateServer,
    instance_id: UUID,
    owner: tuple[UUID, UUID],
    flavor: Flavor,
    image_properties: dict[str, str],
    group: ServerGroupHint | None,
) -> RequestSpec:
    """What the scheduler needs to place one of the servers (the flavor's extra specs
    and the image's properties included, for the capability and image filters)."""
    project_id, user_id = owner
    return RequestSpec(
        instance_ids=(instance_id,),
        project_id=project_id,
        user_id=user_id,
        flavor_id=flavor.id,
        resources=resource_request(flavor, boots_from_volume=req.boots_from_volume),
        image_id=_image_of(req),
        image_properties=image_properties,
        flavor_extra_specs=dict(flavor.extra_specs),
        availability_zone=req.availability_zone,
        server_group=group,
    )


async def _active_image(conn: Any, image_id: UUID) -> dict[str, Any] | None:
    row = await images.get_image(conn, image_id)
    return row if row is not None and row["status"] == "active" else None


def _fault_of(row: dict[str, Any], fault: dict[str, Any] | None) -> dict[str, Any] | None:
    return fault if row["vm_state"] == "error" else None
