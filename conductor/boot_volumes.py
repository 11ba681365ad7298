"""The volumes of a server's block device mapping, in Cinder's attachment steps.

At create, in the create transaction: each mapping with a volume destination gets a
`reserved` attachment (with its boot index, device and delete_on_termination). An
existing volume (source `volume`, the project's, available) is `reserved`; a volume
from an image (source `image`, with `volume_size`) or an empty one (`blank`) is
created `creating`, counted against `volumes` and `gigabytes`, and the storage agent
is told to make it once the transaction committed (`reserve` returns those casts).

At build, once the host is chosen: the build waits until no volume is `creating`
(`wait_ready`), then each goes `attaching` with the host's connector and connection
info (`attach`) and Spawn carries the connections; the compute agent's volume.attached
facts make them `in-use`. They carry no deadline of their own meanwhile: the server's
build deadline settles the build, and the volumes follow the server when it goes
(`release`: delete_on_termination ones are deleted, the others detached, available).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from conductor.agents import Casts
from conductor.db.queries import volume_api, volumes
from conductor.db.types import Connection
from conductor.device_records import rbd_connection, rbd_image
from conductor.quota import charge
from conductor.volume_images import check_image, image_source
from schemas.block_device import BlockDeviceMapping, DestinationType, SourceType
from schemas.errors import InvalidInput
from schemas.messages import agent_storage as storage
from schemas.messages.agent_compute import VolumeConnection
from schemas.storage import RbdConnection

STORAGE = "storage"  # any storage agent (conductor/agents.py)
READY = ("reserved", "available", "attaching")  # what a boot volume may be at spawn
# how often a build looks whether its volumes were made (the storage agent's fact
# changes the row; polling the row keeps the build free of any fact subscription)
POLL_S = 0.1


def host_connector(host: str) -> dict[str, Any]:
    """Cinder's connector of a compute host (attachment_update)."""
    return {"host": host, "platform": "x86_64", "multipath": False}


def volume_connection(
    attachment: Mapping[str, Any],
    rbd: RbdConnection,
    device: str | None,
    *,
    shareable: bool = False,
) -> VolumeConnection:
    """What the compute agent needs to attach the attachment's volume (`shareable` for a
    multiattach volume, so that the hypervisor lets several guests open it)."""
    return VolumeConnection(
        volume_id=attachment["volume_id"],
        attachment_id=attachment["id"],
        device_name=device,
        boot_index=attachment.get("boot_index"),
        read_only=attachment["attach_mode"] == "ro",
        shareable=shareable,
        rbd=rbd,
    )


def check_count(mappings: Sequence[BlockDeviceMapping], count: int) -> None:
    """An existing volume can be given to one server only (Nova's 400)."""
    if count > 1 and any(m.source_type is SourceType.VOLUME for m in mappings):
        raise InvalidInput("Multiple instances cannot be created with an existing volume.")


async def reserve(
    conn: Connection,
    server_id: UUID,
    project_id: UUID,
    user_id: UUID,
    mappings: Sequence[BlockDeviceMapping],
    deadline: datetime,
) -> Casts:
    """Reserve (or start making) the volumes of `mappings` for the server; `deadline`
    bounds the making of a new volume."""
    casts: Casts = []
    for bdm in mappings:
        if bdm.destination_type is not DestinationType.VOLUME:
            continue  # a local disk: the flavor's root or ephemeral disk
        if bdm.source_type is SourceType.VOLUME:
            assert bdm.uuid is not None
            volume_id = await _reserve_existing(conn, bdm.uuid, project_id)
        elif bdm.source_type in (SourceType.IMAGE, SourceType.BLANK):
            volume_id, command = await _create(conn, bdm, project_id, user_id, deadline)
            casts.append((STORAGE, command))
        else:
            raise InvalidInput(
                f"Block device mappings of source_type {bdm.source_type} are not supported."
            )
        await volumes.reserve_boot_attachment(
            conn,
            attachment_id=uuid.uuid4(),
            volume_id=volume_id,
            instance_id=server_id,
            device=f"/dev/{bdm.device_name.removeprefix('/dev/')}" if bdm.device_name else None,
            boot_index=None if bdm.boot_index is None or bdm.boot_index < 0 else bdm.boot_index,
            delete_on_termination=bdm.delete_on_termination,
        )
    return casts


async def _reserve_existing(conn: Connection, volume_id: UUID, project_id: UUID) -> UUID:
    row = await volumes.get_volume(conn, volume_id, project_id=project_id, for_update=True)
    if row is None:
        raise InvalidInput(f"Block Device Mapping is Invalid: failed to get volume {volume_id}.")
    if await volumes.set_status(conn, volume_id, "reserved", expected=("available",)) is None:
        raise InvalidInput(
            f"Invalid volume: volume {volume_id} status must be 'available', "
            f"currently {row['status']}."
        )
    return volume_id


