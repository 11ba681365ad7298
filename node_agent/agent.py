"""The node agent: drivers, registration, facts and RPC handlers of one host.

    agent = NodeAgent(config, bus)
    runner = ServiceRunner(bus, agent.services())
    await runner.run_until_stopped()

On start: a new incarnation; the drivers start (hypervisor lifecycle events become
facts at once); in the background it registers with the conductor (with its inventory
when it computes), publishes `fact.inventory` and a full `fact.agent.snapshot`, then
heartbeats. NodeAgent itself is a service named `node_agent.<host>` that answers
`request_snapshot`; `services()` adds the role handlers under `node_agent.<host>` and
`node_agent.<role>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from importlib import metadata
from typing import Any
from uuid import UUID, uuid4

from corebus.bus import Bus
from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.service import rpc
from node_agent.config import AgentConfig
from node_agent.drivers.hypervisor.base import DomainEvent
from node_agent.drivers.registry import Drivers, make_drivers
from node_agent.drivers.vif.base import PortState
from node_agent.fact_publisher import FactPublisher
from node_agent.registration import Registration
from node_agent.seq import SeqClock
from node_agent.services.compute import ComputeContext, ComputeService, fact_for_event
from node_agent.services.compute_devices import ComputeDevices
from node_agent.services.compute_moves import ComputeMoves
from node_agent.services.compute_pci import InventoryWatch
from node_agent.services.compute_vifs import VifPlugging
from node_agent.services.dvr import dvr_service, start_dvr, stop_dvr
from node_agent.services.network import NetworkService
from node_agent.services.router_ports import PortWatch, RouterPortReports
from node_agent.services.storage import StorageService
from node_agent.snapshot import take_snapshot
from schemas.messages.agent_compute import RequestSnapshot
from schemas.messages.conductor_hosts import RegisterHost, RegisterHostReply
from schemas.messages.host_facts import AgentSnapshot, InventoryReported
from schemas.placement import HostInventory, HostRole

log = logging.getLogger(__name__)


def agent_version() -> str:
    try:
        return f"skymesh {metadata.version('skymesh')}"
    except metadata.PackageNotFoundError:
        return "skymesh (source)"


class NodeAgent:
    def __init__(self, config: AgentConfig, bus: Bus, drivers: Drivers | None = None) -> None:
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.name = f"node_agent.{config.host}"
        self.incarnation: UUID = uuid4()
        self.clock = SeqClock.in_dir(config.state_dir)
        self.facts = FactPublisher(Client(bus), config.host, self.clock, config.primary_role)
        self.drivers = drivers or make_drivers(
            frozenset(r.value for r in config.roles), config.drivers, config.driver_context
        )
        self.compute: ComputeContext | None = None
        if self.drivers.hypervisor is not None:
            builds = asyncio.Semaphore(config.max_concurrent_builds)
            self.compute = ComputeContext(
                self.drivers.hypervisor, self.facts, builds, pci=self.drivers.pci
            )
            if self.drivers.vif is not None:
                self.compute.vifs = VifPlugging(self.drivers.vif)
        self._pci_watch: InventoryWatch | None = None
        if self.drivers.pci is not None:
            self._pci_watch = InventoryWatch(self.drivers.pci, self._report_inventory)
        self._router_ports: RouterPortReports | None = None
        network = self.drivers.network
        if isinstance(network, PortWatch) and HostRole.NETWORK in config.roles:
            self._router_ports = RouterPortReports(network, self.facts)
        self.registration = Registration(
            self.facts.client,
            self._registration_request,
            self._on_registered,
            running_tasks=lambda: self.compute.running if self.compute else 0,
            call_timeout_s=config.call_timeout_s,
        )
        self.host_id: UUID | None = None
        self._task: asyncio.Task[None] | None = None

    def services(self) -> list[Any]:
        """Every service object to run: this one, then the role handlers under this
        host's name and under each role's name."""
        found: list[Any] = [self]
        roles = self._roles()
        targets = [(self.name, set(roles))] + [(f"node_agent.{r.value}", {r}) for r in roles]
        for name, serves in targets:
            if self.compute is not None and HostRole.COMPUTE in serves:
                found.append(ComputeService(name, self.compute))
                found.append(ComputeMoves(name, self.compute))
                found.append(ComputeDevices(name, self.compute))
            if self.drivers.dvr is not None and self._dvr_compute(serves) and name == self.name:
                dvr, host = self.drivers.dvr, self.config.host
                found.append(dvr_service(name, dvr, self.config.state_dir, host))
            if self.drivers.network is not None and HostRole.NETWORK in serves:
                found.append(NetworkService(name, self.drivers.network, self.facts))
            if self.drivers.storage is not None and HostRole.STORAGE in serves:
                found.append(StorageService(name, self.drivers.storage, self.facts))
        return found

    def _dvr_compute(self, serves: set[HostRole]) -> bool:
        """Mirrored network commands (dvr backend) on a compute-only host."""
        return HostRole.COMPUTE in serves and HostRole.NETWORK not in self.config.roles

    def _roles(self) -> list[HostRole]:
        return [role for role in HostRole if role in self.config.roles]

    # -- lifecycle (called by the ServiceRunner) ---------------------------------
    async def start(self) -> None:
        if self.drivers.hypervisor is not None:
            await self.drivers.hypervisor.start(self._on_domain_event)
        if self._pci_watch is not None:
            await self._pci_watch.start()
        if self.compute is not None and self.compute.vifs is not None:
            await self.compute.vifs.driver.start(self._on_port_state)
        await start_dvr(self.drivers)
        self._task = asyncio.create_task(self.registration.run(), name="agent-registration")
        log.info(
            "agent %s starting with roles %s", self.config.host, [r.value for r in self._roles()]
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pci_watch is not None:
            await self._pci_watch.close()
        if self.drivers.hypervisor is not None:
            await self.drivers.hypervisor.close()
        if self.compute is not None and self.compute.vifs is not None:
            await self.compute.vifs.driver.close()
        await stop_dvr(self.drivers)
        if self._router_ports is not None:
            self._router_ports.close()
        await self.facts.drain()
        self.clock.save()

    # -- RPC ---------------------------------------------------------------------
    @rpc
    async def request_snapshot(self, ctx: RequestContext, req: RequestSnapshot) -> None:
        await self.registration.registered.wait()
        await self.publish_snapshot()

    # -- facts -------------------------------------------------------------------
    async def publish_snapshot(self) -> AgentSnapshot:
        assert self.host_id is not None, "the snapshot needs the host id from registration"
        snapshot = await take_snapshot(self.facts, self.host_id, self.config.roles, self.drivers)
        await self.facts.publish(snapshot)
        return snapshot

    def _on_domain_event(self, event: DomainEvent) -> None:
        vifs = self.compute.vifs if self.compute is not None else None
        if vifs is not None and vifs.holds(event.instance_id):
            return  # spawning: instance.spawned reports it once its ports are up
        self.facts.publish_soon(fact_for_event(self.facts, event))

    def _on_port_state(self, state: PortState) -> None:
        if self.compute is not None and self.compute.vifs is not None:
            self.facts.publish_soon(self.compute.vifs.observe(self.facts, state))

    async def inventory(self) -> HostInventory | None:
        if self.drivers.hypervisor is None:
            return None
        inventory = await self.drivers.hypervisor.inventory()
        if self.drivers.pci is not None:
            devices = await self.drivers.pci.discover()
            if devices:
                data = inventory.model_dump()
                data["pci_devices"] = devices
                inventory = HostInventory.model_validate(data)
        return inventory

    async def _report_inventory(self) -> None:
        """A fresh `fact.inventory` when PCI devices appeared or vanished (before
        registration there is nothing to do: registering carries the inventory)."""
        if self.host_id is None:
            return
        inventory = await self.inventory()
        if inventory is not None:
            await self.facts.publish(
                self.facts.make(InventoryReported, self.host_id, inventory=inventory)
            )

    async def _registration_request(self) -> RegisterHost:
        return RegisterHost(
            name=self.config.host,
            incarnation=self.incarnation,
            roles=self.config.roles,
            availability_zone=self.config.availability_zone,
            inventory=await self.inventory(),
            agent_version=agent_version(),
            started_at=datetime.now(UTC),
        )

    async def _on_registered(self, reply: RegisterHostReply) -> None:
        self.host_id = reply.host_id
        inventory = await self.inventory()
        if inventory is not None:
            await self.facts.publish(
                self.facts.make(InventoryReported, reply.host_id, inventory=inventory)
            )
        await self.publish_snapshot()
        if self._router_ports is not None:
            self._router_ports.report_soon()
        self.clock.save()
