"""Compute role handlers that move or recreate an instance: the steps of a resize or
cold migration (schemas/messages/agent_devices.py) and rebuild.

They use only the hypervisor protocol (spawn, destroy, power), so every driver supports
them. Each step reports `fact.instance.resized` with its step, or
`fact.instance.action_failed` with the command's name; rebuild reports
`fact.instance.spawned` like a build.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from corebus.envelope import RequestContext
from corebus.service import rpc
from node_agent.drivers.errors import DriverError, NotFoundError
from node_agent.drivers.hypervisor.base import DomainInfo, PowerAction
from node_agent.failures import reason
from node_agent.services.compute import ComputeContext
from node_agent.services.compute_pci import release_devices, spawn_with_devices
from node_agent.services.compute_vifs import unplug_instance
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import Rebuild, Spawn
from schemas.messages.agent_devices import (
    ConfirmResize,
    FinishResize,
    FinishRevertResize,
    ResizeInstance,
    RevertResize,
)
from schemas.messages.facts import Fact, InstanceActionFailed, InstanceResized, InstanceSpawned

log = logging.getLogger(__name__)


def spawn_request(req: FinishResize) -> Spawn:
    """The Spawn that defines the domain on the destination with the new flavor."""
    return Spawn(
        instance_id=req.instance_id,
        name=req.name,
        flavor=req.new_flavor,
        claim=req.claim,
        image=req.image,
        image_location=req.image_location,
        ports=req.ports,
        volumes=req.volumes,
    )


class ComputeMoves:
    def __init__(self, name: str, compute: ComputeContext) -> None:
        self.name = name
        self._c = compute

    @rpc
    async def resize_instance(self, ctx: RequestContext, req: ResizeInstance) -> None:
        """Source: power off (gracefully for up to timeout_s). The disks stay where they
        are until the resize is confirmed: the destination defines its own."""

        async def step() -> PowerState:
            info = await self._c.driver.power(req.instance_id, PowerAction.POWER_OFF, req.timeout_s)
            return info.power_state

        await self._step(req.instance_id, req.migration_id, "resize_instance", "migrated", step)

    @rpc
    async def finish_resize(self, ctx: RequestContext, req: FinishResize) -> None:
        async def step() -> PowerState:
            async with self._c.builds:
                if self._c.vifs is not None:  # plugged, not waited for: the binding moves
                    await self._c.vifs.plug(spawn_request(req))
                info = await spawn_with_devices(self._c.pci, self._c.driver, spawn_request(req))
            if not req.power_on:
                info = await self._c.driver.power(req.instance_id, PowerAction.POWER_OFF)
            return info.power_state

        await self._step(req.instance_id, req.migration_id, "finish_resize", "finished", step)

    @rpc
    async def confirm_resize(self, ctx: RequestContext, req: ConfirmResize) -> None:
        async def step() -> PowerState:
            await self._c.driver.destroy(req.instance_id)
            await release_devices(self._c.pci, req.instance_id)
            await unplug_instance(self._c.vifs, self._c.driver, req.instance_id)
            return PowerState.NOSTATE

        await self._step(req.instance_id, req.migration_id, "confirm_resize", "confirmed", step)

    @rpc
    async def revert_resize(self, ctx: RequestContext, req: RevertResize) -> None:
        async def step() -> PowerState:
            await self._c.driver.destroy(req.instance_id)
            await release_devices(self._c.pci, req.instance_id)
            await unplug_instance(self._c.vifs, self._c.driver, req.instance_id)
            return PowerState.NOSTATE

        await self._step(req.instance_id, req.migration_id, "revert_resize", "reverted", step)

    @rpc
    async def finish_revert_resize(self, ctx: RequestContext, req: FinishRevertResize) -> None:
        """Source: the domain was kept (powered off) with the old flavor; start it again."""

        async def step() -> PowerState:
            info = await self._domain(req.instance_id)
            if req.power_on:
                info = await self._c.driver.power(req.instance_id, PowerAction.POWER_ON)
            return info.power_state

        await self._step(
            req.instance_id, req.migration_id, "finish_revert_resize", "revert_finished", step
        )

    @rpc
    async def rebuild(self, ctx: RequestContext, req: Rebuild) -> None:
        facts = self._c.facts
        fact: Fact
        with self._c.task():
            try:
                await self._c.driver.destroy(req.instance_id)
                async with self._c.builds:
                    info = await self._c.driver.spawn(req)
            except Exception as exc:
                log.warning("rebuild of %s failed: %s", req.instance_id, exc)
                fact = facts.make(
                    InstanceActionFailed, req.instance_id, action="rebuild", reason=reason(exc)
                )
            else:
                fact = facts.make(InstanceSpawned, req.instance_id, power_state=info.power_state)
        await facts.publish(fact)

    async def _domain(self, instance_id: UUID) -> DomainInfo:
        for info in await self._c.driver.list_domains():
            if info.instance_id == instance_id:
                return info
        raise NotFoundError(f"no domain for instance {instance_id}: nothing to revert to")

    async def _step(
        self,
        instance_id: UUID,
        migration_id: UUID,
        action: str,
        done: str,
        work: Callable[[], Awaitable[PowerState]],
    ) -> None:
        facts = self._c.facts
        fact: Fact
        with self._c.task():
            try:
                power_state = await work()
            except Exception as exc:
                if not isinstance(exc, DriverError):
                    log.exception("%s of %s failed unexpectedly", action, instance_id)
                fact = facts.make(
                    InstanceActionFailed, instance_id, action=action, reason=reason(exc)
                )
            else:
                fact = facts.make(
                    InstanceResized,
                    instance_id,
                    migration_id=migration_id,
                    step=done,
                    power_state=power_state,
                )
        await facts.publish(fact)
