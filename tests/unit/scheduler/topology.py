"""Hosts with NUMA cells and PCI devices, and requests for them, for the scheduler's
topology tests."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from scheduler.host_state import HostState
from schemas.claims import ResourceRequest
from schemas.messages.scheduler import RequestSpec
from schemas.numa import CpuPolicy, NumaCell, NumaRequest
from schemas.pci import PciDevice, PciDeviceType, PciNumaAffinity, PciRequest
from schemas.placement import NumaCellUsage
from tests.unit.scheduler.builders import host, spec


def pf(n: int, node: int | None = 0, network: str = "physnet1") -> PciDevice:
    return PciDevice(
        address=f"0000:{n:02x}:00.0",
        vendor_id="8086",
        product_id="1572",
        dev_type=PciDeviceType.PF,
        physical_network=network,
        numa_node=node,
    )


def vfs(parent: PciDevice, count: int) -> list[PciDevice]:
    bus = parent.address.split(":")[1]
    return [
        PciDevice(
            address=f"0000:{bus}:02.{i}",
            vendor_id="8086",
            product_id="154c",
            dev_type=PciDeviceType.VF,
            parent_addr=parent.address,
            physical_network=parent.physical_network,
            numa_node=parent.numa_node,
        )
        for i in range(count)
    ]


def gpu(n: int, node: int | None = 0) -> PciDevice:
    return PciDevice(
        address=f"0000:{0x80 + n:02x}:00.0", vendor_id="10de", product_id="1eb8", numa_node=node
    )


def cells(
    count: int = 2, cpus: int = 4, memory_mb: int = 8192, sockets: bool = False
) -> tuple[NumaCell, ...]:
    return tuple(
        NumaCell(
            id=i,
            socket=(0 if sockets else i),
            cpus=frozenset(range(i * cpus, (i + 1) * cpus)),
            memory_mb=memory_mb,
        )
        for i in range(count)
    )


def topo_host(
    name: str = "cmp1",
    *,
    devices: list[PciDevice] | tuple[PciDevice, ...] = (),
    numa: tuple[NumaCell, ...] = (),
    pci_used: frozenset[str] = frozenset(),
    cells_used: tuple[NumaCellUsage, ...] = (),
    **fields: Any,
) -> HostState:
    return host(
        name,
        vcpus=32,
        memory_mb=65536,
        inventory={"pci_devices": tuple(devices), "numa_cells": numa},
        usage={"pci_devices": pci_used, "numa_cells": cells_used},
        **fields,
    )


def port(vnic: str = "direct", policy: PciNumaAffinity = PciNumaAffinity.LEGACY) -> PciRequest:
    return PciRequest.for_port(uuid4(), vnic, "physnet1", policy)


def topo_spec(
    vcpus: int = 2,
    memory_mb: int = 2048,
    *,
    pci: tuple[PciRequest, ...] = (),
    nodes: int | None = None,
    dedicated: bool = True,
) -> RequestSpec:
    numa = None
    if nodes is not None:
        policy = CpuPolicy.DEDICATED if dedicated else CpuPolicy.SHARED
        numa = NumaRequest.split(vcpus, memory_mb, nodes, policy)
    base = spec(vcpus, memory_mb, 1)
    resources = ResourceRequest(vcpus=vcpus, memory_mb=memory_mb, disk_gb=1, pci=pci, numa=numa)
    return base.model_copy(update={"resources": resources})
