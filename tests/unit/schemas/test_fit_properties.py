"""Property tests of schemas.fit: claims stay within capacity and add/subtract invert."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.claims import Claim, ResourceRequest
from schemas.fit import add_claim, capacity, fit, subtract_claim
from schemas.numa import CpuPolicy, NumaCell, NumaCellRequest, NumaRequest
from schemas.pci import PciDevice, PciDeviceStatus, PciDeviceType, PciNumaAffinity, PciRequest
from schemas.placement import HostInventory, HostUsage
from tests.unit.schemas.fitting import gpu, pf, vf

RATIOS = st.sampled_from([0.5, 1.0, 1.1, 1.5, 2.0, 4.0, 16.0])
STATUSES = st.sampled_from([PciDeviceStatus.AVAILABLE] * 5 + [PciDeviceStatus.UNAVAILABLE])


@st.composite
def numa_cells(draw: st.DrawFn) -> tuple[NumaCell, ...]:
    count = draw(st.integers(0, 3))
    per_cell = draw(st.integers(1, 6))
    return tuple(
        NumaCell(
            id=i,
            socket=draw(st.integers(0, 1)),
            cpus=frozenset(range(i * per_cell, (i + 1) * per_cell)),
            memory_mb=draw(st.integers(0, 16384)),
        )
        for i in range(count)
    )


@st.composite
def devices(draw: st.DrawFn, cell_ids: list[int]) -> tuple[PciDevice, ...]:
    node = st.sampled_from([None, *cell_ids])
    found: list[PciDevice] = []
    for n in range(draw(st.integers(0, 2))):
        where, physnet = draw(node), draw(st.sampled_from(["physnet1", "physnet2"]))
        found.append(pf(n, physnet, where))
        found.extend(
            vf(n, i, physnet, where, status=draw(STATUSES)) for i in range(draw(st.integers(0, 3)))
        )
    found.extend(gpu(n, draw(node), status=draw(STATUSES)) for n in range(draw(st.integers(0, 3))))
    return tuple(found)


@st.composite
def inventories(draw: st.DrawFn) -> HostInventory:
    vcpus, memory, disk = (
        draw(st.integers(0, 64)),
        draw(st.integers(0, 131072)),
        draw(st.integers(0, 2000)),
    )
    cells = draw(numa_cells())
    return HostInventory(
        vcpus=vcpus,
        memory_mb=memory,
        disk_gb=disk,
        reserved_vcpus=draw(st.integers(0, vcpus // 4)),
        reserved_memory_mb=draw(st.integers(0, memory // 4)),
        reserved_disk_gb=draw(st.integers(0, disk // 4)),
        cpu_allocation_ratio=draw(RATIOS),
        ram_allocation_ratio=draw(RATIOS),
        disk_allocation_ratio=draw(RATIOS),
        numa_cells=cells,
        pci_devices=draw(devices([cell.id for cell in cells])),
    )


@st.composite
def pci_requests(draw: st.DrawFn) -> tuple[PciRequest, ...]:
    policy = st.sampled_from(list(PciNumaAffinity))
    choices = [
        PciRequest(count=draw(st.integers(1, 2)), vendor_id="10de", numa_policy=draw(policy)),
        PciRequest(
            dev_type=PciDeviceType.VF, physical_network="physnet1", numa_policy=draw(policy)
        ),
        PciRequest(dev_type=PciDeviceType.PF, physical_network="physnet1"),
    ]
    return tuple(draw(st.lists(st.sampled_from(choices), max_size=2)))


@st.composite
def requests(draw: st.DrawFn) -> ResourceRequest:
    topology = None
    if draw(st.booleans()):
        cells = tuple(
            NumaCellRequest(cpus=draw(st.integers(1, 4)), memory_mb=draw(st.integers(1, 2048)))
            for _ in range(draw(st.integers(1, 2)))
        )
        topology = NumaRequest(cells=cells, cpu_policy=draw(st.sampled_from(list(CpuPolicy))))
        vcpus, memory = topology.vcpus, topology.memory_mb
    else:
        vcpus, memory = draw(st.integers(0, 8)), draw(st.integers(0, 8192))
    return ResourceRequest(
        vcpus=vcpus,
        memory_mb=memory,
        disk_gb=draw(st.integers(0, 100)),
        pci=draw(pci_requests()),
        numa=topology,
    )


@st.composite
def hosts_in_use(draw: st.DrawFn) -> tuple[HostInventory, HostUsage, list[Claim]]:
    """A host and a usage reached by taking the claims of requests that fitted."""
    inventory = draw(inventories())
    usage, claims = HostUsage(), []
    for request in draw(st.lists(requests(), max_size=6)):
        claim = fit(inventory, usage, request).claim
        if claim is not None:
            usage = add_claim(usage, claim)
            claims.append(claim)
    return inventory, usage, claims


def _within_capacity(inventory: HostInventory, usage: HostUsage) -> None:
    cap = capacity(inventory)
    assert usage.vcpus <= max(cap.vcpus, 0)
    assert usage.memory_mb <= max(cap.memory_mb, 0)
    assert usage.disk_gb <= max(cap.disk_gb, 0)
    cells = {cell.id: cell for cell in inventory.numa_cells}
    for used in usage.numa_cells:
        assert used.pinned_cpus <= cells[used.cell_id].cpus
        assert used.memory_mb <= cells[used.cell_id].memory_mb
    by_address = {device.address: device for device in inventory.pci_devices}
    for address in usage.pci_devices:
        device = by_address[address]
        assert device.status is PciDeviceStatus.AVAILABLE
        assert device.parent_addr not in usage.pci_devices  # never a VF and its PF


@settings(max_examples=300, deadline=None)
@given(hosts_in_use(), requests())
def test_a_claim_never_drives_usage_above_capacity(
    host: tuple[HostInventory, HostUsage, list[Claim]],
    request: ResourceRequest,
) -> None:
    inventory, usage, _ = host
    _within_capacity(inventory, usage)
    result = fit(inventory, usage, request)
    if not result:
        assert result.resource in {"vcpus", "memory_mb", "disk_gb", "pci", "numa"}
        assert result.reason.startswith(result.resource.split("_")[0])
        return
    claim = result.claim
    assert claim is not None
    _within_capacity(inventory, add_claim(usage, claim))
    assert claim.memory_mb == request.memory_mb and claim.disk_gb == request.disk_gb
    assert len(claim.pci_devices) == sum(pci.count for pci in request.pci)
    by_address = {device.address: device for device in inventory.pci_devices}
    for taken in claim.pci_devices:
        assert request.pci[taken.request_index].matches(by_address[taken.address])
    if request.numa is not None:
        assert len(claim.numa_cells) == len(request.numa.cells)
        for part in claim.numa_cells:
            pinned = len(part.pinned_cpus)
            dedicated = request.numa.cpu_policy is CpuPolicy.DEDICATED
            assert pinned == (request.numa.cells[part.guest_cell].cpus if dedicated else 0)


@settings(max_examples=300, deadline=None)
@given(hosts_in_use(), requests())
def test_add_then_subtract_restores_usage(
    host: tuple[HostInventory, HostUsage, list[Claim]],
    request: ResourceRequest,
) -> None:
    inventory, usage, claims = host
    claim = fit(inventory, usage, request).claim
    if claim is not None:
        assert subtract_claim(add_claim(usage, claim), claim) == usage
    released = usage
    for taken in reversed(claims):  # releasing every claim, in any order, empties the host
        released = subtract_claim(released, taken)
    assert released == HostUsage()


@settings(max_examples=100, deadline=None)
@given(hosts_in_use(), requests())
def test_fit_is_deterministic(
    host: tuple[HostInventory, HostUsage, list[Claim]],
    request: ResourceRequest,
) -> None:
    inventory, usage, _ = host
    first, second = fit(inventory, usage, request), fit(inventory, usage, request)
    assert first.claim == second.claim and first.reason == second.reason