async def _create(
    conn: Connection,
    bdm: BlockDeviceMapping,
    project_id: UUID,
    user_id: UUID,
    deadline: datetime,
) -> tuple[UUID, storage.CreateVolume]:
    assert bdm.volume_size is not None
    image_id = bdm.uuid if bdm.source_type is SourceType.IMAGE else None
    if image_id is not None:
        await check_image(conn, image_id, bdm.volume_size, project_id)
    await charge(conn, project_id, {"volumes": 1, "gigabytes": bdm.volume_size})
    volume_id = uuid.uuid4()
    await volume_api.create_volume(
        conn,
        volume_id=volume_id,
        project_id=project_id,
        user_id=user_id,
        size_gb=bdm.volume_size,
        name="",
        description="",
        availability_zone=None,
        metadata={},
        image_id=image_id,
        volume_type=bdm.volume_type,
        multiattach=False,
        task_deadline=deadline,
    )
    command = storage.CreateVolume(
        volume_id=volume_id,
        target=rbd_image(volume_id),
        size_gb=bdm.volume_size,
        source=image_source(image_id) if image_id is not None else None,
    )
    return volume_id, command


async def pending(conn: Connection, server_id: UUID) -> tuple[bool, str | None]:
    """(still making a volume, why the volumes cannot be attached) for the server."""
    making = False
    for attachment in await volumes.attachments_of_instance(conn, server_id):
        row = await volumes.get_volume(conn, attachment["volume_id"])
        status = row["status"] if row is not None else "deleted"
        if status == "creating":
            making = True
        elif status not in READY:
            return False, f"volume {attachment['volume_id']} is {status}"
    return making, None


async def wait_ready(
    pool: asyncpg.Pool,
    server_id: UUID,
    still_building: Callable[[], Awaitable[bool]],
    timeout_s: float,
) -> str | None:
    """Wait (at most `timeout_s`, while `still_building()` holds) until the server's
    volumes are made; None when they are, else why the build cannot go on."""
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout_s
    while True:
        async with pool.acquire() as conn, conn.transaction():
            making, failure = await pending(conn, server_id)
        if failure is not None or not making:
            return failure
        if loop.time() >= until or not await still_building():
            return "its volumes were not made in time"
        await asyncio.sleep(POLL_S)


async def attach(conn: Connection, server_id: UUID, host: str) -> tuple[VolumeConnection, ...]:
    """Move the server's volumes to `attaching` on `host` (again after a reschedule):
    the connections Spawn attaches. InvalidInput when one is no longer attachable."""
    connections = []
    for attachment in await volumes.attachments_of_instance(conn, server_id):
        volume_id = attachment["volume_id"]
        row = await volumes.set_status(conn, volume_id, "attaching", expected=READY)
        if row is None:
            raise InvalidInput(f"volume {volume_id} can no longer be attached")
        rbd = rbd_connection(row)
        updated = await volumes.update_attachment(
            conn,
            attachment["id"],
            "attaching",
            expected=("reserved", "attaching"),
            host=host,
            connector=host_connector(host),
            connection_info=rbd.model_dump(mode="json"),
        )
        assert updated is not None, "the attachment is live (locked with its volume)"
        connections.append(
            volume_connection(updated, rbd, updated["device"], shareable=row["multiattach"])
        )
    return tuple(connections)


async def release(conn: Connection, server_id: UUID, deadline: datetime) -> Casts:
    """The server is gone: its attachments end; delete_on_termination volumes are
    deleted (`deleting` until the storage agent's fact, bounded by `deadline`), the
    others are available again (a volume still being made becomes available when it is)."""
    casts: Casts = []
    for attachment in await volumes.attachments_of_instance(conn, server_id):
        volume_id = attachment["volume_id"]
        await volumes.update_attachment(
            conn, attachment["id"], "detached", expected=volumes.LIVE_ATTACHMENT
        )
        if attachment["delete_on_termination"]:
            deleting = await volumes.set_status(
                conn,
                volume_id,
                "deleting",
                expected=("creating", *READY, "in-use", "detaching"),
                task_deadline=deadline,
            )
            if deleting is not None:
                command = storage.DeleteVolume(volume_id=volume_id, target=rbd_image(volume_id))
                casts.append((STORAGE, command))
            continue
        await volumes.set_status(
            conn, volume_id, "available", expected=(*READY, "in-use", "detaching")
        )
    return casts
