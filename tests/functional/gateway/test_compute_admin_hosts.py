"""Compute services, hypervisors, aggregates and availability zones through the
gateway: shapes per microversion (integer ids before 2.53, uuids after), the legacy
service actions, CRUD of aggregates, and admin-only access."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.functional.gateway.cloud import Cloud

V = "/compute/v2.1"
MV = {"OpenStack-API-Version": "compute 2.79"}


def mv(version: str) -> dict[str, str]:
    return {"OpenStack-API-Version": f"compute {version}"}


@pytest.fixture(autouse=True)
async def pristine_hosts(cloud: Cloud) -> AsyncIterator[None]:
    """The module's tests share one database: undo what a test set on the hosts."""
    yield
    async with cloud.pool.acquire() as conn:
        await conn.execute(
            "UPDATE hosts SET enabled = true, disabled_reason = NULL, forced_down = false"
        )
        await conn.execute("DELETE FROM aggregates")


async def test_admin_apis_refuse_non_admins(cloud: Cloud) -> None:
    reader = await cloud.new_account(role="reader")
    for who in (cloud.demo, reader):
        for method, path, body in (
            ("GET", "/os-services", None),
            ("PUT", "/os-services/enable", {"host": "compute-1", "binary": "nova-compute"}),
            ("GET", "/os-hypervisors", None),
            ("GET", "/os-hypervisors/detail", None),
            ("GET", "/os-hypervisors/statistics", None),
            ("GET", "/os-aggregates", None),
            ("POST", "/os-aggregates", {"aggregate": {"name": "x"}}),
            ("GET", "/os-availability-zone/detail", None),
        ):
            answer = await cloud.request(method, V + path, who, json=body)
            assert answer.status == 403, (who.role, method, path, answer)
            assert "forbidden" in answer.body


async def test_services_shapes_and_filters(cloud: Cloud) -> None:
    old = await cloud.request("GET", f"{V}/os-services", cloud.admin)
    assert old.status == 200, old
    first = old.body["services"][0]
    assert isinstance(first["id"], int) and "forced_down" not in first
    assert first["binary"] == "nova-compute" and first["state"] == "up"
    assert first["status"] == "enabled" and first["zone"] == "nova"
    new = await cloud.request("GET", f"{V}/os-services?host=compute-2", cloud.admin, headers=MV)
    assert [s["host"] for s in new.body["services"]] == ["compute-2"]
    assert (
        len(new.body["services"][0]["id"]) == 36 and new.body["services"][0]["forced_down"] is False
    )
    none = await cloud.request("GET", f"{V}/os-services?binary=nova-scheduler", cloud.admin)
    assert none.body["services"] == []


async def test_legacy_service_actions(cloud: Cloud) -> None:
    ref = {"host": "compute-1", "binary": "nova-compute"}
    disabled = await cloud.request(
        "PUT",
        f"{V}/os-services/disable-log-reason",
        cloud.admin,
        json={**ref, "disabled_reason": "bios update"},
    )
    assert disabled.status == 200, disabled
    assert disabled.body["service"] == {
        **ref,
        "status": "disabled",
        "disabled_reason": "bios update",
    }
    down = await cloud.request(
        "PUT",
        f"{V}/os-services/force-down",
        cloud.admin,
        json={**ref, "forced_down": True},
        headers=mv("2.11"),
    )
    assert down.body["service"] == {**ref, "forced_down": True}, down
    listed = await cloud.request(
        "GET", f"{V}/os-services?host=compute-1", cloud.admin, headers=mv("2.11")
    )
    service = listed.body["services"][0]
    assert service["state"] == "down" and service["status"] == "disabled"
    assert service["disabled_reason"] == "bios update" and service["forced_down"] is True
    up = await cloud.request(
        "PUT",
        f"{V}/os-services/force-down",
        cloud.admin,
        json={**ref, "forced_down": False},
        headers=mv("2.11"),
    )
    assert up.status == 200
    enabled = await cloud.request("PUT", f"{V}/os-services/enable", cloud.admin, json=ref)
    assert enabled.body["service"] == {**ref, "status": "enabled"}
    unknown = await cloud.request(
        "PUT", f"{V}/os-services/enable", cloud.admin, json={**ref, "host": "nowhere"}
    )
    assert unknown.status == 404, unknown


