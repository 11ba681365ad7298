"""The compute stand-in's hot-plug handlers (mixed into conftest.StandInAgent): they
answer like a compute agent with a fake hypervisor would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from schemas.messages import agent_devices
from schemas.messages.facts import Fact, InstanceActionFailed, VolumeAttached, VolumeDetached


class DeviceStandIn:
    """Hot-plug handlers of the compute stand-in: a command named in `stuck` is never
    answered; `fail_device` makes every device command fail with that reason."""

    host: str
    silent: bool
    stuck: set[str]
    fail_device: str | None = None
    volume_connections: list[Any]  # every AttachVolume's connection, in order

    client: Client
    _seq: int

    async def report_device(
        self, fact_type: type[Fact], resource_id: uuid.UUID, **fields: Any
    ) -> None:
        """A fact about a device (report() of StandInAgent takes `instance_id` itself)."""
        self._seq += 1
        fact = fact_type(
            host=self.host,
            resource_id=resource_id,
            seq=self._seq,
            observed_at=datetime.now(UTC),
            **fields,
        )
        await self.client.publish("events", fact.routing_key(), fact)

    def _quiet(self, command: str) -> bool:
        return self.silent or command in self.stuck

    async def _failed(self, command: str, instance_id: uuid.UUID, device: uuid.UUID) -> bool:
        if self.fail_device is None:
            return False
        await self.report_device(
            InstanceActionFailed,
            instance_id,
            action=f"{command}:{device}",
            reason=self.fail_device,
        )
        return True

    @rpc
    async def attach_volume(self, ctx: RequestContext, req: agent_devices.AttachVolume) -> None:
        volume = req.volume
        self.volume_connections.append(volume)
        if self._quiet("attach_volume") or await self._failed(
            "attach_volume", req.instance_id, volume.volume_id
        ):
            return
        await self.report_device(
            VolumeAttached,
            volume.volume_id,
            instance_id=req.instance_id,
            attachment_id=volume.attachment_id,
            device=volume.device_name or "/dev/vdb",
        )

    @rpc
    async def detach_volume(self, ctx: RequestContext, req: agent_devices.DetachVolume) -> None:
        volume = req.volume
        if self._quiet("detach_volume") or await self._failed(
            "detach_volume", req.instance_id, volume.volume_id
        ):
            return
        await self.report_device(
            VolumeDetached,
            volume.volume_id,
            instance_id=req.instance_id,
            attachment_id=volume.attachment_id,
        )

    @rpc
    async def attach_interface(
        self, ctx: RequestContext, req: agent_devices.AttachInterface
    ) -> None:
        if not self._quiet("attach_interface"):
            await self._failed("attach_interface", req.instance_id, req.port.id)

    @rpc
    async def detach_interface(
        self, ctx: RequestContext, req: agent_devices.DetachInterface
    ) -> None:
        if not self._quiet("detach_interface"):
            await self._failed("detach_interface", req.instance_id, req.port.id)
