"""The storage role's handlers on the RBD driver (in-memory Ceph): a refused deletion
reaches the conductor as volume.failed with the driver's reason; a clone of an image
snapshot reaches it as volume.created with the size."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from corebus.envelope import RequestContext
from node_agent.drivers.storage.rbd import RbdStorage
from node_agent.drivers.storage.rbd_client import RbdClient
from node_agent.fact_publisher import FactPublisher
from node_agent.seq import SeqClock
from node_agent.services.storage import StorageService
from schemas.messages.agent_storage import CreateVolume, DeleteVolume, RbdImage
from schemas.messages.facts import VolumeCreated, VolumeDeleted, VolumeFailed
from tests.unit.node_agent.storage.fake_rbd import FakeCeph


class Published:
    """A bus client that keeps what is published."""

    def __init__(self) -> None:
        self.facts: list[Any] = []

    async def publish(self, exchange: str, topic: str, message: Any) -> None:
        self.facts.append(message)


async def test_refusals_and_outcomes_become_volume_facts() -> None:
    ceph, bus = FakeCeph(), Published()
    facts = FactPublisher(bus, "storage-1", SeqClock(now_us=lambda: 1), "storage")  # type: ignore[arg-type]
    service = StorageService("storage", RbdStorage(RbdClient(None, None, ceph.api)), facts)
    ctx = RequestContext()
    vid = uuid4()
    target = RbdImage(pool="volumes", image=f"volume-{vid}")
    await service.create_volume(ctx, CreateVolume(volume_id=vid, target=target, size_gb=2))
    ioctx = ceph.api.rados.Rados("", "admin").open_ioctx("volumes")
    guest = ceph.api.rbd.Image(ioctx, target.image)  # a guest holds it open
    await service.delete_volume(ctx, DeleteVolume(volume_id=vid, target=target))
    guest.close()
    await service.delete_volume(ctx, DeleteVolume(volume_id=vid, target=target))

    created, failed, deleted = bus.facts
    assert isinstance(created, VolumeCreated) and created.size_gb == 2
    assert isinstance(failed, VolumeFailed) and failed.operation == "delete"
    assert "is attached" in failed.reason and failed.resource_id == vid
    assert isinstance(deleted, VolumeDeleted) and ceph.pools["volumes"] == {}
