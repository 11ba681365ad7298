"""The hypervisor driver on libvirt: libvirt's test driver by default, QEMU later.

Blocking libvirt calls run in threads (asyncio.to_thread); lifecycle events arrive on
the asyncio loop through libvirtaio, are queued, and a single worker turns them, in
order, into DomainEvents with the domain's state read at that moment. Only domains whose
`<metadata>` names this host are listed, reported or touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import libvirt

from node_agent.drivers.errors import DriverError, NotSupportedError, TransientError
from node_agent.drivers.hypervisor import libvirt_events
from node_agent.drivers.hypervisor.base import (
    DomainEvent,
    DomainEventSink,
    DomainInfo,
    LifecycleEvent,
    PowerAction,
)
from node_agent.drivers.hypervisor.domain_xml import build_domain_xml
from node_agent.drivers.hypervisor.libvirt_domains import OwnedDomains
from node_agent.drivers.hypervisor.sim_node import (
    NODE_FILE,
    SimulatedNode,
    uri_for,
    write_node,
)
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import Spawn, VolumeConnection
from schemas.network import Port
from schemas.placement import HostInventory

log = logging.getLogger(__name__)
T = TypeVar("T")

EVENTS = {
    libvirt.VIR_DOMAIN_EVENT_DEFINED: LifecycleEvent.DEFINED,
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: LifecycleEvent.UNDEFINED,
    libvirt.VIR_DOMAIN_EVENT_STARTED: LifecycleEvent.STARTED,
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: LifecycleEvent.SUSPENDED,
    libvirt.VIR_DOMAIN_EVENT_RESUMED: LifecycleEvent.RESUMED,
    libvirt.VIR_DOMAIN_EVENT_STOPPED: LifecycleEvent.STOPPED,
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: LifecycleEvent.SHUTDOWN,
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: LifecycleEvent.PMSUSPENDED,
    libvirt.VIR_DOMAIN_EVENT_CRASHED: LifecycleEvent.CRASHED,
}


class LibvirtHypervisor:
    def __init__(
        self,
        host: str,
        state_dir: Path,
        uri: str = "test:///default",
        *,
        domain_type: str = "test",
        node: SimulatedNode | None = None,
    ) -> None:
        self.host, self.state_dir, self.uri = host, state_dir, uri
        self.domain_type = domain_type
        self._node = node
        self._conn: Any = None
        self._domains = OwnedDomains(None, host)
        self._callback_id: int | None = None
        self._sink: DomainEventSink = lambda event: None
        self._owned: set[UUID] = set()
        self._events: asyncio.Queue[tuple[UUID, int, int]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    @classmethod
    def simulated(
        cls, host: str, state_dir: Path, node: SimulatedNode | None = None
    ) -> LibvirtHypervisor:
        """The test driver on a node XML of this agent's own, kept in its state dir."""
        node = node or SimulatedNode()
        path = state_dir / NODE_FILE
        if not path.exists():
            write_node(path, node, [])
        return cls(host, state_dir, uri_for(path), domain_type="test", node=node)

    @property
    def connection(self) -> Any:
        """The libvirt connection (for tests that act behind the agent's back)."""
        return self._conn

    # -- lifecycle ---------------------------------------------------------------
    async def start(self, on_event: DomainEventSink) -> None:
        libvirt_events.ensure_event_impl()
        self._conn = await asyncio.to_thread(libvirt.open, self.uri)
        self._domains = OwnedDomains(self._conn, self.host)
        self._sink = on_event
        self._callback_id = self._conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle, None
        )
        self._owned = {d.instance_id for d in await self.list_domains()}
        self._worker = asyncio.create_task(self._process_events(), name="libvirt-events")

    async def close(self) -> None:
        if self._conn is None:
            return
        if self._callback_id is not None:
            with contextlib.suppress(libvirt.libvirtError):
                self._conn.domainEventDeregisterAny(self._callback_id)
            self._callback_id = None
        if self._worker is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._events.join(), 5)
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._persist()
        conn, self._conn = self._conn, None
        await asyncio.to_thread(conn.close)

    # -- events ------------------------------------------------------------------
    def _on_lifecycle(self, _conn: Any, dom: Any, event: int, detail: int, _opaque: Any) -> None:
        self._events.put_nowait((UUID(dom.UUIDString()), event, detail))

    async def _process_events(self) -> None:
        while True:
            uuid, event, detail = await self._events.get()
            try:
                await self._handle_event(uuid, event, detail)
            except Exception:
                log.exception("libvirt event %s/%s of %s failed", event, detail, uuid)
            finally:
                self._events.task_done()

    async def _handle_event(self, uuid: UUID, event: int, detail: int) -> None:
        kind = EVENTS.get(event)
        if kind is None:
            return
        if kind is not LifecycleEvent.UNDEFINED:
            host = await asyncio.to_thread(self._domains.host_of, uuid)
            if host is not None and host != self.host:
                self._owned.discard(uuid)  # another agent's, or taken over by one
                return
            if host == self.host:
                self._owned.add(uuid)
        if uuid not in self._owned:
            return
        power: PowerState | None = None
        if kind is LifecycleEvent.UNDEFINED:
            self._owned.discard(uuid)
        else:
            power = await asyncio.to_thread(self._domains.state_of, uuid)
            if power is None:
                return  # gone already: its UNDEFINED event follows
        await self._persist()
        self._sink(DomainEvent(uuid, kind, power, libvirt_events.detail_name(event, detail)))

    # -- the driver protocol -----------------------------------------------------
    async def inventory(self) -> HostInventory:
        model, memory_mb, cpus, *_ = await asyncio.to_thread(self._conn.getInfo)
        if self._node is not None:
            disk_gb = self._node.disk_gb
        else:
            disk_gb = shutil.disk_usage(self.state_dir).total // 2**30
        return HostInventory(
            vcpus=cpus,
            memory_mb=memory_mb,
            disk_gb=disk_gb,
            hypervisor_type=await asyncio.to_thread(self._conn.getType),
            cpu_model=model,
        )

    async def list_domains(self) -> list[DomainInfo]:
        return await asyncio.to_thread(self._domains.list_owned)

    async def spawn(self, request: Spawn) -> DomainInfo:
        instance_dir = self.state_dir / "instances" / str(request.instance_id)
        instance_dir.mkdir(parents=True, exist_ok=True)
        xml = build_domain_xml(
            request, self.host, domain_type=self.domain_type, instance_dir=instance_dir
        )
        return await self._guard(asyncio.to_thread(self._domains.spawn, request.instance_id, xml))

    async def destroy(self, instance_id: UUID) -> bool:
        return await self._guard(asyncio.to_thread(self._domains.destroy, instance_id))

    async def power(
        self, instance_id: UUID, action: PowerAction, timeout_s: float = 0
    ) -> DomainInfo:
        return await self._guard(
            asyncio.to_thread(self._domains.power, instance_id, action, timeout_s)
        )

    async def console_output(self, instance_id: UUID, length: int | None = None) -> str:
        await asyncio.to_thread(self._domains.owned, instance_id)
        log_file = self.state_dir / "instances" / str(instance_id) / "console.log"
        try:
            lines = log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-length:] if length else lines)

    # -- hot-plug: libvirt's test driver cannot attach devices to a live domain -------
    async def attach_volume(self, instance_id: UUID, volume: VolumeConnection) -> str:
        raise NotSupportedError(f"{self.domain_type} domains cannot hot-plug volumes")

    async def detach_volume(self, instance_id: UUID, volume_id: UUID) -> bool:
        raise NotSupportedError(f"{self.domain_type} domains cannot hot-unplug volumes")

    async def attach_interface(self, instance_id: UUID, port: Port) -> None:
        raise NotSupportedError(f"{self.domain_type} domains cannot hot-plug interfaces")

    async def detach_interface(self, instance_id: UUID, port_id: UUID) -> bool:
        raise NotSupportedError(f"{self.domain_type} domains cannot hot-unplug interfaces")

    # -- helpers -----------------------------------------------------------------
    async def _guard(self, work: Awaitable[T]) -> T:
        """libvirt errors become DriverErrors (retryable when the connection failed)."""
        try:
            return await work
        except libvirt.libvirtError as exc:
            code = exc.get_error_code()
            retryable = code in (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_RPC)
            cls = TransientError if retryable else DriverError
            raise cls(f"libvirt: {exc.get_error_message()}") from exc

    async def _persist(self) -> None:
        """Rewrite the simulated node's XML with the domains it has now."""
        if self._node is None or self._conn is None:
            return
        domains = await asyncio.to_thread(self._domains.persisted)
        await asyncio.to_thread(write_node, self.state_dir / NODE_FILE, self._node, domains)
