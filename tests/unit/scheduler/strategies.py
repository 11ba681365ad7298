"""Hypothesis strategies for the scheduler: random hosts (sizes, usage, zones, traits,
aggregates, disabled, NUMA cells, PFs with VFs, GPUs) and random requests for them."""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import strategies as st

from scheduler.host_state import HostState
from schemas.claims import ResourceRequest
from schemas.messages.scheduler import RequestSpec, ServerGroupHint
from schemas.numa import CpuPolicy, NumaRequest
from schemas.pci import PciDevice, PciNumaAffinity, PciRequest
from schemas.placement import NumaCellUsage
from schemas.scheduling import HostFacts
from schemas.server_group import ServerGroupPolicy
from tests.unit.scheduler.builders import host, spec
from tests.unit.scheduler.topology import cells, gpu, pf, vfs

NAMES = [f"h{i:02d}" for i in range(12)]
ZONES = ["az1", "az2"]
POLICIES = list(PciNumaAffinity)


@st.composite
def devices(draw: st.DrawFn) -> list[PciDevice]:
    found: list[PciDevice] = []
    for n in range(draw(st.integers(0, 2))):
        parent = pf(0x3B + n, node=draw(st.sampled_from([0, 1, None])))
        found += [parent, *vfs(parent, draw(st.integers(0, 3)))]
    for n in range(draw(st.integers(0, 2))):
        found.append(gpu(n, node=draw(st.sampled_from([0, 1, None]))))
    return found


@st.composite
def topology(draw: st.DrawFn) -> dict[str, object]:
    """Inventory and usage fields of a host with NUMA cells and/or devices."""
    found = draw(devices())
    numa = (
        cells(2, cpus=4, memory_mb=8192, sockets=draw(st.booleans())) if draw(st.booleans()) else ()
    )
    used = draw(st.sets(st.sampled_from([d.address for d in found]))) if found else set()
    cell_usage = tuple(
        NumaCellUsage(
            cell_id=cell.id,
            pinned_cpus=frozenset(draw(st.sets(st.sampled_from(sorted(cell.cpus))))),
            memory_mb=draw(st.sampled_from([0, 2048, 8192])),
        )
        for cell in numa
    )
    return {
        "inventory": {"pci_devices": tuple(found), "numa_cells": numa},
        "usage": {"pci_devices": frozenset(used), "numa_cells": cell_usage},
    }


@st.composite
def hosts(draw: st.DrawFn) -> list[HostState]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=10))
    result = []
    for name in names:
        vcpus = draw(st.sampled_from([2, 4, 8]))
        memory = draw(st.sampled_from([2048, 4096, 8192]))
        topo = draw(topology()) if draw(st.booleans()) else {"inventory": {}, "usage": {}}
        inventory = dict(topo["inventory"])  # type: ignore[call-overload]
        inventory["traits"] = frozenset(draw(st.sets(st.sampled_from(["CUSTOM_A", "CUSTOM_B"]))))
        aggregates = draw(
            st.dictionaries(
                st.sampled_from(["ssd", "dense"]),
                st.sampled_from(
                    [
                        {"ssd": "true"},
                        {"cpu_allocation_ratio": "2.0"},
                        {"filter_tenant_id": "someone-else"},
                        {},
                    ]
                ),
                max_size=2,
            )
        )
        result.append(
            host(
                name,
                vcpus=vcpus,
                memory_mb=memory,
                disk_gb=100,
                used=(
                    draw(st.integers(0, vcpus)),
                    draw(st.integers(0, memory)),
                    draw(st.integers(0, 100)),
                ),
                inventory=inventory,
                usage={**topo["usage"], "instances": draw(st.integers(0, 2))},  # type: ignore[dict-item]
                facts=HostFacts(
                    aggregate_metadata=aggregates,
                    io_ops=draw(st.integers(0, 3)),
                    failed_builds=draw(st.integers(0, 1)),
                    hypervisor_version=draw(st.sampled_from([None, 7000000, 8002000])),
                    cpu_arch=draw(st.sampled_from([None, "x86_64"])),
                ),
                availability_zone=draw(st.sampled_from(ZONES)),
                disabled=draw(st.booleans()) and draw(st.booleans()),
            )
        )
    return result


@st.composite
def pci_requests(draw: st.DrawFn) -> tuple[PciRequest, ...]:
    options = [
        PciRequest.for_port(uuid4(), "direct", "physnet1", draw(st.sampled_from(POLICIES))),
        PciRequest.for_port(
            uuid4(), "direct-physical", "physnet1", draw(st.sampled_from(POLICIES))
        ),
        PciRequest(
            vendor_id="10de",
            count=draw(st.integers(1, 2)),
            numa_policy=draw(st.sampled_from(POLICIES)),
        ),
        PciRequest(vendor_id="8086", count=draw(st.integers(1, 3))),
    ]
    return tuple(draw(st.lists(st.sampled_from(options), max_size=2)))


@st.composite
def requests(draw: st.DrawFn) -> RequestSpec:
    vcpus = draw(st.sampled_from([1, 2, 4]))
    memory = draw(st.sampled_from([512, 2048, 4096]))
    nodes = draw(st.sampled_from([None, 1, 2]))
    numa = None
    if nodes is not None:
        policy = draw(st.sampled_from(list(CpuPolicy)))
        numa = NumaRequest.split(vcpus * 2, memory * 2, nodes, policy)
        vcpus, memory = vcpus * 2, memory * 2
    resources = ResourceRequest(
        vcpus=vcpus,
        memory_mb=memory,
        disk_gb=draw(st.sampled_from([0, 10, 60])),
        pci=draw(pci_requests()),
        numa=numa,
    )
    group = None
    if draw(st.booleans()):
        group = ServerGroupHint(
            group_id=UUID(int=7),
            policy=draw(st.sampled_from(list(ServerGroupPolicy))),
            member_hosts=tuple(draw(st.lists(st.sampled_from(NAMES), max_size=3))),
        )
    extra = draw(
        st.sampled_from(
            [{}, {"aggregate_instance_extra_specs:ssd": "true"}, {"capabilities:vcpus": ">= 4"}]
        )
    )
    base = spec(
        availability_zone=draw(st.sampled_from([None, *ZONES])),
        required_traits=frozenset(draw(st.sets(st.sampled_from(["CUSTOM_A"])))),
        forbidden_traits=frozenset(draw(st.sets(st.sampled_from(["CUSTOM_B"])))),
        ignore_hosts=frozenset(draw(st.sets(st.sampled_from(NAMES), max_size=2))),
        force_host=draw(st.sampled_from([None, None, None, *NAMES])),
        server_group=group,
        flavor_extra_specs=extra,
        image_properties=draw(
            st.sampled_from(
                [{}, {"hw_architecture": "x86_64"}, {"hypervisor_version_requires": ">=8.0"}]
            )
        ),
    )
    return base.model_copy(update={"resources": resources})