async def test_service_update_and_delete_input(cloud: Cloud) -> None:
    services = await cloud.request("GET", f"{V}/os-services", cloud.admin, headers=MV)
    sid = services.body["services"][0]["id"]
    for body in ({}, {"disabled_reason": "x"}, {"status": "sideways"}, {"forced_down": "maybe"}):
        answer = await cloud.request(
            "PUT", f"{V}/os-services/{sid}", cloud.admin, json=body, headers=MV
        )
        assert answer.status == 400, (body, answer)
    bad = await cloud.request(
        "PUT", f"{V}/os-services/12", cloud.admin, json={"status": "enabled"}, headers=MV
    )
    assert bad.status == 400, bad
    missing = await cloud.request(
        "DELETE", f"{V}/os-services/00000000-0000-0000-0000-000000000001", cloud.admin, headers=MV
    )
    assert missing.status == 404, missing


async def test_hypervisors_shapes(cloud: Cloud) -> None:
    listed = await cloud.request("GET", f"{V}/os-hypervisors", cloud.admin)
    assert listed.status == 200, listed
    first = listed.body["hypervisors"][0]
    assert set(first) == {"id", "hypervisor_hostname", "state", "status"}
    assert isinstance(first["id"], int)
    shown = await cloud.request("GET", f"{V}/os-hypervisors/{first['id']}", cloud.admin)
    hyp = shown.body["hypervisor"]
    assert hyp["vcpus"] > 0 and hyp["memory_mb"] > 0 and hyp["local_gb"] > 0
    assert hyp["free_ram_mb"] == hyp["memory_mb"] - hyp["memory_mb_used"]
    assert (
        isinstance(hyp["cpu_info"], str) and hyp["service"]["host"] == first["hypervisor_hostname"]
    )
    detail = await cloud.request(
        "GET",
        f"{V}/os-hypervisors/detail?hypervisor_hostname_pattern=compute-3",
        cloud.admin,
        headers=MV,
    )
    found = detail.body["hypervisors"]
    assert [h["hypervisor_hostname"] for h in found] == ["compute-3"]
    assert isinstance(found[0]["cpu_info"], dict) and len(found[0]["id"]) == 36
    by_uuid = await cloud.request(
        "GET", f"{V}/os-hypervisors/{found[0]['id']}?with_servers=true", cloud.admin, headers=MV
    )
    assert by_uuid.body["hypervisor"]["servers"] == [] or by_uuid.body["hypervisor"]["servers"]
    nothing = await cloud.request(
        "GET", f"{V}/os-hypervisors?hypervisor_hostname_pattern=zzz", cloud.admin, headers=MV
    )
    assert nothing.status == 404
    legacy = await cloud.request("GET", f"{V}/os-hypervisors/compute/search", cloud.admin)
    assert len(legacy.body["hypervisors"]) == 3
    stats = await cloud.request("GET", f"{V}/os-hypervisors/statistics", cloud.admin)
    totals = stats.body["hypervisor_statistics"]
    assert totals["count"] == 3 and totals["vcpus"] == 3 * hyp["vcpus"]
    bad = await cloud.request("GET", f"{V}/os-hypervisors/nope", cloud.admin, headers=MV)
    assert bad.status == 400
    missing = await cloud.request("GET", f"{V}/os-hypervisors/999999", cloud.admin)
    assert missing.status == 404


