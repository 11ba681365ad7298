"""Storage role handlers: RBD images for volumes, outcomes as volume facts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from corebus.envelope import RequestContext
from corebus.service import rpc
from node_agent.drivers.errors import DriverError
from node_agent.drivers.storage.base import StorageDriver
from node_agent.fact_publisher import FactPublisher
from node_agent.failures import reason
from schemas.messages.agent_storage import (
    CloneVolume,
    CreateVolume,
    DeleteSnapshot,
    DeleteVolume,
    ResizeVolume,
    SnapshotVolume,
)
from schemas.messages.facts import Fact, VolumeCreated, VolumeDeleted, VolumeFailed, VolumeResized


class StorageService:
    def __init__(self, name: str, driver: StorageDriver, facts: FactPublisher) -> None:
        self.name = name
        self._driver, self._facts = driver, facts

    async def _outcome(
        self, operation: str, resource_id: UUID, work: Callable[[], Awaitable[Fact | None]]
    ) -> None:
        """Run the driver step; publish its fact, or volume.failed with the reason."""
        try:
            fact = await work()
        except DriverError as exc:
            fact = self._facts.make(
                VolumeFailed, resource_id, operation=operation, reason=reason(exc)
            )
        if fact is not None:
            await self._facts.publish(fact)

    @rpc
    async def create_volume(self, ctx: RequestContext, req: CreateVolume) -> None:
        async def work() -> Fact:
            volume = await self._driver.create_volume(req)
            return self._facts.make(VolumeCreated, req.volume_id, size_gb=volume.size_gb)

        await self._outcome("create", req.volume_id, work)

    @rpc
    async def clone_volume(self, ctx: RequestContext, req: CloneVolume) -> None:
        async def work() -> Fact:
            volume = await self._driver.clone_volume(req)
            return self._facts.make(VolumeCreated, req.volume_id, size_gb=volume.size_gb)

        await self._outcome("clone", req.volume_id, work)

    @rpc
    async def delete_volume(self, ctx: RequestContext, req: DeleteVolume) -> None:
        async def work() -> Fact:
            await self._driver.delete_volume(req.volume_id, req.target)
            return self._facts.make(VolumeDeleted, req.volume_id)

        await self._outcome("delete", req.volume_id, work)

    @rpc
    async def resize_volume(self, ctx: RequestContext, req: ResizeVolume) -> None:
        async def work() -> Fact:
            volume = await self._driver.resize_volume(req)
            return self._facts.make(VolumeResized, req.volume_id, size_gb=volume.size_gb)

        await self._outcome("resize", req.volume_id, work)

    @rpc
    async def snapshot_volume(self, ctx: RequestContext, req: SnapshotVolume) -> None:
        async def work() -> None:
            await self._driver.snapshot_volume(req)

        await self._outcome("snapshot", req.volume_id, work)

    @rpc
    async def delete_snapshot(self, ctx: RequestContext, req: DeleteSnapshot) -> None:
        async def work() -> None:
            await self._driver.delete_snapshot(req.target)

        await self._outcome("delete_snapshot", req.snapshot_id, work)
