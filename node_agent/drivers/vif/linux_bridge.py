"""VIFs on a Linux bridge (os-vif's `bridge` plugin), for hosts whose network is not
OVN: the tap (or veth) is enslaved to the bridge named by `--vif-bridge`, created when
missing. No southbound exists to confirm it, so a port is reported up once plugged and
down once unplugged. What this driver plugged is the bridge's `tap*` ports; the guest
namespace of a VETH is `guest_name(port)` unless given, and goes with the unplug when
this driver created it (recorded in a small JSON file in the state dir)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

from node_agent.drivers.errors import DriverError
from node_agent.drivers.vif import links
from node_agent.drivers.vif.base import (
    TAP_PREFIX,
    PortState,
    PortStateSink,
    VifInfo,
    VifKind,
    guest_name,
    tap_name,
)
from node_agent.state_file import JsonStateFile
from schemas.network import Port


class LinuxBridgeVif:
    def __init__(self, bridge: str, state_dir: Path, *, host_netns: str | None = None) -> None:
        self.bridge, self.host_netns = bridge, host_netns
        self._file = JsonStateFile(state_dir / "vif-linux-bridge.json")
        self._sink: PortStateSink | None = None

    async def start(self, sink: PortStateSink) -> None:
        self._sink = sink

    async def close(self) -> None:
        self._sink = None

    def _report(self, port_id: UUID, up: bool) -> None:
        if self._sink is not None:
            self._sink(PortState(port_id, up))

    async def plug(
        self,
        instance_id: UUID,
        port: Port,
        *,
        kind: VifKind = VifKind.TAP,
        netns: str | None = None,
    ) -> VifInfo:
        info = VifInfo(
            port_id=port.id,
            instance_id=instance_id,
            device=tap_name(port.id),
            mac=str(port.mac_address),
            bridge=self.bridge,
            kind=kind,
            netns=(netns or guest_name(port.id)) if kind is VifKind.VETH else None,
        )
        try:
            await asyncio.to_thread(self._plug, info, port.mtu)
        except Exception as exc:  # pyroute2's NetlinkError, OSError
            raise DriverError(f"could not plug {info.device} into {self.bridge}: {exc}") from exc
        self._report(port.id, True)
        return info

    def _plug(self, info: VifInfo, mtu: int | None) -> None:
        with links.ipr(self.host_netns) as route:
            if not route.link_lookup(ifname=self.bridge):
                route.link("add", ifname=self.bridge, kind="bridge")
            bridge = route.link_lookup(ifname=self.bridge)[0]
            route.link("set", index=bridge, state="up")
        if info.kind is VifKind.VETH:
            assert info.netns is not None
            created = links.ensure_veth(self.host_netns, info.device, info.netns, info.mac, mtu)
        else:
            created = False
            links.ensure_tap(self.host_netns, info.device, mtu)
        with links.ipr(self.host_netns) as route:
            device = route.link_lookup(ifname=info.device)[0]
            route.link("set", index=device, master=bridge)
        with self._file.locked():
            data = self._file.load()
            before = data.get(str(info.port_id), {})
            created = created or bool(before.get("netns_created"))
            data[str(info.port_id)] = {
                "instance_id": str(info.instance_id),
                "mac": info.mac,
                "kind": info.kind.value,
                "netns": info.netns,
                "netns_created": created,
            }
            self._file.save(data)

    async def unplug(self, port_id: UUID) -> bool:
        found = await asyncio.to_thread(self._unplug, port_id)
        if found:
            self._report(port_id, False)
        return found

    def _unplug(self, port_id: UUID) -> bool:
        with self._file.locked():
            data = self._file.load()
            record = data.pop(str(port_id), None)
            self._file.save(data)
        gone = links.delete(self.host_netns, tap_name(port_id))
        if record and record.get("netns_created") and record.get("netns"):
            links.delete_netns(record["netns"])
        return gone or record is not None

    async def list(self) -> tuple[VifInfo, ...]:
        return await asyncio.to_thread(self._list)

    def _list(self) -> tuple[VifInfo, ...]:
        with self._file.locked():
            data = self._file.load()
        with links.ipr(self.host_netns) as route:
            found = route.link_lookup(ifname=self.bridge)
            ports = route.get_links(master=found[0]) if found else []
            names = {link.get_attr("IFLA_IFNAME") for link in ports}
        vifs = []
        for key, record in sorted(data.items()):
            device = tap_name(key)
            if device not in names or not device.startswith(TAP_PREFIX):
                continue
            vifs.append(
                VifInfo(
                    port_id=UUID(key),
                    instance_id=UUID(record["instance_id"]),
                    device=device,
                    mac=record["mac"],
                    bridge=self.bridge,
                    kind=VifKind(record["kind"]),
                    netns=record.get("netns"),
                )
            )
        return tuple(vifs)
