"""The agent's full snapshot: everything it really has, from every driver it runs.

Every entry carries the same `seq`, taken before anything is read: a fact observed
while the snapshot was being taken gets a larger seq and so wins over the entry.
A section whose driver failed is named in `failed_sections`, never reported as empty.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from node_agent.drivers.hypervisor.base import DomainInfo
from node_agent.drivers.hypervisor.domain_xml import tap_name
from node_agent.drivers.registry import Drivers
from node_agent.fact_publisher import FactPublisher
from schemas.messages.host_facts import (
    AgentSnapshot,
    AttachmentState,
    DomainState,
    PortState,
    VolumeState,
)
from schemas.network import PortStatus
from schemas.placement import HostRole

log = logging.getLogger(__name__)
T = TypeVar("T")


async def take_snapshot(
    facts: FactPublisher, host_id: UUID, roles: frozenset[HostRole], drivers: Drivers
) -> AgentSnapshot:
    seq = facts.clock.next()
    failed: set[str] = set()

    async def read(section: str, fn: Callable[[], Awaitable[list[T]]] | None) -> list[T]:
        if fn is None:
            return []
        try:
            return list(await fn())
        except Exception:
            log.exception("snapshot: reading %s failed", section)
            failed.add(section)
            return []

    hv, net = drivers.hypervisor, drivers.network
    domains = await read("domains", hv.list_domains if hv else None)
    logical_ports = await read("ports", net.list_ports if net else None)
    volumes = await read("volumes", drivers.storage.list_volumes if drivers.storage else None)
    namespaces = await read("namespaces", drivers.dvr.list_namespaces if drivers.dvr else None)
    pci_devices = await read("pci_devices", _listing(drivers.pci.discover) if drivers.pci else None)
    if "domains" in failed:
        failed.add("attachments")
    ports = {p.port_id: p for p in _taps(domains, seq)}
    for port in logical_ports:
        tap = ports.get(port.port_id)
        ports[port.port_id] = PortState(
            port_id=port.port_id,
            status=port.status,
            seq=seq,
            device=tap.device if tap else None,
            instance_id=tap.instance_id if tap else None,
        )
    return facts.make(
        AgentSnapshot,
        host_id,
        seq=seq,
        roles=roles,
        domains=tuple(
            DomainState(instance_id=d.instance_id, power_state=d.power_state, seq=seq, name=d.name)
            for d in domains
        ),
        ports=tuple(ports[key] for key in sorted(ports, key=str)),
        volumes=tuple(
            VolumeState(volume_id=v.volume_id, size_gb=v.size_gb, seq=seq) for v in volumes
        ),
        attachments=tuple(
            AttachmentState(
                instance_id=d.instance_id, volume_id=v.volume_id, device=v.device, seq=seq
            )
            for d in domains
            for v in d.volumes
        ),
        pci_devices=tuple(pci_devices),
        namespaces=tuple(namespaces),
        failed_sections=frozenset(failed),
    )


def _listing(fn: Callable[[], Awaitable[tuple[T, ...]]]) -> Callable[[], Awaitable[list[T]]]:
    async def listed() -> list[T]:
        return list(await fn())

    return listed


def _taps(domains: list[DomainInfo], seq: int) -> list[PortState]:
    """The compute side of each port: its tap, plugged into a domain."""
    return [
        PortState(
            port_id=port_id,
            status=PortStatus.ACTIVE,
            seq=seq,
            device=tap_name(port_id),
            instance_id=domain.instance_id,
        )
        for domain in domains
        for port_id in domain.port_ids
    ]
