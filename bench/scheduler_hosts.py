"""Synthetic host sets and requests for `skymesh bench scheduler`: mixed host sizes, 2%
disabled, three zones, a few aggregates (one overriding the CPU ratio), some hosts with
two NUMA cells, SR-IOV PFs with VFs and a GPU; requests of mixed flavors, some pinned,
some with PCI devices or SR-IOV ports."""

from __future__ import annotations

import random
from uuid import UUID, uuid4

from scheduler.host_state import HostState
from schemas.claims import ResourceRequest
from schemas.messages.scheduler import RequestSpec, ServerGroupHint
from schemas.numa import CpuPolicy, NumaCell, NumaRequest
from schemas.pci import PciDevice, PciDeviceType, PciNumaAffinity, PciRequest
from schemas.placement import Host, HostInventory, HostUsage
from schemas.scheduling import HostFacts
from schemas.server_group import ServerGroupPolicy

SIZES = ((16, 65536, 500), (32, 131072, 1000), (64, 262144, 2000), (96, 393216, 4000))
ZONES = ("az1", "az2", "az3")
AGGREGATES = {
    "ssd": {"ssd": "true"},
    "dense": {"cpu_allocation_ratio": "8.0"},
    "gpu": {"gpu": "true"},
}
TOPOLOGY_SHARE = 0.15  # hosts with NUMA cells and PCI devices
PROJECT, FLAVOR = UUID(int=1), UUID(int=2)


def _devices(rng: random.Random) -> tuple[PciDevice, ...]:
    devices = []
    for pf in range(2):
        pf_addr = f"0000:{0x3B + pf:02x}:00.0"
        devices.append(
            PciDevice(
                address=pf_addr,
                vendor_id="8086",
                product_id="1572",
                dev_type=PciDeviceType.PF,
                physical_network="physnet1",
                numa_node=pf,
            )
        )
        for vf in range(8):
            devices.append(
                PciDevice(
                    address=f"0000:{0x3B + pf:02x}:02.{vf}",
                    vendor_id="8086",
                    product_id="154c",
                    dev_type=PciDeviceType.VF,
                    parent_addr=pf_addr,
                    physical_network="physnet1",
                    numa_node=pf,
                )
            )
    if rng.random() < 0.5:
        devices.append(
            PciDevice(address="0000:af:00.0", vendor_id="10de", product_id="1eb8", numa_node=1)
        )
    return tuple(devices)


def _cells(vcpus: int, memory_mb: int) -> tuple[NumaCell, ...]:
    half = vcpus // 2
    dedicated = half // 2  # half of each cell's CPUs may be pinned
    return tuple(
        NumaCell(
            id=cell,
            socket=cell,
            cpus=frozenset(range(cell * half, cell * half + dedicated)),
            memory_mb=memory_mb // 2,
        )
        for cell in range(2)
    )


def host(n: int, rng: random.Random) -> HostState:
    vcpus, memory_mb, disk_gb = rng.choice(SIZES)
    topology = rng.random() < TOPOLOGY_SHARE
    aggregates = {name: meta for name, meta in AGGREGATES.items() if rng.random() < 0.2}
    inventory = HostInventory(
        vcpus=vcpus,
        memory_mb=memory_mb,
        disk_gb=disk_gb,
        reserved_vcpus=1,
        reserved_memory_mb=2048,
        numa_cells=_cells(vcpus, memory_mb) if topology else (),
        pci_devices=_devices(rng) if topology else (),
        traits=frozenset({"HW_ARCH_X86_64", "COMPUTE_STATUS_ENABLED"}),
    )
    used = rng.random() * 0.7
    usage = HostUsage(
        vcpus=int(vcpus * 4 * used),
        memory_mb=int(memory_mb * used),
        disk_gb=int(disk_gb * used),
        instances=int(vcpus * used),
    )
    h = Host(
        id=uuid4(),
        name=f"cmp{n:05d}",
        availability_zone=ZONES[n % len(ZONES)],
        aggregates=frozenset(aggregates),
        disabled=rng.random() < 0.02,
        inventory=inventory,
    )
    facts = HostFacts(
        aggregate_metadata=aggregates,
        hypervisor_version=8002000,
        io_ops=rng.choice((0, 0, 0, 1, 2)),
        failed_builds=1 if rng.random() < 0.01 else 0,
    )
    return HostState(h, usage, facts)


def hosts(count: int, seed: int = 0) -> list[HostState]:
    rng = random.Random(seed)
    return [host(n, rng) for n in range(count)]


def _spec(resources: ResourceRequest, rng: random.Random, **fields: object) -> RequestSpec:
    if rng.random() < 0.3:
        fields.setdefault("availability_zone", rng.choice(ZONES))
    if rng.random() < 0.2:
        fields["image_properties"] = {"hw_architecture": "x86_64"}
    if rng.random() < 0.1:
        fields["server_group"] = ServerGroupHint(
            group_id=uuid4(),
            policy=rng.choice(list(ServerGroupPolicy)),
            member_hosts=tuple(f"cmp{rng.randrange(100):05d}" for _ in range(3)),
        )
    return RequestSpec(
        instance_ids=(uuid4(),),
        project_id=PROJECT,
        flavor_id=FLAVOR,
        resources=resources,
        **fields,
    )


def plain(rng: random.Random) -> RequestSpec:
    vcpus = rng.choice((1, 2, 4, 8))
    return _spec(
        ResourceRequest(vcpus=vcpus, memory_mb=vcpus * 2048, disk_gb=vcpus * 10),
        rng,
        flavor_extra_specs={"aggregate_instance_extra_specs:ssd": "true"}
        if rng.random() < 0.1
        else {},
    )


def topology(rng: random.Random) -> RequestSpec:
    """A pinned guest (one or two cells), an SR-IOV port, or both, or a GPU."""
    kind = rng.randrange(4)
    vcpus = rng.choice((2, 4))
    numa = None
    if kind in (0, 2):
        nodes = rng.choice((1, 2))
        numa = NumaRequest.split(vcpus, vcpus * 2048, nodes, CpuPolicy.DEDICATED)
    pci: tuple[PciRequest, ...] = ()
    if kind in (1, 2):
        pci = (PciRequest.for_port(uuid4(), "direct", "physnet1", PciNumaAffinity.PREFERRED),)
    if kind == 3:
        pci = (PciRequest(vendor_id="10de", product_id="1eb8"),)
    resources = ResourceRequest(vcpus=vcpus, memory_mb=vcpus * 2048, disk_gb=20, pci=pci, numa=numa)
    return _spec(resources, rng)


def requests(count: int, profile: str, seed: int = 1) -> list[RequestSpec]:
    """`default`: plain flavors; `numa_pci`: half plain, half with NUMA or PCI."""
    rng = random.Random(seed)
    if profile == "default":
        return [plain(rng) for _ in range(count)]
    return [topology(rng) if i % 2 else plain(rng) for i in range(count)]
