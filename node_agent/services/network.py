"""Network role handlers: OVN northbound objects through the network driver.

`ensure_port` publishes `network.port.active` only when the driver says the port is ACTIVE
already (the fake: at once; OVN: when its binding is up). Otherwise the fact comes from the
component that sees the binding go up (the compute role's Southbound watcher), so the
conductor waits on a real signal. `sync` hands the database's intent to a driver that can
reconcile (OVN) and replies with what it repaired.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from corebus.envelope import RequestContext
from corebus.service import rpc
from node_agent.drivers.network.base import NetworkDriver
from node_agent.fact_publisher import FactPublisher
from node_agent.failures import driver_call
from schemas.errors import InvalidInput
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
    SyncNetwork,
    SyncNetworkReply,
)
from schemas.messages.facts import PortActive, PortDown
from schemas.network import PortStatus


@runtime_checkable
class Reconciler(Protocol):
    """A network driver that can repair its backend to match the database's intent."""

    async def reconcile(self, intent: SyncNetwork) -> SyncNetworkReply: ...


class NetworkService:
    """The network role's commands on its driver. Without a fact publisher (the compute
    hosts of the dvr backend, which take mirrored commands to build their own part) it
    reports nothing: the network agent reports the ports."""

    def __init__(
        self, name: str, driver: NetworkDriver, facts: FactPublisher | None = None
    ) -> None:
        self.name = name
        self._driver, self._facts = driver, facts

    @rpc
    async def ensure_network(self, ctx: RequestContext, req: EnsureNetwork) -> None:
        await driver_call(self._driver.ensure_network(req))

    @rpc
    async def delete_network(self, ctx: RequestContext, req: DeleteNetwork) -> None:
        await driver_call(self._driver.delete_network(req.network_id))

    @rpc
    async def ensure_port(self, ctx: RequestContext, req: EnsurePort) -> None:
        port = await driver_call(self._driver.ensure_port(req))
        if self._facts is not None and port.status is PortStatus.ACTIVE:
            fact = self._facts.make(PortActive, port.port_id, chassis=port.chassis)
            await self._facts.publish(fact)

    @rpc
    async def delete_port(self, ctx: RequestContext, req: DeletePort) -> None:
        await driver_call(self._driver.delete_port(req.port_id))
        if self._facts is not None:
            await self._facts.publish(self._facts.make(PortDown, req.port_id))

    @rpc
    async def ensure_security_group(self, ctx: RequestContext, req: EnsureSecurityGroup) -> None:
        await driver_call(self._driver.ensure_security_group(req))

    @rpc
    async def delete_security_group(self, ctx: RequestContext, req: DeleteSecurityGroup) -> None:
        await driver_call(self._driver.delete_security_group(req.security_group_id))

    @rpc
    async def ensure_router(self, ctx: RequestContext, req: EnsureRouter) -> None:
        await driver_call(self._driver.ensure_router(req))

    @rpc
    async def delete_router(self, ctx: RequestContext, req: DeleteRouter) -> None:
        await driver_call(self._driver.delete_router(req.router_id))

    @rpc
    async def ensure_floating_ip(self, ctx: RequestContext, req: EnsureFloatingIp) -> None:
        await driver_call(self._driver.ensure_floating_ip(req))

    @rpc
    async def delete_floating_ip(self, ctx: RequestContext, req: DeleteFloatingIp) -> None:
        await driver_call(self._driver.delete_floating_ip(req.floating_ip_id))

    @rpc
    async def sync(self, ctx: RequestContext, req: SyncNetwork) -> SyncNetworkReply:
        if not isinstance(self._driver, Reconciler):
            raise InvalidInput(f"the {type(self._driver).__name__} driver does not reconcile")
        return await driver_call(self._driver.reconcile(req))
