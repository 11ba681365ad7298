"""The network role's driver: OVN northbound objects. Every method is idempotent:
`ensure_*` creates or updates to exactly the given state, `delete_*` returns False when
there was nothing to delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from schemas.messages.agent_network import (
    EnsureFloatingIp,
    EnsureNetwork,
    EnsurePort,
    EnsureRouter,
    EnsureSecurityGroup,
)
from schemas.network import PortStatus
from schemas.router import Router


@dataclass(frozen=True)
class PortInfo:
    port_id: UUID
    network_id: UUID
    status: PortStatus
    chassis: str | None = None
    device_id: str = ""


def router_ports(
    router: Router,
    network_of: Callable[[UUID], UUID | None],
    status: PortStatus,
    chassis: str | None = None,
) -> list[PortInfo]:
    """A router's interface ports (`network_of(subnet_id)`: the subnet's network, None
    when unknown) and its gateway port, as PortInfos in `status`."""
    device = str(router.id)
    found = []
    for interface in router.interfaces:
        network_id = network_of(interface.subnet_id)
        if network_id is not None:
            found.append(PortInfo(interface.port_id, network_id, status, chassis, device))
    gateway = router.external_gateway
    if gateway is not None and gateway.port_id is not None:
        found.append(PortInfo(gateway.port_id, gateway.network_id, status, chassis, device))
    return found


class RouterPortWatch:
    """The `watch_ports(callback, owner)` of drivers whose router ports change only with
    their own ensure/delete_router calls (the fake and dvr drivers), which `tell` it."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[PortInfo], None]] = []

    async def watch_ports(
        self, callback: Callable[[PortInfo], None], owner: str = "port"
    ) -> Callable[[], None]:
        if owner != "router":
            return lambda: None  # VM ports are ACTIVE from ensure_port on these drivers
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def tell(self, infos: list[PortInfo]) -> None:
        for callback in list(self._callbacks):
            for info in infos:
                callback(info)


class NetworkDriver(Protocol):
    async def ensure_network(self, request: EnsureNetwork) -> None: ...

    async def delete_network(self, network_id: UUID) -> bool: ...

    async def ensure_port(self, request: EnsurePort) -> PortInfo: ...

    async def delete_port(self, port_id: UUID) -> bool: ...

    async def ensure_security_group(self, request: EnsureSecurityGroup) -> None: ...

    async def delete_security_group(self, security_group_id: UUID) -> bool: ...

    async def ensure_router(self, request: EnsureRouter) -> None: ...

    async def delete_router(self, router_id: UUID) -> bool: ...

    async def ensure_floating_ip(self, request: EnsureFloatingIp) -> None: ...

    async def delete_floating_ip(self, floating_ip_id: UUID) -> bool: ...

    async def list_ports(self) -> list[PortInfo]: ...
