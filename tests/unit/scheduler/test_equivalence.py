"""The indexed pipeline and the fast topology answers against their references
(hypothesis): for random host sets and requests, `select` (batch forms over the index)
keeps exactly the hosts `run` (per-host forms, a linear scan) keeps, removes as many per
filter and ranks them the same; `PciFree.can_take` answers as `PciPool.take_all` and
`topology_feasible` as `schemas.fit.fit`."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.filter_options import FilterOptions
from scheduler.host_index import HostIndex
from scheduler.host_state import HostState
from scheduler.pipeline import Pipeline
from scheduler.registry import DEFAULT_WEIGHERS, FILTERS, build_filters, build_weighers
from schemas.claims import ResourceRequest
from schemas.fit import fit
from schemas.messages.scheduler import RequestSpec
from schemas.numa_fit import topology_feasible
from tests.unit.scheduler.builders import host
from tests.unit.scheduler.strategies import hosts, pci_requests, requests, topology

OPTIONS = FilterOptions(max_io_ops_per_host=2, max_instances_per_host=1)
PIPELINE = Pipeline(build_filters(FILTERS, OPTIONS), build_weighers(DEFAULT_WEIGHERS))
SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(hosts(), requests())
def test_the_index_keeps_exactly_the_hosts_a_linear_scan_keeps(
    states: list[HostState], request: RequestSpec
) -> None:
    linear = PIPELINE.run(sorted(states, key=lambda s: s.name), request)
    indexed = PIPELINE.select(HostIndex(states), request)

    assert [r.host.name for r in indexed.ranked] == [r.host.name for r in linear.ranked]
    assert indexed.removed == linear.removed
    assert indexed.last_filter == linear.last_filter
    for batch, one in zip(indexed.ranked, linear.ranked, strict=True):
        assert batch.contributions == one.contributions
    for name, why in indexed.excluded.items():
        assert linear.excluded[name] == why


@SLOW
@given(
    topology(),
    pci_requests(),
    st.sampled_from([None, frozenset({0}), frozenset({1}), frozenset({0, 1})]),
    st.booleans(),
)
def test_pci_free_answers_as_the_pool_takes(
    fields: dict[str, dict[str, object]], pci: tuple, cells: frozenset[int] | None, relax: bool
) -> None:
    state = host(inventory=fields["inventory"], usage=fields["usage"])
    if cells is not None and not state.inventory.numa_cells:
        cells = None
    expected = not isinstance(state.pci_pool.take_all(pci, cells, relax), str)
    assert state.pci_free.can_take(pci, cells, relax) is expected


@SLOW
@given(topology(), requests())
def test_topology_feasible_answers_as_fit(
    fields: dict[str, dict[str, object]], request: RequestSpec
) -> None:
    state = host(vcpus=64, memory_mb=65536, inventory=fields["inventory"], usage=fields["usage"])
    numa = request.resources.numa
    if numa is None or not state.inventory.numa_cells:
        return
    # amounts are the resources filter's concern: ask for the topology only
    wanted = ResourceRequest(
        vcpus=numa.vcpus, memory_mb=numa.memory_mb, pci=request.resources.pci, numa=numa
    )
    expected = bool(fit(state.inventory, state.usage, wanted))
    feasible = topology_feasible(state.free_cells, numa, wanted.pci, state.pci_free)
    assert feasible is expected
