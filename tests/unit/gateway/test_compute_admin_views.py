"""The compute catalog and operator APIs in the gateway without services: shapes per
microversion (flavors, quota sets and limits, server groups, services, hypervisors,
aggregates), body parsing and refusals, and key pairs generated here and fingerprinted
by the conductor."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from conductor.compute_admin_keys import fingerprint
from corebus.config import GatewaySettings
from corebus.memory import InMemoryBus
from gateway.app import build_app
from gateway.compute_admin import FlavorCreate, create_message, flavor_view
from gateway.compute_admin_aggregates import aggregate_view
from gateway.compute_admin_hypervisors import detail_view
from gateway.compute_admin_keygen import generate
from gateway.compute_admin_quotas import limits_view, quota_view, resources, update_message
from gateway.compute_admin_server_groups import create_message as group_message
from gateway.compute_admin_server_groups import group_view
from gateway.compute_admin_services import ServiceUpdate, service_view
from gateway.compute_admin_services import update_message as service_message
from gateway.errors import HttpError
from gateway.microversion import MICROVERSION_KEY
from schemas.compute import Flavor
from schemas.compute_admin import Aggregate, ComputeService, Hypervisor, KeyPairType, QuotaSet
from schemas.errors import InvalidInput
from schemas.server_group import ServerGroup, ServerGroupPolicy, ServerGroupRules

BASE = "http://gw.example:8780"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
FLAVOR = Flavor(id=UUID(int=9), name="m1.tiny", vcpus=1, memory_mb=512, disk_gb=1)
SERVICE = ComputeService(id=UUID(int=4), number=7, host="compute-1", updated_at=NOW)


def request(version: tuple[int, int] = (2, 1)) -> web.Request:
    app = build_app(GatewaySettings(), InMemoryBus(), BASE)
    req = make_mocked_request("GET", "/compute/v2.1/flavors", app=app)
    req[MICROVERSION_KEY] = version
    return req


def test_flavor_fields_follow_the_microversion() -> None:
    old = flavor_view(request((2, 1)), FLAVOR)
    assert old["swap"] == "" and "description" not in old and "extra_specs" not in old
    assert old["links"][0]["href"] == f"{BASE}/compute/v2.1/flavors/{FLAVOR.id}"
    mid = flavor_view(request((2, 55)), FLAVOR)
    assert mid["description"] is None and "extra_specs" not in mid
    new = flavor_view(request((2, 79)), FLAVOR)
    assert new["swap"] == 0 and new["extra_specs"] == {}
    assert set(flavor_view(request((2, 1)), FLAVOR, detail=False)) == {"id", "name", "links"}


def test_flavor_create_body() -> None:
    given = FlavorCreate.model_validate(
        {"name": "x", "ram": "512", "vcpus": 2, "disk": 0, "os-flavor-access:is_public": False}
    )
    message = create_message(request((2, 1)), given)
    assert message.memory_mb == 512 and message.is_public is False and message.flavor_id is None
    with pytest.raises(HttpError) as refused:
        create_message(request((2, 1)), given.model_copy(update={"id": "custom"}))
    assert refused.value.status == 400
    with pytest.raises(HttpError):
        create_message(request((2, 54)), given.model_copy(update={"description": "d"}))


def test_quota_resources_and_limits_per_version() -> None:
    assert "floating_ips" in resources((2, 35)) and "floating_ips" not in resources((2, 36))
    assert "injected_files" in resources((2, 56)) and "injected_files" not in resources((2, 57))
    quota = QuotaSet(
        project_id=UUID(int=2),
        limits={"instances": 5, "metadata_items": 128, "floating_ips": 9},
        in_use={"instances": 2},
    )
    old = limits_view(request((2, 1)), quota)["limits"]
    assert old["rate"] == []
    assert old["absolute"]["maxImageMeta"] == 128 and old["absolute"]["maxTotalFloatingIps"] == 9
    assert old["absolute"]["totalInstancesUsed"] == 2
    new = limits_view(request((2, 79)), quota)["limits"]["absolute"]
    assert "maxImageMeta" not in new and "maxTotalFloatingIps" not in new
    assert new["maxServerMeta"] == 128 and "maxPersonality" not in new
    detail = quota_view(request((2, 79)), quota, detail=True)
    assert detail["instances"] == {"limit": 5, "in_use": 2, "reserved": 0}
    assert detail["id"] == str(UUID(int=2))


def test_quota_update_body() -> None:
    message = update_message((2, 79), UUID(int=2), {"instances": "3", "force": True})
    assert message.limits == {"instances": 3} and message.force
    for data in ({"floating_ips": 1}, {"instances": -2}, {"instances": "x"}):
        with pytest.raises(HttpError):
            update_message((2, 79), UUID(int=2), data)
    assert update_message((2, 1), UUID(int=2), {"floating_ips": 1}).limits == {"floating_ips": 1}


def test_server_group_bodies_and_shapes() -> None:
    message = group_message(
        (2, 64),
        {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": 3}},
    )
    assert message.rules.max_server_per_host == 3
    assert group_message((2, 1), {"name": "g", "policies": ["affinity"]}).policy == "affinity"
    for version, data in (
        ((2, 14), {"name": "g", "policies": ["soft-affinity"]}),
        ((2, 64), {"name": "g", "policy": "affinity", "rules": {"max_server_per_host": 3}}),
        ((2, 64), {"name": "g", "policy": "anti-affinity", "rules": {"max": 3}}),
    ):
        with pytest.raises(HttpError):
            group_message(version, data)
    group = ServerGroup(
        id=UUID(int=5),
        name="g",
        project_id=UUID(int=2),
        user_id=UUID(int=1),
        policy=ServerGroupPolicy.ANTI_AFFINITY,
        rules=ServerGroupRules(max_server_per_host=2),
    )
    assert group_view(request((2, 1)), group) == {
        "id": str(group.id),
        "name": "g",
        "members": [],
        "policies": ["anti-affinity"],
        "metadata": {},
    }
    new = group_view(request((2, 64)), group)
    assert new["policy"] == "anti-affinity" and new["rules"] == {"max_server_per_host": 2}


def test_service_and_hypervisor_ids_change_at_2_53() -> None:
    assert service_view(request((2, 1)), SERVICE)["id"] == 7
    assert "forced_down" in service_view(request((2, 11)), SERVICE)
    assert service_view(request((2, 53)), SERVICE)["id"] == str(SERVICE.id)
    hyp = Hypervisor(service=SERVICE, vcpus=8, vcpus_used=2, memory_mb=1024, cpu_model="x")
    old = detail_view(request((2, 1)), hyp, servers=False)
    assert old["id"] == 7 and old["cpu_info"] == '{"model":"x"}' and old["free_ram_mb"] == 1024
    new = detail_view(request((2, 53)), hyp, servers=True)
    assert new["service"]["id"] == str(SERVICE.id) and "servers" not in new
    assert detail_view(request((2, 75)), hyp, servers=True)["servers"] == []


def test_service_update_body() -> None:
    message = service_message(ServiceUpdate(status="disabled", disabled_reason="r"), UUID(int=4))
    assert message.enabled is False and message.disabled_reason == "r"
    for given in (ServiceUpdate(), ServiceUpdate(status="enabled", disabled_reason="r")):
        with pytest.raises(HttpError):
            service_message(given, UUID(int=4))


def test_aggregate_uuid_from_2_41() -> None:
    aggregate = Aggregate(id=UUID(int=6), number=3, name="a", created_at=NOW)
    assert "uuid" not in aggregate_view(request((2, 40)), aggregate)
    view = aggregate_view(request((2, 41)), aggregate)
    assert view["uuid"] == str(aggregate.id) and view["id"] == 3 and view["deleted"] is False


@pytest.mark.parametrize("kind", [KeyPairType.SSH, KeyPairType.X509])
def test_generated_keys_are_accepted_and_fingerprinted(kind: KeyPairType) -> None:
    pair = generate(kind, "user-1")
    printed = fingerprint(pair.public_key, kind)
    assert len(printed.split(":")) == (16 if kind is KeyPairType.SSH else 20)
    assert "PRIVATE KEY" in pair.private_key
    with pytest.raises(InvalidInput):
        fingerprint(pair.public_key, KeyPairType.X509 if kind is KeyPairType.SSH else kind.SSH)
