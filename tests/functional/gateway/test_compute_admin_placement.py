"""What operators set through the compute admin APIs is what the scheduler sees: a
disabled (or forced down) compute service gets no new servers, an availability zone set
by an aggregate can be asked for at server create, and quota limits set through
os-quota-sets are enforced and shown in /limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.functional.gateway.cloud import Account, Cloud

V = "/compute/v2.1"
MV = {"OpenStack-API-Version": "compute 2.79"}


@pytest.fixture(autouse=True)
async def pristine_hosts(cloud: Cloud) -> AsyncIterator[None]:
    """The module's tests share one database: give the next test every compute host
    enabled, up and outside any aggregate again."""
    yield
    async with cloud.pool.acquire() as conn:
        await conn.execute(
            "UPDATE hosts SET enabled = true, disabled_reason = NULL, forced_down = false"
        )
        await conn.execute("DELETE FROM aggregates")


async def _services(cloud: Cloud) -> dict[str, dict[str, Any]]:
    answer = await cloud.request("GET", f"{V}/os-services", cloud.admin, headers=MV)
    assert answer.status == 200, answer
    return {s["host"]: s for s in answer.body["services"]}


async def _boot(cloud: Cloud, who: Account, name: str, **extra: Any) -> Any:
    async with cloud.pool.acquire() as conn:
        image = await conn.fetchval("SELECT id FROM images WHERE name = 'busybox'")
        flavor = await conn.fetchval("SELECT id FROM flavors WHERE name = 'm1.tiny'")
    server = {
        "name": name,
        "imageRef": str(image),
        "flavorRef": str(flavor),
        "networks": "none",
        **extra,
    }
    return await cloud.request("POST", f"{V}/servers", who, json={"server": server}, headers=MV)


async def _host_of(cloud: Cloud, server_id: str) -> str:
    await cloud.wait_for(
        f"{V}/servers/{server_id}", cloud.admin, "server", lambda s: s["status"] == "ACTIVE"
    )
    answer = await cloud.request("GET", f"{V}/servers/{server_id}", cloud.admin, headers=MV)
    host: str = answer.body["server"]["OS-EXT-SRV-ATTR:host"]
    return host


async def test_disabled_services_get_no_new_servers(cloud: Cloud) -> None:
    services = await _services(cloud)
    assert set(services) == {"compute-1", "compute-2", "compute-3"}
    for host in ("compute-1", "compute-2"):
        answer = await cloud.request(
            "PUT",
            f"{V}/os-services/{services[host]['id']}",
            cloud.admin,
            json={"status": "disabled", "disabled_reason": "maintenance"},
            headers=MV,
        )
        assert answer.status == 200, answer
        service = answer.body["service"]
        assert service["status"] == "disabled" and service["disabled_reason"] == "maintenance"
    hosts = []
    for n in range(2):
        created = await _boot(cloud, cloud.demo, f"placed-{n}")
        assert created.status == 202, created
        hosts.append(await _host_of(cloud, created.body["server"]["id"]))
    assert hosts == ["compute-3", "compute-3"]
    stats = await cloud.request("GET", f"{V}/os-hypervisors/detail", cloud.admin, headers=MV)
    by_name = {h["hypervisor_hostname"]: h for h in stats.body["hypervisors"]}
    assert by_name["compute-3"]["running_vms"] >= 2 and by_name["compute-3"]["vcpus_used"] >= 2
    assert by_name["compute-1"]["status"] == "disabled"
    enabled = await cloud.request(
        "PUT",
        f"{V}/os-services/{services['compute-1']['id']}",
        cloud.admin,
        json={"status": "enabled"},
        headers=MV,
    )
    assert enabled.body["service"]["disabled_reason"] is None


async def test_forced_down_service_is_down_and_skipped(cloud: Cloud) -> None:
    services = await _services(cloud)
    for host in ("compute-1", "compute-3"):
        answer = await cloud.request(
            "PUT",
            f"{V}/os-services/{services[host]['id']}",
            cloud.admin,
            json={"forced_down": True},
            headers=MV,
        )
        assert answer.status == 200 and answer.body["service"]["state"] == "down", answer
    created = await _boot(cloud, cloud.demo, "survivor")
    assert await _host_of(cloud, created.body["server"]["id"]) == "compute-2"


async def test_aggregate_zone_can_be_requested_at_create(cloud: Cloud) -> None:
    made = await cloud.request(
        "POST",
        f"{V}/os-aggregates",
        cloud.admin,
        json={"aggregate": {"name": "blue", "availability_zone": "az-blue"}},
        headers=MV,
    )
    assert made.status == 200, made
    number = made.body["aggregate"]["id"]
    added = await cloud.request(
        "POST",
        f"{V}/os-aggregates/{number}/action",
        cloud.admin,
        json={"add_host": {"host": "compute-2"}},
    )
    assert added.status == 200 and added.body["aggregate"]["hosts"] == ["compute-2"], added
    zones = await cloud.request("GET", f"{V}/os-availability-zone", cloud.demo)
    names = {z["zoneName"]: z for z in zones.body["availabilityZoneInfo"]}
    assert set(names) == {"az-blue", "nova"} and names["az-blue"]["hosts"] is None
    assert names["az-blue"]["zoneState"] == {"available": True}
    services = await _services(cloud)
    assert services["compute-2"]["zone"] == "az-blue" and services["compute-1"]["zone"] == "nova"
    created = await _boot(cloud, cloud.demo, "blue-one", availability_zone="az-blue")
    assert created.status == 202, created
    assert await _host_of(cloud, created.body["server"]["id"]) == "compute-2"


async def test_a_host_is_in_one_zone_at_most(cloud: Cloud) -> None:
    async def aggregate(name: str, zone: str | None) -> int:
        body: dict[str, Any] = {"name": name}
        if zone:
            body["availability_zone"] = zone
        answer = await cloud.request(
            "POST", f"{V}/os-aggregates", cloud.admin, json={"aggregate": body}
        )
        assert answer.status == 200, answer
        number: int = answer.body["aggregate"]["id"]
        return number

    red, green, plain = (
        await aggregate("red", "az-red"),
        await aggregate("green", "az-green"),
        await aggregate("ssd", None),
    )

    async def act(number: int, action: dict[str, Any]) -> Any:
        return await cloud.request(
            "POST", f"{V}/os-aggregates/{number}/action", cloud.admin, json=action
        )

    assert (await act(red, {"add_host": {"host": "compute-1"}})).status == 200
    clash = await act(green, {"add_host": {"host": "compute-1"}})
    assert clash.status == 409, clash
    assert (await act(plain, {"add_host": {"host": "compute-1"}})).status == 200
    assert (await act(plain, {"add_host": {"host": "compute-1"}})).status == 409
    rezone = await act(plain, {"set_metadata": {"metadata": {"availability_zone": "az-x"}}})
    assert rezone.status == 400, rezone
    same = await act(plain, {"set_metadata": {"metadata": {"availability_zone": "az-red"}}})
    assert same.status == 200 and same.body["aggregate"]["availability_zone"] == "az-red"
    unknown = await act(red, {"add_host": {"host": "no-such-host"}})
    assert unknown.status == 404, unknown


async def test_quota_update_changes_limits_and_is_enforced(cloud: Cloud) -> None:
    user = await cloud.new_account()
    path = f"{V}/os-quota-sets/{user.project_id}"
    before = await cloud.request("GET", f"{V}/limits", user)
    assert before.status == 200, before
    assert before.body["limits"]["rate"] == []
    absolute = before.body["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 10 and absolute["totalInstancesUsed"] == 0
    assert {"maxPersonality", "maxSecurityGroups", "maxImageMeta"} <= set(absolute)
    update = await cloud.request(
        "PUT", path, cloud.admin, json={"quota_set": {"instances": 0, "cores": "4"}}, headers=MV
    )
    assert update.status == 200, update
    assert update.body["quota_set"]["instances"] == 0 and "id" not in update.body["quota_set"]
    assert "injected_files" not in update.body["quota_set"]  # gone at 2.57
    after = await cloud.request("GET", f"{V}/limits", user, headers=MV)
    absolute = after.body["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 0 and absolute["maxTotalCores"] == 4
    assert "maxPersonality" not in absolute and "maxSecurityGroups" not in absolute
    refused = await _boot(cloud, user, "too-many")
    assert refused.status == 403, refused
    shown = await cloud.request("GET", path, user)
    assert shown.body["quota_set"]["instances"] == 0 and shown.body["quota_set"]["id"]
    detail = await cloud.request("GET", f"{path}/detail", user)
    assert detail.body["quota_set"]["cores"] == {"limit": 4, "in_use": 0, "reserved": 0}
    defaults = await cloud.request("GET", f"{path}/defaults", user)
    assert defaults.body["quota_set"]["instances"] == 10
    reverted = await cloud.request("DELETE", path, cloud.admin)
    assert reverted.status == 202
    assert (await cloud.request("GET", path, user)).body["quota_set"]["instances"] == 10


async def test_quota_sets_are_isolated_and_validated(cloud: Cloud) -> None:
    other = await cloud.new_account()
    peek = await cloud.request("GET", f"{V}/os-quota-sets/{other.project_id}", cloud.demo)
    assert peek.status == 403, peek
    limits = await cloud.request("GET", f"{V}/limits?tenant_id={other.project_id}", cloud.demo)
    assert limits.status == 403, limits
    write = await cloud.request(
        "PUT",
        f"{V}/os-quota-sets/{cloud.demo.project_id}",
        cloud.demo,
        json={"quota_set": {"instances": 100}},
    )
    assert write.status == 403, write
    for quota in ({"instances": -2}, {"bananas": 1}, {"instances": "many"}):
        bad = await cloud.request(
            "PUT",
            f"{V}/os-quota-sets/{other.project_id}",
            cloud.admin,
            json={"quota_set": quota},
        )
        assert bad.status == 400, (quota, bad)
    admin_view = await cloud.request("GET", f"{V}/os-quota-sets/{other.project_id}", cloud.admin)
    assert admin_view.status == 200
