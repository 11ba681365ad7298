"""Attaching volumes to servers and detaching them, in Cinder's steps.

attach_volume: (1) reserve: the volume goes `attaching` (with a deadline) and a
`reserved` attachment is created, in one transaction that also checks the server is
ACTIVE or SHUTOFF with no task; (2) update with the host's connector: the attachment
goes `attaching` with the RBD connection info; (3) cast `attach_volume` to the server's
compute agent; (4) complete: its volume.attached fact makes the attachment `attached`
and the volume `in-use` (volume_states.attached). A failure reported by the agent, or
the deadline, rolls the attach back. detach_volume is the reverse through `detaching`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg

from conductor import lifecycle
from conductor.agents import agent_topic
from conductor.boot_volumes import host_connector, volume_connection
from conductor.db.queries import instances, volumes
from conductor.device_records import attachment_from_row, rbd_connection
from conductor.volumes import owned_volume, scope_of
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.errors import Conflict, Forbidden, NotFound
from schemas.messages import agent_devices as agent
from schemas.messages.common import Accepted
from schemas.messages.conductor_servers import AttachVolume, AttachVolumeReply, DetachVolume
from schemas.storage import RbdConnection

ATTACHABLE_VM_STATES = ("active", "stopped")  # API status ACTIVE, SHUTOFF


async def server_for_device_change(
    conn: Any, server_id: UUID, ctx: RequestContext, what: str
) -> dict[str, Any]:
    """The server, locked, when it may take or lose a device now (409 otherwise)."""
    row = await instances.get_instance(conn, server_id, project_id=scope_of(ctx), for_update=True)
    if row is None:
        raise NotFound(f"server {server_id} not found", server_id=str(server_id))
    if row["locked"] and not ctx.is_admin:
        raise Forbidden(f"server {server_id} is locked")
    if row["vm_state"] not in ATTACHABLE_VM_STATES or row["task_state"] is not None:
        state = row["vm_state"] + (f"/{row['task_state']}" if row["task_state"] else "")
        raise Conflict(f"cannot {what} server {server_id} while it is {state}")
    if row["host"] is None:
        raise Conflict(f"server {server_id} has no host")
    return row


class VolumeAttachAPI:
    name = "conductor"

    def __init__(
        self,
        pool: asyncpg.Pool,
        client: Client,
        *,
        timeout_s: float,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._pool = pool
        self._client = client
        self._timeout = timeout_s
        self._on_commit = on_commit

    @rpc
    async def attach_volume(self, ctx: RequestContext, req: AttachVolume) -> AttachVolumeReply:
        server, volume, attachment_id = await self._reserve(ctx, req)
        connection = rbd_connection(volume)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await volumes.update_attachment(
                conn,
                attachment_id,
                "attaching",
                expected=("reserved",),
                host=server["host"],
                connector=host_connector(server["host"]),
                connection_info=connection.model_dump(mode="json"),
            )
        if row is None:  # the sweep rolled it back meanwhile
            raise Conflict(f"the attach of volume {req.volume_id} was rolled back")
        command = agent.AttachVolume(
            instance_id=req.server_id,
            volume=volume_connection(row, connection, req.device, shareable=volume["multiattach"]),
        )
        await self._client.cast(agent_topic(server["host"], command), command, context=ctx)
        return AttachVolumeReply(attachment=attachment_from_row(row))

    async def _reserve(
        self, ctx: RequestContext, req: AttachVolume
    ) -> tuple[dict[str, Any], dict[str, Any], UUID]:
        attachment_id = uuid.uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            server = await server_for_device_change(conn, req.server_id, ctx, "attach a volume to")
            volume = await owned_volume(conn, req.volume_id, ctx, for_update=True)
            if volume["project_id"] != server["project_id"]:
                raise Conflict("the volume and the server belong to different projects")
            if volume["status"] != "available":
                raise Conflict(f"volume {req.volume_id} is {volume['status']}, not available")
            await volumes.set_status(
                conn,
                req.volume_id,
                "attaching",
                expected=("available",),
                task_deadline=lifecycle.deadline_in(self._timeout),
            )
            try:
                async with conn.transaction():
                    await volumes.reserve_attachment(
                        conn,
                        attachment_id=attachment_id,
                        volume_id=req.volume_id,
                        instance_id=req.server_id,
                        device=req.device,
                        delete_on_termination=req.delete_on_termination,
                    )
            except asyncpg.UniqueViolationError:
                raise Conflict(f"device {req.device} of server {req.server_id} is taken") from None
        self._on_commit()
        return server, volume, attachment_id

    @rpc
    async def detach_volume(self, ctx: RequestContext, req: DetachVolume) -> Accepted:
        async with self._pool.acquire() as conn, conn.transaction():
            server = await server_for_device_change(
                conn, req.server_id, ctx, "detach a volume from"
            )
            await owned_volume(conn, req.volume_id, ctx, for_update=True)
            attachment = await volumes.live_attachment(conn, req.volume_id, req.server_id)
            if attachment is None:
                raise NotFound(f"volume {req.volume_id} is not attached to {req.server_id}")
            if attachment["status"] != "attached":
                raise Conflict(f"volume {req.volume_id} is {attachment['status']}")
            await volumes.set_status(
                conn,
                req.volume_id,
                "detaching",
                expected=("in-use",),
                task_deadline=lifecycle.deadline_in(self._timeout),
            )
            row = await volumes.update_attachment(
                conn, attachment["id"], "detaching", expected=("attached",)
            )
        self._on_commit()
        assert row is not None
        connection = RbdConnection.model_validate(row["connection_info"])
        command = agent.DetachVolume(
            instance_id=req.server_id, volume=volume_connection(row, connection, row["device"])
        )
        await self._client.cast(agent_topic(server["host"], command), command, context=ctx)
        return Accepted(resource_id=req.volume_id, request_id=ctx.request_id)
