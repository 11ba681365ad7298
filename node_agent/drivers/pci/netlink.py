"""Setting a VF's MAC and VLAN through its PF, as `ip link set PF vf N mac M vlan V`
does: a small Protocol, the pyroute2 implementation, and a fake that records calls
(no SR-IOV NIC exists on the test machines).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from node_agent.drivers.errors import DriverError, NotFoundError

RESET_MAC = "00:00:00:00:00:00"


class VfNetlink(Protocol):
    async def set_vf(self, pf_netdev: str, vf_index: int, mac: str, vlan: int) -> None:
        """Give VF `vf_index` of the PF `pf_netdev` this MAC and VLAN (0: none)."""


class PyrouteVfNetlink:
    """rtnetlink through pyroute2's IPRoute (IFLA_VFINFO_LIST), called in a thread."""

    async def set_vf(self, pf_netdev: str, vf_index: int, mac: str, vlan: int) -> None:
        await asyncio.to_thread(self._set_vf, pf_netdev, vf_index, mac, vlan)

    @staticmethod
    def _set_vf(pf_netdev: str, vf_index: int, mac: str, vlan: int) -> None:
        from pyroute2 import IPRoute
        from pyroute2.netlink.exceptions import NetlinkError

        with IPRoute() as ipr:
            found = ipr.link_lookup(ifname=pf_netdev)
            if not found:
                raise NotFoundError(f"no network interface {pf_netdev}")
            try:
                ipr.link("set", index=found[0], vf={"vf": vf_index, "mac": mac, "vlan": vlan})
            except NetlinkError as exc:
                raise DriverError(f"{pf_netdev} vf {vf_index}: {exc}") from exc


@dataclass
class RecordingVfNetlink:
    """Remembers every call, and each VF's current MAC/VLAN, instead of touching links."""

    calls: list[tuple[str, int, str, int]] = field(default_factory=list)
    fail_on: set[tuple[str, int]] = field(default_factory=set)

    async def set_vf(self, pf_netdev: str, vf_index: int, mac: str, vlan: int) -> None:
        if (pf_netdev, vf_index) in self.fail_on:
            raise DriverError(f"{pf_netdev} vf {vf_index}: injected failure")
        self.calls.append((pf_netdev, vf_index, mac, vlan))

    def state(self, pf_netdev: str, vf_index: int) -> tuple[str, int] | None:
        """The MAC and VLAN last set on the VF (None: never set)."""
        for netdev, index, mac, vlan in reversed(self.calls):
            if (netdev, index) == (pf_netdev, vf_index):
                return mac, vlan
        return None
