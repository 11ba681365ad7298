"""The network role's driver: OVN northbound objects. Every method is idempotent:
`ensure_*` creates or updates to exactly the given state, `delete_*` returns False when
there was nothing to delete."""

from __future__ import annotations

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


@dataclass(frozen=True)
class PortInfo:
    port_id: UUID
    network_id: UUID
    status: PortStatus
    chassis: str | None = None
    device_id: str = ""


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
