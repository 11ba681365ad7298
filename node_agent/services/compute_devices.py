"""Compute role handlers that hot-plug devices: volumes and interfaces
(schemas/messages/agent_devices.py).

A volume attached or detached is reported as `fact.volume.attached` / `.detached` (the
conductor completes the attachment). Interfaces have no fact of their own here: the
network role reports `port.active` / `port.down` once OVN sees the VIF. Any failure is
`fact.instance.action_failed` whose `action` names the command and the device,
`attach_volume:<volume id>` or `detach_interface:<port id>`, so the conductor rolls
back exactly that device (conductor/ingest_devices.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from corebus.envelope import RequestContext
from corebus.service import rpc
from node_agent.drivers.errors import DriverError
from node_agent.failures import reason
from node_agent.services.compute import ComputeContext
from schemas.messages.agent_devices import (
    AttachInterface,
    AttachVolume,
    DetachInterface,
    DetachVolume,
)
from schemas.messages.facts import Fact, InstanceActionFailed, VolumeAttached, VolumeDetached

log = logging.getLogger(__name__)


def failed_action(command: str, device_id: UUID) -> str:
    """The action_failed `action` of a device command: "<command>:<device id>"."""
    return f"{command}:{device_id}"


class ComputeDevices:
    def __init__(self, name: str, compute: ComputeContext) -> None:
        self.name = name
        self._c = compute

    async def _run(
        self,
        command: str,
        instance_id: UUID,
        device_id: UUID,
        work: Callable[[], Awaitable[Fact | None]],
    ) -> None:
        facts = self._c.facts
        fact: Fact | None
        with self._c.task():
            try:
                fact = await work()
            except DriverError as exc:
                log.warning("%s of %s on %s failed: %s", command, device_id, instance_id, exc)
                fact = facts.make(
                    InstanceActionFailed,
                    instance_id,
                    action=failed_action(command, device_id),
                    reason=reason(exc),
                )
        if fact is not None:
            await facts.publish(fact)

    @rpc
    async def attach_volume(self, ctx: RequestContext, req: AttachVolume) -> None:
        volume = req.volume

        async def work() -> Fact:
            device = await self._c.driver.attach_volume(req.instance_id, volume)
            return self._c.facts.make(
                VolumeAttached,
                volume.volume_id,
                instance_id=req.instance_id,
                attachment_id=volume.attachment_id,
                device=device,
            )

        await self._run("attach_volume", req.instance_id, volume.volume_id, work)

    @rpc
    async def detach_volume(self, ctx: RequestContext, req: DetachVolume) -> None:
        volume = req.volume

        async def work() -> Fact:
            await self._c.driver.detach_volume(req.instance_id, volume.volume_id)
            return self._c.facts.make(
                VolumeDetached,
                volume.volume_id,
                instance_id=req.instance_id,
                attachment_id=volume.attachment_id,
            )

        await self._run("detach_volume", req.instance_id, volume.volume_id, work)

    @rpc
    async def attach_interface(self, ctx: RequestContext, req: AttachInterface) -> None:
        async def work() -> None:
            await self._c.driver.attach_interface(req.instance_id, req.port)

        await self._run("attach_interface", req.instance_id, req.port.id, work)

    @rpc
    async def detach_interface(self, ctx: RequestContext, req: DetachInterface) -> None:
        async def work() -> None:
            await self._c.driver.detach_interface(req.instance_id, req.port.id)

        await self._run("detach_interface", req.instance_id, req.port.id, work)
