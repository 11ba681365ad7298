"""Fact ingestion for volumes and ports: storage.# (volume.created, .failed, .deleted),
network.# (port.active, port.down), and the compute agents' device facts
(volume.attached, volume.detached, and instance.action_failed for a device command).

Like conductor/ingest.py: each fact is applied in one transaction with its outbox
notification, only when its sequence is newer than the last one applied for that
resource from that host. The compute handler of ingest.py sees the same
instance.action_failed facts for the instance (its own queue, its own sequence kind);
this one only reads the device out of `action` ("attach_volume:<volume id>", see
node_agent/services/compute_devices.py) and rolls the device's task back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from conductor import port_states, volume_states
from conductor.db.queries import facts
from corebus.envelope import RequestContext
from corebus.service import event_handler
from schemas.messages.facts import (
    Fact,
    InstanceActionFailed,
    PortActive,
    PortDown,
    VolumeAttached,
    VolumeCreated,
    VolumeDeleted,
    VolumeDetached,
    VolumeFailed,
)

log = logging.getLogger(__name__)

Change = Callable[[Any, Fact, str | None], Awaitable[bool]]
ROLLBACKS: dict[str, Callable[[Any, UUID, str | None], Awaitable[bool]]] = {
    "attach_volume": volume_states.rollback_attach,
    "detach_volume": volume_states.rollback_detach,
    "attach_interface": port_states.rollback_attach,
    "detach_interface": port_states.rollback_detach,
}


def device_action(action: str) -> tuple[str, UUID] | None:
    """("attach_volume", volume id) from an action_failed's `action`, or None."""
    name, _, device = action.partition(":")
    if name not in ROLLBACKS:
        return None
    try:
        return name, UUID(device)
    except ValueError:
        return None


class DeviceFactIngestor:
    name = "conductor"

    def __init__(self, pool: asyncpg.Pool, on_commit: Callable[[], None] = lambda: None) -> None:
        self._pool = pool
        self._on_commit = on_commit
        self.applied = 0
        self.dropped = 0

    async def _apply(
        self, kind: str, resource_id: UUID, fact: Fact, change: Change, request_id: str | None
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await facts.accept_fact(conn, kind, resource_id, fact.host, fact.seq):
                self.dropped += 1
                return
            if await change(conn, fact, request_id):
                self.applied += 1
            else:
                self.dropped += 1  # late: the resource moved on (or is gone)
                log.info("%s about %s changed nothing", fact.message_name, resource_id)
        self._on_commit()

    @event_handler("events", "storage.#", group="conductor")
    async def on_storage_fact(self, ctx: RequestContext, fact: Fact) -> None:
        if isinstance(fact, STORAGE_FACTS):
            await self._apply("volume", fact.resource_id, fact, _storage_change, ctx.request_id)

    @event_handler("events", "network.#", group="conductor")
    async def on_network_fact(self, ctx: RequestContext, fact: Fact) -> None:
        if isinstance(fact, PortActive | PortDown):
            await self._apply("port", fact.resource_id, fact, _network_change, ctx.request_id)

    @event_handler(
        "events",
        "compute.#.volume.attached",
        "compute.#.volume.detached",
        "compute.#.instance.action_failed",
        group="conductor",
    )
    async def on_compute_device_fact(self, ctx: RequestContext, fact: Fact) -> None:
        if isinstance(fact, VolumeAttached | VolumeDetached):
            kind = "volume_attachment"
        elif isinstance(fact, InstanceActionFailed) and device_action(fact.action) is not None:
            kind = "instance_device"
        else:
            return  # a power action failed: conductor/ingest.py settles it
        await self._apply(kind, fact.resource_id, fact, _compute_change, ctx.request_id)


STORAGE_FACTS = (VolumeCreated, VolumeFailed, VolumeDeleted)


async def _storage_change(conn: Any, fact: Fact, request_id: str | None) -> bool:
    volume_id = fact.resource_id
    if isinstance(fact, VolumeCreated):
        return await volume_states.created(conn, volume_id, fact.host, request_id)
    if isinstance(fact, VolumeFailed):
        log.warning("volume %s: %s failed: %s", volume_id, fact.operation, fact.reason)
        return await volume_states.failed(conn, volume_id, fact.operation, request_id)
    return await volume_states.deleted(conn, volume_id, request_id)


async def _network_change(conn: Any, fact: Fact, request_id: str | None) -> bool:
    if isinstance(fact, PortActive):
        return await port_states.active(conn, fact.resource_id, request_id)
    return await port_states.down(conn, fact.resource_id, request_id)


async def _compute_change(conn: Any, fact: Fact, request_id: str | None) -> bool:
    if isinstance(fact, VolumeAttached):
        return await volume_states.attached(
            conn, fact.attachment_id, fact.host, fact.device, request_id
        )
    if isinstance(fact, VolumeDetached):
        return await volume_states.detached(conn, fact.attachment_id, request_id)
    assert isinstance(fact, InstanceActionFailed)
    found = device_action(fact.action)
    assert found is not None
    action, device_id = found
    log.warning("%s of %s on %s failed: %s", action, device_id, fact.host, fact.reason)
    return await ROLLBACKS[action](conn, device_id, request_id)