async def test_aggregates_crud(cloud: Cloud) -> None:
    made = await cloud.request(
        "POST", f"{V}/os-aggregates", cloud.admin, json={"aggregate": {"name": "rack1"}}, headers=MV
    )
    assert made.status == 200, made
    aggregate = made.body["aggregate"]
    assert aggregate["availability_zone"] is None and aggregate["hosts"] == []
    assert len(aggregate["uuid"]) == 36 and isinstance(aggregate["id"], int)
    path = f"{V}/os-aggregates/{aggregate['id']}"
    old = await cloud.request("GET", path, cloud.admin)
    assert "uuid" not in old.body["aggregate"]
    renamed = await cloud.request(
        "PUT", path, cloud.admin, json={"aggregate": {"name": "rack-1", "availability_zone": "az9"}}
    )
    assert renamed.status == 200, renamed
    assert renamed.body["aggregate"]["name"] == "rack-1"
    assert renamed.body["aggregate"]["metadata"] == {"availability_zone": "az9"}

    async def act(action: dict[str, Any]) -> Any:
        return await cloud.request("POST", f"{path}/action", cloud.admin, json=action)

    meta = await act({"set_metadata": {"metadata": {"ssd": "true", "availability_zone": None}}})
    assert meta.body["aggregate"]["metadata"] == {"ssd": "true"}, meta
    assert meta.body["aggregate"]["availability_zone"] is None
    assert (await act({"add_host": {"host": "compute-3"}})).status == 200
    blocked = await cloud.request("DELETE", path, cloud.admin)
    assert blocked.status == 400, blocked
    removed = await act({"remove_host": {"host": "compute-3"}})
    assert removed.body["aggregate"]["hosts"] == []
    assert (await act({"remove_host": {"host": "compute-3"}})).status == 404
    assert (await act({"explode": {}})).status == 400
    listed = await cloud.request("GET", f"{V}/os-aggregates", cloud.admin)
    assert [a["name"] for a in listed.body["aggregates"]] == ["rack-1"]
    duplicate = await cloud.request(
        "POST", f"{V}/os-aggregates", cloud.admin, json={"aggregate": {"name": "rack-1"}}
    )
    assert duplicate.status == 409
    assert (await cloud.request("DELETE", path, cloud.admin)).status == 200
    assert (await cloud.request("GET", path, cloud.admin)).status == 404


async def test_bad_aggregates_are_400(cloud: Cloud) -> None:
    for body in (
        {"aggregate": {}},
        {"aggregate": {"name": ""}},
        {"aggregate": {"name": "z", "availability_zone": "a:b"}},
        {"aggregate": {"name": "z", "colour": "red"}},
        {"name": "z"},
    ):
        answer = await cloud.request("POST", f"{V}/os-aggregates", cloud.admin, json=body)
        assert answer.status == 400, (body, answer)
    assert (await cloud.request("GET", f"{V}/os-aggregates/abc", cloud.admin)).status == 404


async def test_availability_zone_detail(cloud: Cloud) -> None:
    services = await cloud.request(
        "GET", f"{V}/os-services?host=compute-1", cloud.admin, headers=MV
    )
    await cloud.request(
        "PUT",
        f"{V}/os-services/{services.body['services'][0]['id']}",
        cloud.admin,
        json={"status": "disabled"},
        headers=MV,
    )
    detail = await cloud.request("GET", f"{V}/os-availability-zone/detail", cloud.admin)
    assert detail.status == 200, detail
    (zone,) = detail.body["availabilityZoneInfo"]
    assert zone["zoneName"] == "nova" and zone["zoneState"] == {"available": True}
    assert zone["hosts"]["compute-1"]["nova-compute"]["available"] is False
    assert zone["hosts"]["compute-2"]["nova-compute"]["active"] is True


async def test_deleting_an_idle_compute_service(cloud: Cloud) -> None:
    services = await cloud.request(
        "GET", f"{V}/os-services?host=compute-3", cloud.admin, headers=MV
    )
    sid = services.body["services"][0]["id"]
    deleted = await cloud.request("DELETE", f"{V}/os-services/{sid}", cloud.admin, headers=MV)
    assert deleted.status == 204, deleted
    again = await cloud.request("DELETE", f"{V}/os-services/{sid}", cloud.admin, headers=MV)
    assert again.status == 404, again
