"""A spawn's ports on this host: plug them before the domain starts, wait (bounded by
`Spawn.vif_plug_timeout_s`) until the network says they are up, unplug them when the
domain goes. Nova's libvirt driver does the same with os-vif and the
`network-vif-plugged` events of `wait_for_instance_event`.

Nova's `vif_plugging_is_fatal` is `fatal` here (default True): a port still down after
the timeout makes the spawn fail (retryable, so the conductor reschedules, and after its
attempts the server is ERROR), the domain destroyed and its VIFs unplugged. With
`fatal=False` the spawn goes on and the timeout is only logged. A timeout of 0 does not
wait at all (Nova's `vif_plugging_timeout = 0`).

Only ports with vnic_type `normal` have a VIF; SR-IOV ports (`direct`) are PCI devices.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from uuid import UUID

from node_agent.drivers.errors import DriverError
from node_agent.drivers.hypervisor.base import DomainInfo, HypervisorDriver
from node_agent.drivers.vif.base import PortState, VifDriver
from node_agent.drivers.vif.waiter import PortWaiter
from node_agent.fact_publisher import FactPublisher
from schemas.messages.agent_compute import Spawn
from schemas.messages.facts import Fact, PortActive, PortDown
from schemas.network import Port, VnicType

log = logging.getLogger(__name__)


class VifPlugTimeout(DriverError):
    """Nova's VirtualInterfaceCreateException: the network never reported the ports up."""

    retryable = True


def vif_ports(ports: Iterable[Port]) -> list[Port]:
    return [port for port in ports if port.vnic_type is VnicType.NORMAL]


@dataclass
class VifPlugging:
    driver: VifDriver
    waiter: PortWaiter = field(default_factory=PortWaiter)
    fatal: bool = True  # Nova's vif_plugging_is_fatal
    # instances whose domain events are held back while they spawn: a RUNNING fact
    # would make the conductor declare them ACTIVE before their ports are up
    spawning: set[UUID] = field(default_factory=set)

    def holds(self, instance_id: UUID) -> bool:
        return instance_id in self.spawning

    def observe(self, facts: FactPublisher, state: PortState) -> Fact:
        """A port state from the driver: wake the spawns waiting for it; the fact to
        publish (network.<host>.port.active or .port.down)."""
        self.waiter.update(state)
        kind = PortActive if state.up else PortDown
        return facts.make(kind, state.port_id, chassis=state.chassis)

    async def plug(self, req: Spawn) -> None:
        for port in vif_ports(req.ports):
            await self.driver.plug(req.instance_id, port)

    async def unplug(self, port_ids: Iterable[UUID]) -> None:
        for port_id in port_ids:
            try:
                await self.driver.unplug(port_id)
            except DriverError as exc:
                log.warning("could not unplug port %s: %s", port_id, exc)

    async def wait_up(self, req: Spawn) -> set[UUID]:
        """The ports of `req` that did not come up in time (empty: all up)."""
        ids = [port.id for port in vif_ports(req.ports)]
        if not ids or req.vif_plug_timeout_s <= 0:
            return set()
        return await self.waiter.wait_up(ids, req.vif_plug_timeout_s)


Start = Callable[[], Awaitable[DomainInfo]]
Undo = Callable[[], Awaitable[None]]


async def spawn_plugged(
    vifs: VifPlugging | None,
    driver: HypervisorDriver,
    req: Spawn,
    start: Start | None = None,
    undo: Undo | None = None,
) -> DomainInfo:
    """`start()` (default `driver.spawn(req)`) with the ports plugged first and up after
    (bounded); when they time out (fatal), the domain is destroyed, `undo()` run (e.g.
    PCI devices released) and the VIFs unplugged."""
    start = start or (lambda: driver.spawn(req))
    if vifs is None:
        return await start()
    vifs.spawning.add(req.instance_id)
    try:
        return await _spawn_plugged(vifs, driver, req, start, undo)
    finally:
        vifs.spawning.discard(req.instance_id)


async def _spawn_plugged(
    vifs: VifPlugging, driver: HypervisorDriver, req: Spawn, start: Start, undo: Undo | None
) -> DomainInfo:
    ids = [port.id for port in vif_ports(req.ports)]
    try:
        await vifs.plug(req)
        info = await start()
    except BaseException:
        await vifs.unplug(ids)
        raise
    missing = await vifs.wait_up(req)
    if not missing:
        return info
    names = ", ".join(sorted(str(port_id) for port_id in missing))
    message = f"ports {names} not up within {req.vif_plug_timeout_s:g} s"
    if not vifs.fatal:
        log.warning("spawn of %s goes on: %s (plugging is not fatal)", req.instance_id, message)
        return info
    with contextlib.suppress(DriverError):
        await driver.destroy(req.instance_id)
    if undo is not None:
        await undo()
    await vifs.unplug(ids)
    raise VifPlugTimeout(f"Virtual Interface creation failed: {message}")


async def unplug_instance(
    vifs: VifPlugging | None, driver: HypervisorDriver, instance_id: UUID
) -> None:
    """Unplug the VIFs of an instance that has no domain left on this host (the source
    of a confirmed migration, the destination of a reverted one)."""
    if vifs is None:
        return
    if any(info.instance_id == instance_id for info in await driver.list_domains()):
        return  # a same-host resize: the other domain still uses them
    await unplug_all(vifs, instance_id)


async def unplug_all(
    vifs: VifPlugging | None, instance_id: UUID, port_ids: Iterable[UUID] = ()
) -> None:
    """Unplug `port_ids` and every VIF plugged for the instance (its domain is gone)."""
    if vifs is None:
        return
    plugged = {info.port_id for info in await vifs.driver.list() if info.instance_id == instance_id}
    await vifs.unplug(sorted(plugged | set(port_ids)))
