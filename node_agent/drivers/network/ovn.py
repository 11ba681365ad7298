"""The network driver on a real OVN northbound database (`--network ovn --ovn-nb ...`).

Each call is one NB transaction (ovn_idl.NbConnection) built by the concept modules:
ovn_switches (networks, subnets, DHCP), ovn_ports (logical switch ports), ovn_acls (security
groups), ovn_routers (routers, SNAT, floating IPs), ovn_reconcile (drift repair).

`ensure_port` reports the port ACTIVE only when OVN already says it is up (bound on a chassis
and plugged); otherwise DOWN, and the `network.port.active` fact comes later from whoever
sees the binding (the compute role's Southbound watcher, or `watch_ports` here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

from node_agent.drivers.network import ovn_acls, ovn_ports, ovn_routers, ovn_switches
from node_agent.drivers.network import ovn_names as names
from node_agent.drivers.network.base import PortInfo
from node_agent.drivers.network.ovn_idl import NbConnection, Row, Tx
from node_agent.drivers.network.ovn_reconcile import reconcile
from node_agent.drivers.real_options import OvnOptions
from schemas.messages.agent_network import (
    EnsureFloatingIp,
    EnsureNetwork,
    EnsurePort,
    EnsureRouter,
    EnsureSecurityGroup,
    SyncNetwork,
    SyncNetworkReply,
)
from schemas.network import PortStatus


class OvnNetwork:
    def __init__(self, nb: NbConnection, gateway_chassis: tuple[str, ...] = ()) -> None:
        self.nb = nb
        self.gateway_chassis = gateway_chassis

    @classmethod
    def connect(cls, remote: str, gateway_chassis: tuple[str, ...] = ()) -> OvnNetwork:
        return cls(NbConnection(remote), gateway_chassis)

    @classmethod
    def from_options(cls, options: OvnOptions, host: str) -> OvnNetwork:
        """The driver for an agent: NB from `--ovn-nb`; this host's chassis (`--ovn-chassis`,
        else the host name) hosts router gateways and external ports."""
        if not options.nb:
            raise ValueError("--network ovn needs the northbound database (--ovn-nb)")
        return cls.connect(options.nb, gateway_chassis=(options.chassis or host,))

    def close(self) -> None:
        self.nb.close()

    async def ensure_network(self, request: EnsureNetwork) -> None:
        await self.nb.apply(lambda tx: ovn_switches.ensure_switch(tx, request))

    async def delete_network(self, network_id: UUID) -> bool:
        return await self.nb.apply(lambda tx: ovn_switches.delete_switch(tx, network_id))

    async def ensure_port(self, request: EnsurePort) -> PortInfo:
        def ensure(tx: Tx) -> PortInfo:
            lsp = ovn_ports.ensure_lsp(tx, request, self.gateway_chassis)
            up = _committed(lsp) and bool(lsp.up and lsp.up[0])
            return PortInfo(
                port_id=request.port.id,
                network_id=request.port.network_id,
                status=PortStatus.ACTIVE if up else PortStatus.DOWN,
                chassis=request.requested_chassis,
                device_id=request.port.device_id,
            )

        return await self.nb.apply(ensure)

    async def delete_port(self, port_id: UUID) -> bool:
        return await self.nb.apply(lambda tx: ovn_ports.delete_lsp(tx, port_id))

    async def ensure_security_group(self, request: EnsureSecurityGroup) -> None:
        await self.nb.apply(lambda tx: ovn_acls.ensure_port_group(tx, request.security_group))

    async def delete_security_group(self, security_group_id: UUID) -> bool:
        return await self.nb.apply(lambda tx: ovn_acls.delete_port_group(tx, security_group_id))

    async def ensure_router(self, request: EnsureRouter) -> None:
        await self.nb.apply(lambda tx: ovn_routers.ensure_router(tx, request, self.gateway_chassis))

    async def delete_router(self, router_id: UUID) -> bool:
        return await self.nb.apply(lambda tx: ovn_routers.delete_router(tx, router_id))

    async def ensure_floating_ip(self, request: EnsureFloatingIp) -> None:
        await self.nb.apply(lambda tx: ovn_routers.ensure_floating_ip(tx, request))

    async def delete_floating_ip(self, floating_ip_id: UUID) -> bool:
        return await self.nb.apply(lambda tx: ovn_routers.delete_floating_ip(tx, floating_ip_id))

    async def list_ports(self, owner: str = "port") -> list[PortInfo]:
        """skymesh's LSPs of VM ports (`owner="port"`) or of routers (`"router"`)."""
        return await self.nb.read(lambda tx: ovn_ports.list_port_infos(tx, owner))

    async def reconcile(self, intent: SyncNetwork) -> SyncNetworkReply:
        return await reconcile(self.nb, intent, self.gateway_chassis)

    async def watch_ports(
        self, callback: Callable[[PortInfo], None], owner: str = "port"
    ) -> Callable[[], None]:
        """`callback(info)` on this loop whenever one of skymesh's LSPs of `owner` changes
        (a VM port's `up` turning true is its binding becoming live; a router port's, northd
        seeing its peer router port); returns the function that stops it."""

        def on_row(event: str, row: Row) -> None:
            if event != "delete" and row.external_ids.get(names.OWNER) == owner:
                callback(ovn_ports.port_info(row))

        return await self.nb.watch("Logical_Switch_Port", on_row)

    async def wait_port_up(self, port_id: UUID, timeout: float = 30) -> bool:
        """True once the port's LSP is up (bound and plugged), False after `timeout`."""
        loop = asyncio.get_running_loop()
        up: asyncio.Future[bool] = loop.create_future()

        def seen(info: PortInfo) -> None:
            if info.port_id == port_id and info.status is PortStatus.ACTIVE and not up.done():
                up.set_result(True)

        stop = await self.watch_ports(seen)
        try:
            if any(
                p.port_id == port_id and p.status is PortStatus.ACTIVE
                for p in await self.list_ports()
            ):
                return True
            return await asyncio.wait_for(up, timeout)
        except TimeoutError:
            return False
        finally:
            stop()


def _committed(row: Row) -> bool:
    """Whether the row existed before this transaction (a new row has no `up` yet)."""
    return getattr(row, "_data", None) is not None
