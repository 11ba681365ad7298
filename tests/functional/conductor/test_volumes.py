"""Volumes on real PostgreSQL with stand-in agents: create, delete, attach, detach, quota
and deadlines."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from conductor.db.queries import quotas
from schemas.errors import Conflict, QuotaExceeded
from schemas.messages.common import Accepted
from schemas.messages.conductor_servers import (
    AttachVolume,
    AttachVolumeReply,
    CreateServer,
    CreateServerReply,
    DeleteServer,
    DetachVolume,
)
from schemas.messages.conductor_volumes import (
    CreateVolume,
    CreateVolumeReply,
    DeleteVolume,
    GetVolume,
    GetVolumeReply,
    ListVolumes,
    ListVolumesReply,
)
from schemas.storage import Volume
from tests.functional.conductor.conftest import Mesh
from tests.functional.conductor.standins_devices import (
    DeviceAgents,
    device_agents,
    eventually,
    server,
    usage,
)

pytestmark = pytest.mark.functional


@pytest.fixture
async def devices(mesh: Mesh) -> AsyncIterator[DeviceAgents]:
    async with device_agents(mesh) as agents:
        yield agents


async def create_volume(mesh: Mesh, size_gb: int = 1, name: str = "data") -> Volume:
    request = CreateVolume(size_gb=size_gb, name=name)
    reply = await mesh.client.call("conductor.create_volume", request, CreateVolumeReply)
    return reply.volume


async def get_volume(mesh: Mesh, volume_id: uuid.UUID) -> Volume:
    request = GetVolume(volume_id=volume_id)
    return (await mesh.client.call("conductor.get_volume", request, GetVolumeReply)).volume


async def wait_status(mesh: Mesh, volume_id: uuid.UUID, status: str) -> Volume:
    volume: Volume = await eventually(
        lambda: get_volume(mesh, volume_id), lambda v: v.status == status
    )
    return volume


async def available_volume(mesh: Mesh, size_gb: int = 1) -> uuid.UUID:
    volume = await create_volume(mesh, size_gb)
    await wait_status(mesh, volume.id, "available")
    return volume.id


async def attach(mesh: Mesh, server_id: uuid.UUID, volume_id: uuid.UUID) -> AttachVolumeReply:
    request = AttachVolume(server_id=server_id, volume_id=volume_id)
    return await mesh.client.call("conductor.attach_volume", request, AttachVolumeReply)


async def test_a_new_volume_becomes_available_and_counts(mesh: Mesh, devices: DeviceAgents) -> None:
    volume = await create_volume(mesh, size_gb=3)
    assert volume.status == "creating"
    ready = await wait_status(mesh, volume.id, "available")
    assert ready.size_gb == 3 and ready.attachments == ()
    assert devices.storage.created[0].target.image == f"volume-{volume.id}"
    used = await usage(mesh)
    assert used["volumes"]["in_use"] == 1 and used["gigabytes"]["in_use"] == 3
    listed = await mesh.client.call("conductor.list_volumes", ListVolumes(), ListVolumesReply)
    assert [v.id for v in listed.volumes] == [volume.id]


async def test_a_failed_create_is_an_error(mesh: Mesh, devices: DeviceAgents) -> None:
    devices.storage.fail_create = "pool full"
    volume = await create_volume(mesh)
    await wait_status(mesh, volume.id, "error")


async def test_attach_then_detach(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    volume_id = await available_volume(mesh)
    reply = await attach(mesh, server_id, volume_id)
    assert reply.attachment.status == "attaching" and reply.attachment.connection is not None
    assert reply.attachment.connection.image == f"volume-{volume_id}"
    in_use = await wait_status(mesh, volume_id, "in-use")
    (attachment,) = in_use.attachments
    assert attachment.status == "attached" and attachment.instance_id == server_id
    assert attachment.device == "/dev/vdb" and attachment.host is not None

    detach = DetachVolume(server_id=server_id, volume_id=volume_id)
    await mesh.client.call("conductor.detach_volume", detach, Accepted)
    available = await wait_status(mesh, volume_id, "available")
    assert available.attachments == ()
    await asyncio.sleep(0.3)
    events = mesh.events(server_id)
    assert events[-2:] == ["instance.volume_attach.end", "instance.volume_detach.end"]
    volume_notes = [
        n.payload["payload"]["volume_id"]
        for n in mesh.notifications
        if n.payload["event_type"] == "instance.volume_attach.end"
    ]
    assert volume_notes == [str(volume_id)]


async def test_a_multiattach_volume_reaches_the_host_as_shareable(
    mesh: Mesh, devices: DeviceAgents
) -> None:
    plain, shared = await available_volume(mesh), await available_volume(mesh)
    async with mesh.pool.acquire() as conn:
        await conn.execute("UPDATE volumes SET multiattach = true WHERE id = $1", shared)
    for volume_id in (plain, shared):  # one server each: the stand-in reports /dev/vdb
        await attach(mesh, await server(mesh), volume_id)
        await wait_status(mesh, volume_id, "in-use")
    sent = {
        c.volume_id: c.shareable for agent in mesh.agents.values() for c in agent.volume_connections
    }
    assert sent == {plain: False, shared: True}


async def test_attach_refused_in_the_wrong_state(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    volume_id = await available_volume(mesh)
    await attach(mesh, server_id, volume_id)
    await wait_status(mesh, volume_id, "in-use")
    other = await server(mesh, "other")
    with pytest.raises(Conflict, match="in-use"):
        await attach(mesh, other, volume_id)  # the volume is taken

    for agent in mesh.agents.values():
        agent.silent = True
    request = CreateServer(
        name="building", flavor_id=mesh.flavor_id, image_id=mesh.image_id, networks="none"
    )
    reply = await mesh.client.call("conductor.create_server", request, CreateServerReply)
    building = reply.server_ids[0]
    with pytest.raises(Conflict, match="while it is building"):
        await attach(mesh, building, await available_volume(mesh))


async def test_a_failed_attach_makes_the_volume_available_again(
    mesh: Mesh, devices: DeviceAgents
) -> None:
    server_id = await server(mesh)
    for agent in mesh.agents.values():
        agent.fail_device = "the domain cannot hot-plug disks"
    volume_id = await available_volume(mesh)
    await attach(mesh, server_id, volume_id)
    volume = await wait_status(mesh, volume_id, "available")
    assert volume.attachments == ()
    await asyncio.sleep(0.3)
    assert mesh.events(server_id)[-1] == "instance.volume_attach.error"


async def test_a_stuck_attach_is_settled_by_its_deadline(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    for agent in mesh.agents.values():
        agent.stuck.add("attach_volume")
    volume_id = await available_volume(mesh)
    await attach(mesh, server_id, volume_id)
    assert (await get_volume(mesh, volume_id)).status == "attaching"
    async with mesh.pool.acquire() as conn:  # as if action_timeout_s had passed
        await conn.execute(
            "UPDATE volumes SET task_deadline = now() - interval '1 second' WHERE id = $1",
            volume_id,
        )
    volume = await wait_status(mesh, volume_id, "available")
    assert volume.attachments == ()
    await attach(mesh, server_id, volume_id)  # nothing left behind: it may be tried again


async def test_delete_frees_the_quota_and_refuses_an_attached_volume(
    mesh: Mesh, devices: DeviceAgents
) -> None:
    server_id = await server(mesh)
    volume_id = await available_volume(mesh, size_gb=2)
    await attach(mesh, server_id, volume_id)
    await wait_status(mesh, volume_id, "in-use")
    with pytest.raises(Conflict):
        await mesh.client.call(
            "conductor.delete_volume", DeleteVolume(volume_id=volume_id), Accepted
        )
    loose = await available_volume(mesh, size_gb=5)
    assert (await usage(mesh))["gigabytes"]["in_use"] == 7
    await mesh.client.call("conductor.delete_volume", DeleteVolume(volume_id=loose), Accepted)
    await eventually(lambda: usage(mesh), lambda u: u["gigabytes"]["in_use"] == 2)
    listed = await mesh.client.call("conductor.list_volumes", ListVolumes(), ListVolumesReply)
    assert [v.id for v in listed.volumes] == [volume_id]


async def test_deleting_a_server_detaches_its_volumes(mesh: Mesh, devices: DeviceAgents) -> None:
    server_id = await server(mesh)
    volume_id = await available_volume(mesh)
    await attach(mesh, server_id, volume_id)
    await wait_status(mesh, volume_id, "in-use")
    await mesh.client.call("conductor.delete_server", DeleteServer(server_id=server_id), Accepted)
    await mesh.wait_for(server_id, lambda r: r["deleted"])
    assert (await get_volume(mesh, volume_id)).attachments == ()
    assert (await get_volume(mesh, volume_id)).status == "available"


async def test_volume_quota_holds_under_concurrent_creates(
    mesh: Mesh, devices: DeviceAgents
) -> None:
    async with mesh.pool.acquire() as conn:
        await quotas.set_limit(conn, mesh.project_id, "volumes", 5)
    results = await asyncio.gather(
        *(create_volume(mesh, 1, f"v{i}") for i in range(20)), return_exceptions=True
    )
    assert sum(isinstance(r, Volume) for r in results) == 5
    assert sum(isinstance(r, QuotaExceeded) for r in results) == 15
    assert (await usage(mesh))["volumes"]["in_use"] == 5


async def test_gigabyte_quota_holds_under_concurrent_creates(
    mesh: Mesh, devices: DeviceAgents
) -> None:
    async with mesh.pool.acquire() as conn:
        await quotas.set_limit(conn, mesh.project_id, "gigabytes", 30)
    results = await asyncio.gather(
        *(create_volume(mesh, 4, f"g{i}") for i in range(20)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, QuotaExceeded)]
    assert sum(isinstance(r, Volume) for r in results) == 7 and len(refused) == 13
    assert {r.details.get("resource") for r in refused} == {"gigabytes"}
    used = await usage(mesh)
    assert used["gigabytes"]["in_use"] == 28 and used["volumes"]["in_use"] == 7
