"""Network role handlers: OVN northbound objects through the network driver."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from corebus.envelope import RequestContext
from corebus.service import rpc
from node_agent.drivers.errors import DriverError
from node_agent.drivers.network.base import NetworkDriver
from node_agent.fact_publisher import FactPublisher
from node_agent.failures import wire_error
from schemas.messages.agent_network import (
    DeleteFloatingIp,
    DeleteNetwork,
    DeletePort,
    DeleteRouter,
    DeleteSecurityGroup,
    EnsureFloatingIp,
    EnsureNetwork,
    EnsurePort,
    EnsureRouter,
    EnsureSecurityGroup,
)
from schemas.messages.facts import PortActive, PortDown

T = TypeVar("T")


async def _run(work: Awaitable[T]) -> T:
    try:
        return await work
    except DriverError as exc:
        raise wire_error(exc) from None


class NetworkService:
    def __init__(self, name: str, driver: NetworkDriver, facts: FactPublisher) -> None:
        self.name = name
        self._driver, self._facts = driver, facts

    @rpc
    async def ensure_network(self, ctx: RequestContext, req: EnsureNetwork) -> None:
        await _run(self._driver.ensure_network(req))

    @rpc
    async def delete_network(self, ctx: RequestContext, req: DeleteNetwork) -> None:
        await _run(self._driver.delete_network(req.network_id))

    @rpc
    async def ensure_port(self, ctx: RequestContext, req: EnsurePort) -> None:
        port = await _run(self._driver.ensure_port(req))
        await self._facts.publish(self._facts.make(PortActive, port.port_id, chassis=port.chassis))

    @rpc
    async def delete_port(self, ctx: RequestContext, req: DeletePort) -> None:
        await _run(self._driver.delete_port(req.port_id))
        await self._facts.publish(self._facts.make(PortDown, req.port_id))

    @rpc
    async def ensure_security_group(self, ctx: RequestContext, req: EnsureSecurityGroup) -> None:
        await _run(self._driver.ensure_security_group(req))

    @rpc
    async def delete_security_group(self, ctx: RequestContext, req: DeleteSecurityGroup) -> None:
        await _run(self._driver.delete_security_group(req.security_group_id))

    @rpc
    async def ensure_router(self, ctx: RequestContext, req: EnsureRouter) -> None:
        await _run(self._driver.ensure_router(req))

    @rpc
    async def delete_router(self, ctx: RequestContext, req: DeleteRouter) -> None:
        await _run(self._driver.delete_router(req.router_id))

    @rpc
    async def ensure_floating_ip(self, ctx: RequestContext, req: EnsureFloatingIp) -> None:
        await _run(self._driver.ensure_floating_ip(req))

    @rpc
    async def delete_floating_ip(self, ctx: RequestContext, req: DeleteFloatingIp) -> None:
        await _run(self._driver.delete_floating_ip(req.floating_ip_id))
