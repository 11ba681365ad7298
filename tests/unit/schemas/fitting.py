"""Builders for fit tests: hosts with NUMA cells, PFs with VFs, GPUs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.claims import ResourceRequest
from schemas.numa import CpuPolicy, NumaCell, NumaCellRequest, NumaRequest
from schemas.pci import PciDevice, PciDeviceType, PciNumaAffinity, PciRequest
from schemas.placement import HostInventory, HostUsage, NumaCellUsage


def host(**fields: Any) -> HostInventory:
    base: dict[str, Any] = {
        "vcpus": 16,
        "memory_mb": 32768,
        "disk_gb": 500,
        "cpu_allocation_ratio": 1.0,
    }
    return HostInventory(**{**base, **fields})


def cells(
    count: int = 2, cpus: int = 4, memory_mb: int = 8192, sockets: tuple[int, ...] | None = None
) -> tuple[NumaCell, ...]:
    return tuple(
        NumaCell(
            id=i,
            socket=sockets[i] if sockets else 0,
            cpus=frozenset(range(i * cpus, (i + 1) * cpus)),
            memory_mb=memory_mb,
        )
        for i in range(count)
    )


def gpu(n: int, numa: int | None = None, product: str = "1db4", **fields: Any) -> PciDevice:
    return PciDevice(
        address=f"0000:{0x80 + n:02x}:00.0",
        vendor_id="10de",
        product_id=product,
        numa_node=numa,
        **fields,
    )


def pf(n: int, physnet: str = "physnet1", numa: int | None = None) -> PciDevice:
    return PciDevice(
        address=f"0000:{0x3B + n:02x}:00.0",
        vendor_id="8086",
        product_id="1572",
        dev_type=PciDeviceType.PF,
        physical_network=physnet,
        numa_node=numa,
    )


def vf(
    n: int, index: int, physnet: str = "physnet1", numa: int | None = None, **fields: Any
) -> PciDevice:
    return PciDevice(
        address=f"0000:{0x3B + n:02x}:02.{index}",
        vendor_id="8086",
        product_id="154c",
        dev_type=PciDeviceType.VF,
        parent_addr=f"0000:{0x3B + n:02x}:00.0",
        physical_network=physnet,
        numa_node=numa,
        **fields,
    )


def sriov(
    pfs: int = 2,
    vfs: int = 2,
    physnet: str = "physnet1",
    numa: tuple[int | None, ...] | None = None,
) -> tuple[PciDevice, ...]:
    devices = []
    for n in range(pfs):
        node = numa[n] if numa else None
        devices.append(pf(n, physnet, node))
        devices.extend(vf(n, i, physnet, node) for i in range(vfs))
    return tuple(devices)


def want(vcpus: int = 1, memory_mb: int = 512, disk_gb: int = 0, **fields: Any) -> ResourceRequest:
    return ResourceRequest(vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb, **fields)


def numa(*guest: tuple[int, int], dedicated: bool = True) -> NumaRequest:
    policy = CpuPolicy.DEDICATED if dedicated else CpuPolicy.SHARED
    return NumaRequest(
        cells=tuple(NumaCellRequest(cpus=c, memory_mb=m) for c, m in guest), cpu_policy=policy
    )


def numa_want(
    *guest: tuple[int, int], dedicated: bool = True, pci: tuple[PciRequest, ...] = ()
) -> ResourceRequest:
    topology = numa(*guest, dedicated=dedicated)
    return ResourceRequest(
        vcpus=topology.vcpus, memory_mb=topology.memory_mb, numa=topology, pci=pci
    )


def vf_request(
    physnet: str = "physnet1", count: int = 1, policy: PciNumaAffinity = PciNumaAffinity.LEGACY
) -> PciRequest:
    return PciRequest(
        count=count, dev_type=PciDeviceType.VF, physical_network=physnet, numa_policy=policy
    )


def pf_request(physnet: str = "physnet1") -> PciRequest:
    return PciRequest(dev_type=PciDeviceType.PF, physical_network=physnet)


def gpu_request(
    count: int = 1, policy: PciNumaAffinity = PciNumaAffinity.LEGACY, product: str | None = "1db4"
) -> PciRequest:
    return PciRequest(count=count, vendor_id="10de", product_id=product, numa_policy=policy)


def used(
    *addresses: str,
    pinned: dict[int, set[int]] | None = None,
    cell_memory: dict[int, int] | None = None,
    **amounts: int,
) -> HostUsage:
    cell_ids = set(pinned or {}) | set(cell_memory or {})
    numa_cells = tuple(
        NumaCellUsage(
            cell_id=i,
            pinned_cpus=frozenset((pinned or {}).get(i, set())),
            memory_mb=(cell_memory or {}).get(i, 0),
        )
        for i in sorted(cell_ids)
    )
    return HostUsage(pci_devices=frozenset(addresses), numa_cells=numa_cells, **amounts)


REQ, PREF, LEG, SOCK = (
    PciNumaAffinity.REQUIRED,
    PciNumaAffinity.PREFERRED,
    PciNumaAffinity.LEGACY,
    PciNumaAffinity.SOCKET,
)
PF0, PF1 = "0000:3b:00.0", "0000:3c:00.0"
VF00, VF01, VF10, VF11 = "0000:3b:02.0", "0000:3b:02.1", "0000:3c:02.0", "0000:3c:02.1"
GPU0, GPU1, GPU2 = "0000:80:00.0", "0000:81:00.0", "0000:82:00.0"


@dataclass
class Case:
    id: str
    inventory: HostInventory
    usage: HostUsage
    request: ResourceRequest
    refused: str | None = None  # the refusing resource
    reason: str = ""  # a part of the reason
    pci: tuple[str, ...] | None = None  # addresses claimed, in request order
    cells: tuple[tuple[int, frozenset[int]], ...] | None = None  # (host cell, pinned cpus)


TWO_CELLS = cells(2, cpus=4, memory_mb=8192)
