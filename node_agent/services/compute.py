"""Compute role handlers: the instance lifecycle on this host's hypervisor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID

from corebus.envelope import RequestContext
from corebus.service import rpc
from node_agent.drivers.errors import DriverError, NotFoundError
from node_agent.drivers.hypervisor.base import (
    DomainEvent,
    DomainInfo,
    HypervisorDriver,
    LifecycleEvent,
    PowerAction,
)
from node_agent.drivers.pci.base import PciDriver
from node_agent.fact_publisher import FactPublisher
from node_agent.failures import reason, wire_error
from node_agent.services.compute_pci import release_devices, spawn_with_devices
from node_agent.services.compute_vifs import VifPlugging, spawn_plugged, unplug_all
from schemas.errors import NotFound
from schemas.messages.agent_compute import (
    ConsoleOutput,
    Destroy,
    GetConsoleOutput,
    Pause,
    PowerOff,
    PowerOn,
    Reboot,
    Resume,
    Spawn,
    Suspend,
    Unpause,
)
from schemas.messages.facts import (
    Fact,
    InstanceActionFailed,
    InstanceDeleted,
    InstancePowerStateChanged,
    InstanceRebooted,
    InstanceSpawned,
    InstanceSpawnFailed,
    VolumeAttached,
)

log = logging.getLogger(__name__)


@dataclass
class ComputeContext:
    """What every compute handler object of one agent shares."""

    driver: HypervisorDriver
    facts: FactPublisher
    builds: asyncio.Semaphore  # at most N spawns at once (Nova's max_concurrent_builds)
    running: int = field(default=0)
    pci: PciDriver | None = None  # assigns the claim's PCI devices (compute_pci.py)
    vifs: VifPlugging | None = None  # plugs the ports, waits for them (compute_vifs.py)

    @contextlib.contextmanager
    def task(self) -> Iterator[None]:
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1


def fact_for_event(facts: FactPublisher, event: DomainEvent) -> Fact:
    """A lifecycle event as a fact: power_state, or deleted once the domain is gone."""
    if event.event is LifecycleEvent.UNDEFINED or event.power_state is None:
        return facts.make(InstanceDeleted, event.instance_id)
    return facts.make(
        InstancePowerStateChanged,
        event.instance_id,
        power_state=event.power_state,
        reason=f"{event.event.value}: {event.detail}"[:255],
    )


def volumes_attached(facts: FactPublisher, req: Spawn, info: DomainInfo) -> list[Fact]:
    """A volume.attached fact for each volume the spawned domain has, with its device."""
    devices = {volume.volume_id: volume.device for volume in info.volumes}
    return [
        facts.make(
            VolumeAttached,
            volume.volume_id,
            instance_id=req.instance_id,
            attachment_id=volume.attachment_id,
            device=devices[volume.volume_id],
        )
        for volume in req.volumes
        if volume.volume_id in devices
    ]


class ComputeService:
    def __init__(self, name: str, compute: ComputeContext) -> None:
        self.name = name
        self._c = compute

    @rpc
    async def spawn(self, ctx: RequestContext, req: Spawn) -> None:
        """Spawn the domain with its ports and volumes; report instance.spawned (after a
        volume.attached per volume, so the conductor completes their attachments) or
        instance.spawn_failed."""
        facts = self._c.facts
        fact: Fact
        attached: list[Fact] = []
        with self._c.task():
            async with self._c.builds:
                try:
                    info = await spawn_plugged(
                        self._c.vifs,
                        self._c.driver,
                        req,
                        start=lambda: spawn_with_devices(self._c.pci, self._c.driver, req),
                        undo=lambda: release_devices(self._c.pci, req.instance_id),
                    )
                except DriverError as exc:
                    log.warning("spawn of %s failed: %s", req.instance_id, exc)
                    fact = facts.make(
                        InstanceSpawnFailed,
                        req.instance_id,
                        reason=reason(exc),
                        retryable=exc.retryable,
                    )
                except Exception as exc:
                    log.exception("spawn of %s failed unexpectedly", req.instance_id)
                    fact = facts.make(
                        InstanceSpawnFailed, req.instance_id, reason=reason(exc), retryable=True
                    )
                else:
                    attached = volumes_attached(facts, req, info)
                    fact = facts.make(
                        InstanceSpawned, req.instance_id, power_state=info.power_state
                    )
        for volume_fact in attached:
            await facts.publish(volume_fact)
        await facts.publish(fact)

    @rpc
    async def destroy(self, ctx: RequestContext, req: Destroy) -> None:
        facts = self._c.facts
        fact: Fact
        with self._c.task():
            try:
                await self._c.driver.destroy(req.instance_id)
                await release_devices(self._c.pci, req.instance_id)
                await unplug_all(self._c.vifs, req.instance_id, req.port_ids)
            except DriverError as exc:
                fact = facts.make(
                    InstanceActionFailed, req.instance_id, action="destroy", reason=reason(exc)
                )
            else:
                fact = facts.make(InstanceDeleted, req.instance_id)
        await facts.publish(fact)

    @rpc
    async def reboot(self, ctx: RequestContext, req: Reboot) -> None:
        action = PowerAction.HARD_REBOOT if req.hard else PowerAction.REBOOT
        await self._power(req.instance_id, action)

    @rpc
    async def power_off(self, ctx: RequestContext, req: PowerOff) -> None:
        await self._power(req.instance_id, PowerAction.POWER_OFF, req.timeout_s)

    @rpc
    async def power_on(self, ctx: RequestContext, req: PowerOn) -> None:
        await self._power(req.instance_id, PowerAction.POWER_ON)

    @rpc
    async def pause(self, ctx: RequestContext, req: Pause) -> None:
        await self._power(req.instance_id, PowerAction.PAUSE)

    @rpc
    async def unpause(self, ctx: RequestContext, req: Unpause) -> None:
        await self._power(req.instance_id, PowerAction.UNPAUSE)

    @rpc
    async def suspend(self, ctx: RequestContext, req: Suspend) -> None:
        await self._power(req.instance_id, PowerAction.SUSPEND)

    @rpc
    async def resume(self, ctx: RequestContext, req: Resume) -> None:
        await self._power(req.instance_id, PowerAction.RESUME)

    @rpc
    async def get_console_output(self, ctx: RequestContext, req: GetConsoleOutput) -> ConsoleOutput:
        try:
            output = await self._c.driver.console_output(req.instance_id, req.length)
        except NotFoundError as exc:
            raise NotFound(reason(exc), instance_id=str(req.instance_id)) from None
        except DriverError as exc:
            raise wire_error(exc) from None
        return ConsoleOutput(output=output)

    async def _power(self, instance_id: UUID, action: PowerAction, timeout_s: float = 0) -> None:
        facts = self._c.facts
        fact: Fact
        with self._c.task():
            try:
                info = await self._c.driver.power(instance_id, action, timeout_s)
            except DriverError as exc:
                fact = facts.make(
                    InstanceActionFailed, instance_id, action=action.value, reason=reason(exc)
                )
            else:
                if action in (PowerAction.REBOOT, PowerAction.HARD_REBOOT):
                    fact = facts.make(
                        InstanceRebooted,
                        instance_id,
                        hard=action is PowerAction.HARD_REBOOT,
                        power_state=info.power_state,
                    )
                else:
                    fact = facts.make(
                        InstancePowerStateChanged,
                        instance_id,
                        power_state=info.power_state,
                        reason=action.value,
                    )
        await facts.publish(fact)
