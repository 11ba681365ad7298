"""The `dvr` network driver: Neutron objects on plain Linux bridges, routed by the
namespace DVR instead of OVN.

The network commands (`EnsureNetwork`, `EnsurePort` with the chosen host, `EnsureRouter`,
`EnsureFloatingIp`, ...) reach the network agent as for OVN, and, with the dvr backend,
the conductor mirrors them to every compute host (conductor/dvr_mirror.py). Each agent
keeps the objects in a `DvrModel` (saved in its state dir) and builds its own part
through its host's DVR driver: the network node (`host=None`) the network bridges and
snat namespaces; a compute host the bridges of its ports' networks and the qrouter (and
fip) namespaces of the routers its ports are on, with the floating IPs of its own ports.
Security groups are accepted and not enforced (docs/dvr.md). Until `attach` gives it the
host's DVR driver, it only records.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from node_agent.drivers.dvr.base import DvrDriver
from node_agent.drivers.dvr.plans import DvrModel
from node_agent.drivers.network.base import PortInfo, RouterPortWatch, router_ports
from node_agent.state_file import JsonStateFile
from schemas.messages.agent_network import (
    EnsureFloatingIp,
    EnsureNetwork,
    EnsurePort,
    EnsureRouter,
    EnsureSecurityGroup,
)
from schemas.network import Network, Port, PortStatus, Subnet
from schemas.router import FloatingIp, Router

log = logging.getLogger(__name__)
TABLES: dict[str, Any] = {
    "networks": Network,
    "subnets": Subnet,
    "ports": Port,
    "routers": Router,
    "floating_ips": FloatingIp,
}


class DvrNetwork:
    """`host`: the compute host whose part to build; None: the network node's."""

    def __init__(self, state_dir: Path, host: str | None = None) -> None:
        self.host = host
        self._file = JsonStateFile(state_dir / "dvr-network.json")
        data = self._file.load()
        self.model = DvrModel(hosts={UUID(k): v for k, v in data.get("hosts", {}).items()})
        for table, kind in TABLES.items():
            rows = {UUID(k): kind.model_validate(v) for k, v in data.get(table, {}).items()}
            setattr(self.model, table, rows)
        self._placed = {UUID(k) for k in data.get("placed", [])}  # routers built here
        self._dvr: DvrDriver | None = None
        self._lock = asyncio.Lock()
        self._router_watch = RouterPortWatch()  # its routers' ports, told on each change

    def attach(self, dvr: DvrDriver) -> None:
        self._dvr = dvr

    # -- NetworkDriver -------------------------------------------------------------
    async def ensure_network(self, request: EnsureNetwork) -> None:
        async with self._lock:
            self.model.networks[request.network.id] = request.network
            self._subnets(request.subnets)
            if self.host is None:
                await self._local_network(request.network.id)
            self._save()

    async def delete_network(self, network_id: UUID) -> bool:
        async with self._lock:
            found = self.model.networks.pop(network_id, None) is not None
            for subnet_id in [
                s.id for s in self.model.subnets.values() if s.network_id == network_id
            ]:
                del self.model.subnets[subnet_id]
            if self._dvr is not None:
                await self._dvr.delete_network(network_id)
            self._save()
            return found

    async def ensure_port(self, request: EnsurePort) -> PortInfo:
        port, host = request.port, request.requested_chassis
        async with self._lock:
            self.model.ports[port.id] = port
            if host:
                self.model.hosts[port.id] = host
            if host is not None and host == self.host:
                await self._local_network(port.network_id)  # the guest's bridge
            await self._sync_routers()
            self._save()
        return PortInfo(port.id, port.network_id, PortStatus.ACTIVE, host, port.device_id)

    async def delete_port(self, port_id: UUID) -> bool:
        async with self._lock:
            found = self.model.ports.pop(port_id, None) is not None
            self.model.hosts.pop(port_id, None)
            await self._sync_routers()
            self._save()
            return found

    async def ensure_security_group(self, request: EnsureSecurityGroup) -> None:
        return None  # not enforced on the dvr backend (docs/dvr.md)

    async def delete_security_group(self, security_group_id: UUID) -> bool:
        return True

    async def ensure_router(self, request: EnsureRouter) -> None:
        async with self._lock:
            self.model.routers[request.router.id] = request.router
            self._subnets(request.subnets)
            await self._sync_routers()
            self._save()
        self._router_watch.tell(self._router_ports(request.router, PortStatus.ACTIVE))

    async def delete_router(self, router_id: UUID) -> bool:
        async with self._lock:
            router = self.model.routers.pop(router_id, None)
            self._placed.discard(router_id)
            if self._dvr is not None:
                await self._dvr.delete_router(router_id)
            self._save()
        if router is not None:
            self._router_watch.tell(self._router_ports(router, PortStatus.DOWN))
        return router is not None

    async def ensure_floating_ip(self, request: EnsureFloatingIp) -> None:
        async with self._lock:
            self.model.floating_ips[request.floating_ip.id] = request.floating_ip
            await self._sync_routers()
            self._save()

    async def delete_floating_ip(self, floating_ip_id: UUID) -> bool:
        async with self._lock:
            found = self.model.floating_ips.pop(floating_ip_id, None) is not None
            await self._sync_routers()
            self._save()
            return found

    async def list_ports(self, owner: str = "port") -> list[PortInfo]:
        """VM ports (`owner="port"`), or the interface and gateway ports of the routers
        this host holds (`"router"`: ACTIVE, as Neutron's L3 agent reports them)."""
        if owner == "router":
            return [
                info
                for router in self.model.routers.values()
                for info in self._router_ports(router, PortStatus.ACTIVE)
            ]
        return [
            PortInfo(p.id, p.network_id, PortStatus.ACTIVE, self.model.hosts.get(p.id), p.device_id)
            for p in self.model.ports.values()
        ]

    async def watch_ports(
        self, callback: Callable[[PortInfo], None], owner: str = "port"
    ) -> Callable[[], None]:
        return await self._router_watch.watch_ports(callback, owner)

    def _router_ports(self, router: Router, status: PortStatus) -> list[PortInfo]:
        def network_of(subnet_id: UUID) -> UUID | None:
            subnet = self.model.subnets.get(subnet_id)
            return None if subnet is None else subnet.network_id

        return router_ports(router, network_of, status, self.host)

    # -- this host's part ------------------------------------------------------------
    async def _sync_routers(self) -> None:
        for router in self.model.routers.values():
            if self.host is None:
                await self._network_node_part(router)
            else:
                await self._compute_part(router, self.host)

    async def _network_node_part(self, router: Router) -> None:
        for network_id in sorted({i.network_id for i in self.model.interfaces(router)}):
            await self._local_network(network_id)
        if self._dvr is None:
            return
        if self.model.gateway(router) is not None:
            await self._dvr.ensure_snat(self.model.snat_plan(router))
        else:
            await self._dvr.delete_router(router.id)

    async def _compute_part(self, router: Router, host: str) -> None:
        if self._dvr is None:
            return
        if host not in self.model.router_hosts(router):
            if router.id in self._placed:
                await self._dvr.delete_router(router.id)
                self._placed.discard(router.id)
            return
        for network_id in sorted({i.network_id for i in self.model.interfaces(router)}):
            await self._local_network(network_id)
        await self._dvr.ensure_qrouter(self.model.host_plan(router, host))
        self._placed.add(router.id)

    async def _local_network(self, network_id: UUID) -> None:
        wiring = self.model.wiring(network_id)
        if self._dvr is not None and wiring is not None:
            await self._dvr.ensure_network(wiring)

    def _subnets(self, subnets: tuple[Subnet, ...]) -> None:
        for subnet in subnets:
            self.model.subnets[subnet.id] = subnet

    def _save(self) -> None:
        data: dict[str, Any] = {
            table: {
                str(k): v.model_dump(mode="json") for k, v in getattr(self.model, table).items()
            }
            for table in TABLES
        }
        data["hosts"] = {str(k): v for k, v in self.model.hosts.items()}
        data["placed"] = sorted(str(k) for k in self._placed)
        with self._file.locked():
            self._file.save(data)
