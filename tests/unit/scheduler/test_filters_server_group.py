"""Hard server-group filters, table-driven through both forms, and a multi-instance plan
that honours anti-affinity among its own instances."""

from __future__ import annotations

from uuid import UUID

import pytest

from scheduler.filters import Filter
from scheduler.filters.server_group_affinity import ServerGroupAffinityFilter
from scheduler.filters.server_group_anti_affinity import ServerGroupAntiAffinityFilter
from scheduler.host_index import HostIndex
from scheduler.host_state import HostState
from scheduler.pipeline import Pipeline
from scheduler.planner import plan_instances
from scheduler.registry import build_filters, build_weighers
from schemas.errors import NoValidHost
from schemas.messages.scheduler import RequestSpec, ServerGroupHint
from schemas.server_group import ServerGroupPolicy, ServerGroupRules
from tests.unit.scheduler.builders import host, judge, spec

AFFINITY, ANTI = ServerGroupAffinityFilter(), ServerGroupAntiAffinityFilter()
GROUP = UUID(int=60)


def grouped(
    policy: str, *members: str, limit: int | None = None, instances: int = 1
) -> RequestSpec:
    rules = ServerGroupRules(max_server_per_host=limit)
    hint = ServerGroupHint(
        group_id=GROUP, policy=ServerGroupPolicy(policy), rules=rules, member_hosts=members
    )
    return spec(server_group=hint, instances=instances)


CASES: list[tuple[str, Filter, HostState, RequestSpec, str | None]] = [
    ("affinity, no member yet", AFFINITY, host("a"), grouped("affinity"), None),
    ("affinity, member here", AFFINITY, host("a"), grouped("affinity", "a"), None),
    ("affinity, member elsewhere", AFFINITY, host("a"), grouped("affinity", "b"), "is on b"),
    ("affinity ignores soft policies", AFFINITY, host("a"), grouped("soft-affinity", "b"), None),
    ("anti-affinity, member elsewhere", ANTI, host("a"), grouped("anti-affinity", "b"), None),
    (
        "anti-affinity, member here",
        ANTI,
        host("a"),
        grouped("anti-affinity", "a"),
        "holds 1 member(s)",
    ),
    (
        "max_server_per_host 2, one here",
        ANTI,
        host("a"),
        grouped("anti-affinity", "a", limit=2),
        None,
    ),
    (
        "max_server_per_host 2, two here",
        ANTI,
        host("a"),
        grouped("anti-affinity", "a", "a", "b", limit=2),
        "at most 2 per host",
    ),
    ("soft anti-affinity never filters", ANTI, host("a"), grouped("soft-anti-affinity", "a"), None),
]


@pytest.mark.parametrize(
    ("flt", "state", "request_spec", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_filter(
    flt: Filter, state: HostState, request_spec: RequestSpec, reason: str | None
) -> None:
    verdict = judge(flt, state, request_spec)

    if reason is None:
        assert verdict, verdict.reason
    else:
        assert not verdict
        assert reason in verdict.reason


def pipeline() -> Pipeline:
    filters = ["compute", "server_group_affinity", "server_group_anti_affinity", "resources"]
    return Pipeline(build_filters(filters), build_weighers({"ram": 1.0}))


def test_a_multi_instance_request_spreads_its_own_anti_affinity_members() -> None:
    index = HostIndex([host("a"), host("b"), host("c")])
    request = grouped("anti-affinity", instances=3)

    planned = plan_instances(pipeline(), index, request, request.instance_ids)

    assert sorted(p.primary.host.name for p in planned) == ["a", "b", "c"]


def test_a_fourth_anti_affinity_member_fits_nowhere() -> None:
    index = HostIndex([host("a"), host("b"), host("c")])
    request = grouped("anti-affinity", instances=4)

    with pytest.raises(NoValidHost) as caught:
        plan_instances(pipeline(), index, request, request.instance_ids)

    assert caught.value.details["filter"] == "server_group_anti_affinity"


def test_a_multi_instance_request_gathers_its_own_affinity_members() -> None:
    index = HostIndex([host("a"), host("b", memory_mb=65536)])
    request = grouped("affinity", instances=3)

    planned = plan_instances(pipeline(), index, request, request.instance_ids)

    assert [p.primary.host.name for p in planned] == ["b", "b", "b"]
