"""An in-memory hypervisor whose domains live in a JSON file in the agent's state
directory, so they outlive an agent crash as a real hypervisor's would.

Fault injection: `driver.faults.fail_next("spawn", TransientError("..."))`,
`driver.faults.add_latency("spawn", 0.2)`; operation names are the method names, and
power actions use the action's name (`pause`, `hard_reboot`, ...).

Out of band (behind the agent's back, with the lifecycle event libvirt would emit):
in process `driver.destroy_out_of_band(instance_id)` (or `out_of_band(op, id)` with op
in destroy, crash, pause, resume, start, undefine); from another process
`node_agent.drivers.hypervisor.fake_control.send(state_dir, op, id)` or
`skymesh fake-hypervisor --state-dir DIR destroy ID`, which reach the running driver
through its control socket (see fake_control.py).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from uuid import UUID

from node_agent.drivers.errors import NotFoundError
from node_agent.drivers.faults import FaultInjector
from node_agent.drivers.hypervisor import fake_control
from node_agent.drivers.hypervisor.base import (
    DomainEvent,
    DomainEventSink,
    DomainInfo,
    LifecycleEvent,
    PowerAction,
    next_power_state,
)
from node_agent.drivers.hypervisor.domain_xml import domain_name, volume_devices
from node_agent.drivers.hypervisor.fake_state import (
    STATE_FILE,
    Domains,
    attach_disk,
    info,
    out_of_band,
    set_power,
    undefine,
)
from node_agent.state_file import JsonStateFile
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import Spawn, VolumeConnection
from schemas.network import Port
from schemas.placement import HostInventory

log = logging.getLogger(__name__)

DEFAULT_INVENTORY = HostInventory(vcpus=16, memory_mb=32768, disk_gb=500, hypervisor_type="FAKE")


class FakeHypervisor:
    def __init__(
        self,
        host: str,
        state_dir: Path,
        inventory: HostInventory = DEFAULT_INVENTORY,
        *,
        control_socket: bool = True,
    ) -> None:
        self.host = host
        self.state_dir = state_dir
        self.faults = FaultInjector()
        self._inventory = inventory
        self._file = JsonStateFile(state_dir / STATE_FILE)
        self._domains: Domains = {}
        self._sink: DomainEventSink = lambda event: None
        self._control = control_socket
        self._server: asyncio.AbstractServer | None = None

    # -- lifecycle ---------------------------------------------------------------
    async def start(self, on_event: DomainEventSink) -> None:
        with self._file.locked():
            self._domains = self._file.load().get("domains", {})
        self._sink = on_event
        if self._control:
            self._server = await fake_control.serve(self.state_dir, self._on_control)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._save()
        self._sink = lambda event: None

    def _save(self) -> None:
        with self._file.locked():
            self._file.save({"host": self.host, "domains": self._domains})

    def _emit(self, events: list[DomainEvent | None]) -> None:
        self._save()
        for event in events:
            if event is not None:
                self._sink(event)

    # -- the driver protocol -----------------------------------------------------
    async def inventory(self) -> HostInventory:
        await self.faults.checkpoint("inventory")
        return self._inventory

    async def list_domains(self) -> list[DomainInfo]:
        await self.faults.checkpoint("list_domains")
        return [info(key, record) for key, record in sorted(self._domains.items())]

    async def spawn(self, request: Spawn) -> DomainInfo:
        await self.faults.checkpoint("spawn")
        key = str(request.instance_id)
        events: list[DomainEvent | None] = []
        if key not in self._domains:
            self._domains[key] = {
                "name": domain_name(request.instance_id),
                "display_name": request.name,
                "vcpus": request.flavor.vcpus,
                "memory_mb": request.flavor.memory_mb,
                "power_state": int(PowerState.SHUTDOWN),
                "port_ids": [str(port.id) for port in request.ports],
                "volumes": [
                    {"volume_id": str(v.volume_id), "device": device}
                    for v, device in volume_devices(request)
                ],
                "console": [f"skymesh fake console of {request.name}"],
            }
            events.append(
                DomainEvent(
                    request.instance_id, LifecycleEvent.DEFINED, PowerState.SHUTDOWN, "added"
                )
            )
        state = PowerState(self._domains[key]["power_state"])
        if state is not PowerState.RUNNING:
            target = next_power_state(state, PowerAction.POWER_ON)
            events.append(set_power(self._domains, key, target, "booted"))
            self._domains[key]["console"].append(f"{request.name} login:")
        self._emit(events)
        return info(key, self._domains[key])

    async def destroy(self, instance_id: UUID) -> bool:
        await self.faults.checkpoint("destroy")
        key = str(instance_id)
        if key not in self._domains:
            return False
        self._emit(list(undefine(self._domains, key)))
        return True

    async def power(
        self, instance_id: UUID, action: PowerAction, timeout_s: float = 0
    ) -> DomainInfo:
        await self.faults.checkpoint(action.value)
        key = str(instance_id)
        record = self._domains.get(key)
        if record is None:
            raise NotFoundError(f"no domain for instance {instance_id}")
        target = next_power_state(PowerState(record["power_state"]), action)
        cause = "shutdown" if action is PowerAction.POWER_OFF and timeout_s else "destroyed"
        if action in (PowerAction.REBOOT, PowerAction.HARD_REBOOT):
            record.setdefault("console", []).append(f"[{action.value}]")
        self._emit([set_power(self._domains, key, target, cause)])
        return info(key, record)

    async def console_output(self, instance_id: UUID, length: int | None = None) -> str:
        await self.faults.checkpoint("console_output")
        record = self._domains.get(str(instance_id))
        if record is None:
            raise NotFoundError(f"no domain for instance {instance_id}")
        lines: list[str] = record.get("console", [])
        return "\n".join(lines[-length:] if length else lines)

    # -- hot-plug ------------------------------------------------------------------
    def _record(self, instance_id: UUID) -> dict[str, Any]:
        record = self._domains.get(str(instance_id))
        if record is None:
            raise NotFoundError(f"no domain for instance {instance_id}")
        return record

    async def attach_volume(self, instance_id: UUID, volume: VolumeConnection) -> str:
        await self.faults.checkpoint("attach_volume")
        record = self._record(instance_id)
        device = attach_disk(record, str(volume.volume_id), volume.device_name)
        self._save()
        return device

    async def detach_volume(self, instance_id: UUID, volume_id: UUID) -> bool:
        await self.faults.checkpoint("detach_volume")
        disks: list[dict[str, str]] = self._record(instance_id).setdefault("volumes", [])
        before = len(disks)
        disks[:] = [v for v in disks if v["volume_id"] != str(volume_id)]
        self._save()
        return len(disks) < before

    async def attach_interface(self, instance_id: UUID, port: Port) -> None:
        await self.faults.checkpoint("attach_interface")
        port_ids: list[str] = self._record(instance_id).setdefault("port_ids", [])
        if str(port.id) not in port_ids:
            port_ids.append(str(port.id))
            self._save()

    async def detach_interface(self, instance_id: UUID, port_id: UUID) -> bool:
        await self.faults.checkpoint("detach_interface")
        port_ids: list[str] = self._record(instance_id).setdefault("port_ids", [])
        if str(port_id) not in port_ids:
            return False
        port_ids.remove(str(port_id))
        self._save()
        return True

    # -- behind the agent's back ---------------------------------------------------
    def out_of_band(self, op: str, instance_id: UUID | str) -> None:
        """Change a domain as an operator or the guest would, emitting the event."""
        self._emit(list(out_of_band(self._domains, op, str(instance_id))))

    def destroy_out_of_band(self, instance_id: UUID | str) -> None:
        """`virsh destroy`: the domain stops (STOPPED/destroyed, power state SHUTDOWN)."""
        self.out_of_band("destroy", instance_id)

    async def _on_control(self, op: str, instance_id: str) -> None:
        log.info("out-of-band %s of %s", op, instance_id)
        self.out_of_band(op, instance_id)
