"""VIFs as a JSON state file. A plugged port is reported up at once (as if the network
bound it), unless `auto_up` is False: then the test decides with `report(port_id, up)`.
Fault injection per operation (`faults.fail_next("plug", TransientError())`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

from node_agent.drivers.fake_base import JsonBackedFake
from node_agent.drivers.vif.base import (
    PortState,
    PortStateSink,
    VifInfo,
    VifKind,
    guest_name,
    tap_name,
)
from schemas.network import Port


class FakeVif(JsonBackedFake):
    def __init__(self, state_dir: Path, bridge: str = "br-int", *, auto_up: bool = True) -> None:
        super().__init__(state_dir, "vif")
        self.bridge = bridge
        self.auto_up = auto_up
        self._sink: PortStateSink | None = None

    async def start(self, sink: PortStateSink) -> None:
        self._sink = sink

    async def close(self) -> None:
        self._sink = None

    def report(self, port_id: UUID, up: bool) -> None:
        """Tell the sink the port's state, as the network would (soon, on the loop)."""
        if self._sink is not None:
            asyncio.get_running_loop().call_soon(self._sink, PortState(port_id, up))

    async def plug(
        self,
        instance_id: UUID,
        port: Port,
        *,
        kind: VifKind = VifKind.TAP,
        netns: str | None = None,
    ) -> VifInfo:
        await self.faults.checkpoint("plug")
        table = self._table("vifs")
        info = VifInfo(
            port_id=port.id,
            instance_id=instance_id,
            device=tap_name(port.id),
            mac=str(port.mac_address),
            bridge=self.bridge,
            kind=kind,
            netns=(netns or guest_name(port.id)) if kind is VifKind.VETH else None,
        )
        table[str(port.id)] = _dump(info)
        self._save()
        if self.auto_up:
            self.report(port.id, True)
        return info

    async def unplug(self, port_id: UUID) -> bool:
        await self.faults.checkpoint("unplug")
        table = self._table("vifs")
        if table.pop(str(port_id), None) is None:
            return False
        self._save()
        self.report(port_id, False)
        return True

    async def list(self) -> tuple[VifInfo, ...]:
        await self.faults.checkpoint("list")
        table = self._table("vifs")
        return tuple(_load(table[key]) for key in sorted(table))


def _dump(info: VifInfo) -> dict[str, str | None]:
    return {
        "port_id": str(info.port_id),
        "instance_id": str(info.instance_id) if info.instance_id else None,
        "device": info.device,
        "mac": info.mac,
        "bridge": info.bridge,
        "kind": info.kind.value,
        "netns": info.netns,
    }


def _load(data: dict[str, str | None]) -> VifInfo:
    instance = data.get("instance_id")
    return VifInfo(
        port_id=UUID(str(data["port_id"])),
        instance_id=UUID(instance) if instance else None,
        device=str(data["device"]),
        mac=str(data["mac"]),
        bridge=str(data["bridge"]),
        kind=VifKind(str(data["kind"])),
        netns=data.get("netns"),
    )
