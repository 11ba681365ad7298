"""VIFs on Open vSwitch's integration bridge (br-int), as os-vif's `ovs` plugin plugs them.

The device (a tap, or a veth into a guest namespace) is created with pyroute2 and added
to the bridge in one ovsdbapp transaction with the Interface's external_ids that OVN's
ovn-controller binds by: `iface-id=<port id>` (the logical switch port's name),
`attached-mac`, `vm-uuid=<instance id>`, `iface-status=active`. `skymesh-kind` and
`skymesh-netns` record what `unplug` and `list` need. The bridge must already exist
(ovn-controller creates br-int, `datapath_type=netdev` on the userspace datapath).

Port states come from `watcher` (the southbound Port_Binding of this chassis, see
ovn_binding.py); without one (OVS without OVN) a port is reported up once plugged.
All blocking work (ovsdbapp, pyroute2) runs in worker threads.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from node_agent.drivers.errors import DriverError, InvalidStateError, TransientError
from node_agent.drivers.vif import links, ovsdb
from node_agent.drivers.vif.base import (
    PortState,
    PortStateSink,
    PortStateSource,
    VifInfo,
    VifKind,
    guest_name,
    tap_name,
)
from schemas.network import Port

MANAGED = "skymesh-kind"  # external_ids key marking the Interfaces this driver plugged
NETNS = "skymesh-netns"
NETNS_CREATED = "skymesh-netns-created"


class OvsVif:
    def __init__(
        self,
        ovs_db: str,
        bridge: str = "br-int",
        *,
        host_netns: str | None = None,
        watcher: PortStateSource | None = None,
    ) -> None:
        self.ovs_db, self.bridge, self.host_netns = ovs_db, bridge, host_netns
        self._watcher = watcher  # e.g. the southbound watcher of ovn_binding.py
        self._api: Any = None
        self._sink: PortStateSink | None = None

    async def start(self, sink: PortStateSink) -> None:
        self._sink = sink
        await self._ensure_api()
        if self._watcher is not None:
            await self._watcher.start(sink)

    async def close(self) -> None:
        if self._watcher is not None:
            await self._watcher.close()
        if self._api is not None:
            api, self._api = self._api, None
            await asyncio.to_thread(ovsdb.close, api)

    async def _ensure_api(self) -> Any:
        if self._api is None:
            try:
                self._api = await asyncio.to_thread(ovsdb.ovs_api, self.ovs_db)
            except Exception as exc:
                raise TransientError(f"Open vSwitch database {self.ovs_db}: {exc}") from exc
        return self._api

    async def plug(
        self,
        instance_id: UUID,
        port: Port,
        *,
        kind: VifKind = VifKind.TAP,
        netns: str | None = None,
    ) -> VifInfo:
        api = await self._ensure_api()
        info = VifInfo(
            port_id=port.id,
            instance_id=instance_id,
            device=tap_name(port.id),
            mac=str(port.mac_address),
            bridge=self.bridge,
            kind=kind,
            netns=(netns or guest_name(port.id)) if kind is VifKind.VETH else None,
        )
        await asyncio.to_thread(self._plug, api, info, port.mtu)
        if self._watcher is None and self._sink is not None:
            self._sink(PortState(port.id, True))
        return info

    def _plug(self, api: Any, info: VifInfo, mtu: int | None) -> None:
        created = False
        try:
            if info.kind is VifKind.VETH:
                assert info.netns is not None
                created = links.ensure_veth(self.host_netns, info.device, info.netns, info.mac, mtu)
            else:
                links.ensure_tap(self.host_netns, info.device, mtu)
        except Exception as exc:
            raise DriverError(f"could not create {info.device}: {exc}") from exc
        external_ids = {
            "iface-id": str(info.port_id),
            "attached-mac": info.mac,
            "vm-uuid": str(info.instance_id),
            "iface-status": "active",
            MANAGED: info.kind.value,
        }
        if info.netns:
            external_ids[NETNS] = info.netns
        if created:
            external_ids[NETNS_CREATED] = "true"
        if not api.br_exists(self.bridge).execute(check_error=True):
            raise InvalidStateError(f"no bridge {self.bridge} in {self.ovs_db}")
        with api.transaction(check_error=True) as txn:
            txn.add(api.add_port(self.bridge, info.device, may_exist=True))
            txn.add(api.db_set("Interface", info.device, ("external_ids", external_ids)))

    async def unplug(self, port_id: UUID) -> bool:
        api = await self._ensure_api()
        found: bool = await asyncio.to_thread(self._unplug, api, tap_name(port_id))
        if found and self._watcher is None and self._sink is not None:
            self._sink(PortState(port_id, False))
        return found

    def _unplug(self, api: Any, device: str) -> bool:
        rows = api.db_find_rows("Interface", ("name", "=", device)).execute(check_error=True)
        external_ids = dict(rows[0].external_ids) if rows else {}
        api.del_port(device, if_exists=True).execute(check_error=True)
        gone = links.delete(self.host_netns, device)
        if external_ids.get(NETNS_CREATED) == "true":
            links.delete_netns(external_ids[NETNS])
        return bool(rows) or gone

    async def list(self) -> tuple[VifInfo, ...]:
        api = await self._ensure_api()
        return await asyncio.to_thread(self._list, api)

    def _list(self, api: Any) -> tuple[VifInfo, ...]:
        rows = api.db_list_rows("Interface").execute(check_error=True)
        found = []
        for row in rows:
            ids = dict(row.external_ids)
            if MANAGED not in ids or "iface-id" not in ids:
                continue
            vm = ids.get("vm-uuid")
            found.append(
                VifInfo(
                    port_id=UUID(ids["iface-id"]),
                    instance_id=UUID(vm) if vm and vm != "None" else None,
                    device=row.name,
                    mac=ids.get("attached-mac", ""),
                    bridge=self.bridge,
                    kind=VifKind(ids[MANAGED]),
                    netns=ids.get(NETNS),
                )
            )
        return tuple(sorted(found, key=lambda info: info.device))
