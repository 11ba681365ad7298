"""An in-memory OVN northbound: objects kept as JSON in the agent's state directory.
A port is ACTIVE (its Port_Binding up) as soon as it is ensured, on its requested
chassis; a router's interface and gateway ports are ACTIVE while it holds the router (as
northd has them up), reported to `watch_ports(..., owner="router")`. Fault injection:
`driver.faults.fail_next("ensure_port", TransientError(...))`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from node_agent.drivers.errors import NotFoundError
from node_agent.drivers.fake_base import JsonBackedFake
from node_agent.drivers.network.base import PortInfo, RouterPortWatch, router_ports
from schemas.messages.agent_network import (
    EnsureFloatingIp,
    EnsureNetwork,
    EnsurePort,
    EnsureRouter,
    EnsureSecurityGroup,
)
from schemas.network import PortStatus


class FakeNetwork(JsonBackedFake):
    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir, "network")
        self._router_watch = RouterPortWatch()  # its routers' ports, told on each change

    async def _put(self, op: str, table: str, key: UUID, value: dict[str, Any]) -> None:
        await self.faults.checkpoint(op)
        self._table(table)[str(key)] = value
        self._save()

    async def _drop(self, op: str, table: str, key: UUID) -> bool:
        await self.faults.checkpoint(op)
        found = self._table(table).pop(str(key), None) is not None
        self._save()
        return found

    async def ensure_network(self, request: EnsureNetwork) -> None:
        value = request.model_dump(mode="json")
        await self._put("ensure_network", "networks", request.network.id, value)

    async def delete_network(self, network_id: UUID) -> bool:
        return await self._drop("delete_network", "networks", network_id)

    async def ensure_port(self, request: EnsurePort) -> PortInfo:
        if str(request.port.network_id) not in self._table("networks"):
            await self.faults.checkpoint("ensure_port")
            raise NotFoundError(f"network {request.port.network_id} has no logical switch")
        value = {
            "network_id": str(request.port.network_id),
            "status": PortStatus.ACTIVE.value,
            "chassis": request.requested_chassis,
            "device_id": request.port.device_id,
            "mac_address": request.port.mac_address,
        }
        await self._put("ensure_port", "ports", request.port.id, value)
        return self._port(str(request.port.id), value)

    async def delete_port(self, port_id: UUID) -> bool:
        return await self._drop("delete_port", "ports", port_id)

    async def ensure_security_group(self, request: EnsureSecurityGroup) -> None:
        value = request.model_dump(mode="json")
        await self._put(
            "ensure_security_group", "security_groups", request.security_group.id, value
        )

    async def delete_security_group(self, security_group_id: UUID) -> bool:
        return await self._drop("delete_security_group", "security_groups", security_group_id)

    async def ensure_router(self, request: EnsureRouter) -> None:
        await self._put(
            "ensure_router", "routers", request.router.id, request.model_dump(mode="json")
        )
        self._router_watch.tell(self._router_ports(request, PortStatus.ACTIVE))

    async def delete_router(self, router_id: UUID) -> bool:
        held = self._table("routers").get(str(router_id))
        found = await self._drop("delete_router", "routers", router_id)
        if held is not None:
            self._router_watch.tell(
                self._router_ports(EnsureRouter.model_validate(held), PortStatus.DOWN)
            )
        return found

    async def ensure_floating_ip(self, request: EnsureFloatingIp) -> None:
        value = request.model_dump(mode="json")
        await self._put("ensure_floating_ip", "floating_ips", request.floating_ip.id, value)

    async def delete_floating_ip(self, floating_ip_id: UUID) -> bool:
        return await self._drop("delete_floating_ip", "floating_ips", floating_ip_id)

    async def list_ports(self, owner: str = "port") -> list[PortInfo]:
        """VM ports (`owner="port"`), or the ports of the routers held (`"router"`)."""
        await self.faults.checkpoint("list_ports")
        if owner == "router":
            return [
                info
                for held in self._table("routers").values()
                for info in self._router_ports(EnsureRouter.model_validate(held), PortStatus.ACTIVE)
            ]
        return [self._port(key, value) for key, value in sorted(self._table("ports").items())]

    async def watch_ports(
        self, callback: Callable[[PortInfo], None], owner: str = "port"
    ) -> Callable[[], None]:
        return await self._router_watch.watch_ports(callback, owner)

    @staticmethod
    def _router_ports(request: EnsureRouter, status: PortStatus) -> list[PortInfo]:
        networks = {subnet.id: subnet.network_id for subnet in request.subnets}
        return router_ports(request.router, networks.get, status)

    @staticmethod
    def _port(key: str, value: dict[str, Any]) -> PortInfo:
        return PortInfo(
            port_id=UUID(key),
            network_id=UUID(value["network_id"]),
            status=PortStatus(value["status"]),
            chassis=value.get("chassis"),
            device_id=value.get("device_id", ""),
        )
