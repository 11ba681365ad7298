"""The network service publishes PortActive only when the driver says the port is ACTIVE,
and hands sync intents to a driver that reconciles."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from corebus.envelope import RequestContext
from node_agent.drivers.network.base import PortInfo
from node_agent.services.network import NetworkService
from schemas.errors import InvalidInput
from schemas.messages.agent_network import Drift, EnsurePort, SyncNetwork, SyncNetworkReply
from schemas.messages.facts import PortActive
from schemas.network import Port, PortStatus

CTX = RequestContext()
PORT = Port(
    id=UUID(int=1), network_id=UUID(int=2), project_id=UUID(int=3), mac_address="fa:16:3e:00:00:01"
)


class Facts:
    def __init__(self) -> None:
        self.published: list[Any] = []

    def make(self, model: type[Any], resource_id: UUID, **fields: Any) -> Any:
        return (model, resource_id, fields)

    async def publish(self, fact: Any) -> None:
        self.published.append(fact)


class Driver:
    def __init__(self, status: PortStatus) -> None:
        self.status = status

    async def ensure_port(self, request: EnsurePort) -> PortInfo:
        return PortInfo(
            port_id=request.port.id,
            network_id=request.port.network_id,
            status=self.status,
            chassis=request.requested_chassis,
        )


class ReconcilingDriver(Driver):
    async def reconcile(self, intent: SyncNetwork) -> SyncNetworkReply:
        drift = tuple(
            Drift(kind="port", action="created", resource_id=str(p.port.id)) for p in intent.ports
        )
        return SyncNetworkReply(drift=drift)


def service(driver: Driver) -> tuple[NetworkService, Facts]:
    facts = Facts()
    return NetworkService("network", driver, facts), facts  # type: ignore[arg-type]


async def test_an_active_port_is_reported_at_once() -> None:
    svc, facts = service(Driver(PortStatus.ACTIVE))
    await svc.ensure_port(CTX, EnsurePort(port=PORT, requested_chassis="cmp1"))
    assert facts.published == [(PortActive, PORT.id, {"chassis": "cmp1"})]


async def test_a_port_not_bound_yet_is_not_reported_active() -> None:
    svc, facts = service(Driver(PortStatus.DOWN))
    await svc.ensure_port(CTX, EnsurePort(port=PORT, requested_chassis="cmp1"))
    assert facts.published == []


async def test_sync_goes_to_a_reconciling_driver() -> None:
    svc, _ = service(ReconcilingDriver(PortStatus.DOWN))
    reply = await svc.sync(CTX, SyncNetwork(ports=(EnsurePort(port=PORT),)))
    assert reply.count("port", "created") == 1


async def test_sync_on_a_driver_that_cannot_reconcile_is_refused() -> None:
    svc, _ = service(Driver(PortStatus.ACTIVE))
    with pytest.raises(InvalidInput):
        await svc.sync(CTX, SyncNetwork())
