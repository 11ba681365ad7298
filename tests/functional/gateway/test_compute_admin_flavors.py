"""Compute flavors through the gateway: list and show shapes per microversion, the
admin's create/update/delete, extra specs, and private flavors visible only to the
projects given access."""

from __future__ import annotations

from typing import Any

from tests.functional.gateway.cloud import Account, Cloud

V = "/compute/v2.1"
LATEST = {"OpenStack-API-Version": "compute 2.79"}


async def _create(cloud: Cloud, **fields: Any) -> dict[str, Any]:
    flavor = {"name": "f-" + str(len(fields)), "ram": 256, "vcpus": 1, "disk": 1, **fields}
    answer = await cloud.request(
        "POST", f"{V}/flavors", cloud.admin, json={"flavor": flavor}, headers=LATEST
    )
    assert answer.status == 200, answer
    created: dict[str, Any] = answer.body["flavor"]
    return created


async def _names(cloud: Cloud, who: Account, query: str = "") -> list[str]:
    answer = await cloud.request("GET", f"{V}/flavors/detail{query}", who)
    assert answer.status == 200, answer
    return [f["name"] for f in answer.body["flavors"]]


async def test_list_and_show_shapes_follow_the_microversion(cloud: Cloud) -> None:
    listed = await cloud.request("GET", f"{V}/flavors", cloud.demo)
    assert listed.status == 200, listed
    tiny = next(f for f in listed.body["flavors"] if f["name"] == "m1.tiny")
    assert set(tiny) == {"id", "name", "links"}
    old = await cloud.request("GET", f"{V}/flavors/{tiny['id']}", cloud.demo)
    assert old.body["flavor"]["swap"] == ""
    assert "extra_specs" not in old.body["flavor"] and "description" not in old.body["flavor"]
    assert old.body["flavor"]["os-flavor-access:is_public"] is True
    new = await cloud.request("GET", f"{V}/flavors/{tiny['id']}", cloud.demo, headers=LATEST)
    flavor = new.body["flavor"]
    assert flavor["swap"] == 0 and flavor["extra_specs"] == {} and "description" in flavor
    assert flavor["ram"] > 0 and flavor["vcpus"] >= 1
    by_name = await cloud.request("GET", f"{V}/flavors/m1.tiny", cloud.demo)
    assert by_name.status == 404 and "itemNotFound" in by_name.body


async def test_filters_and_pagination(cloud: Cloud) -> None:
    everything = await cloud.request("GET", f"{V}/flavors/detail", cloud.demo)
    flavors = everything.body["flavors"]
    biggest = max(f["ram"] for f in flavors)
    big = await cloud.request("GET", f"{V}/flavors/detail?minRam={biggest}", cloud.demo)
    assert {f["ram"] for f in big.body["flavors"]} == {biggest}
    first = await cloud.request("GET", f"{V}/flavors?limit=1", cloud.demo)
    assert len(first.body["flavors"]) == 1
    marker = first.body["flavors"][0]["id"]
    (link,) = first.body["flavors_links"]
    assert link["rel"] == "next" and f"marker={marker}" in link["href"]
    rest = await cloud.request("GET", f"{V}/flavors?marker={marker}", cloud.demo)
    assert [f["id"] for f in rest.body["flavors"]] == [f["id"] for f in flavors[1:]]
    bad = await cloud.request("GET", f"{V}/flavors?minRam=-1", cloud.demo)
    assert bad.status == 400, bad


async def test_admin_creates_describes_and_deletes(cloud: Cloud) -> None:
    flavor = await _create(cloud, name="f.big", description="for tests", swap=512)
    assert flavor["description"] == "for tests" and flavor["swap"] == 512
    assert flavor["OS-FLV-EXT-DATA:ephemeral"] == 0
    path = f"{V}/flavors/{flavor['id']}"
    update = await cloud.request(
        "PUT", path, cloud.admin, json={"flavor": {"description": "new"}}, headers=LATEST
    )
    assert update.status == 200 and update.body["flavor"]["description"] == "new", update
    again = await cloud.request(
        "POST",
        f"{V}/flavors",
        cloud.admin,
        json={"flavor": {"name": "f.big", "ram": 1, "vcpus": 1, "disk": 0}},
    )
    assert again.status == 409, again
    deleted = await cloud.request("DELETE", path, cloud.admin)
    assert deleted.status == 202, deleted
    assert (await cloud.request("GET", path, cloud.admin)).status == 404


async def test_bad_flavor_input_is_400(cloud: Cloud) -> None:
    for flavor in (
        {"name": "neg", "ram": -1, "vcpus": 1, "disk": 0},
        {"name": "zero-cpu", "ram": 64, "vcpus": 0, "disk": 0},
        {"name": "", "ram": 64, "vcpus": 1, "disk": 0},
        {"name": "strange-id", "ram": 64, "vcpus": 1, "disk": 0, "id": "m1.custom"},
        {"name": "extra", "ram": 64, "vcpus": 1, "disk": 0, "colour": "red"},
        {"name": "rxtx", "ram": 64, "vcpus": 1, "disk": 0, "rxtx_factor": 2.0},
        {"name": "str", "ram": "lots", "vcpus": 1, "disk": 0},
    ):
        answer = await cloud.request("POST", f"{V}/flavors", cloud.admin, json={"flavor": flavor})
        assert answer.status == 400, (flavor, answer)
        assert "badRequest" in answer.body
    early = await cloud.request(
        "POST",
        f"{V}/flavors",
        cloud.admin,
        json={"flavor": {"name": "d", "ram": 64, "vcpus": 1, "disk": 0, "description": "x"}},
    )
    assert early.status == 400, early  # description needs 2.55


async def test_flavor_writes_are_admin_only(cloud: Cloud) -> None:
    tiny = (await cloud.request("GET", f"{V}/flavors", cloud.demo)).body["flavors"][0]
    body = {"flavor": {"name": "mine", "ram": 64, "vcpus": 1, "disk": 0}}
    refused = [
        await cloud.request("POST", f"{V}/flavors", cloud.demo, json=body),
        await cloud.request("DELETE", f"{V}/flavors/{tiny['id']}", cloud.demo),
        await cloud.request(
            "POST",
            f"{V}/flavors/{tiny['id']}/os-extra_specs",
            cloud.demo,
            json={"extra_specs": {"a": "b"}},
        ),
        await cloud.request("GET", f"{V}/flavors/{tiny['id']}/os-flavor-access", cloud.demo),
    ]
    assert [a.status for a in refused] == [403, 403, 403, 403], refused


async def test_extra_specs_crud(cloud: Cloud) -> None:
    flavor = await _create(cloud, name="f.specs")
    path = f"{V}/flavors/{flavor['id']}/os-extra_specs"
    created = await cloud.request(
        "POST", path, cloud.admin, json={"extra_specs": {"hw:cpu_policy": "dedicated", "n": 1}}
    )
    assert created.status == 200 and created.body["extra_specs"]["n"] == "1", created
    one = await cloud.request("GET", f"{path}/hw:cpu_policy", cloud.demo)
    assert one.body == {"hw:cpu_policy": "dedicated"}, one
    put = await cloud.request("PUT", f"{path}/n", cloud.admin, json={"n": "2"})
    assert put.status == 200 and put.body == {"n": "2"}, put
    mismatch = await cloud.request("PUT", f"{path}/n", cloud.admin, json={"m": "2"})
    assert mismatch.status == 400
    invalid = await cloud.request(
        "POST", path, cloud.admin, json={"extra_specs": {"hw:cpu_policy": "sometimes"}}
    )
    assert invalid.status == 400, invalid
    assert (await cloud.request("DELETE", f"{path}/n", cloud.admin)).status == 202
    assert (await cloud.request("GET", f"{path}/n", cloud.demo)).status == 404
    listed = await cloud.request("GET", path, cloud.demo)
    assert listed.body == {"extra_specs": {"hw:cpu_policy": "dedicated"}}
    shown = await cloud.request("GET", f"{V}/flavors/{flavor['id']}", cloud.demo, headers=LATEST)
    assert shown.body["flavor"]["extra_specs"] == {"hw:cpu_policy": "dedicated"}


async def test_private_flavor_only_for_projects_given_access(cloud: Cloud) -> None:
    other = await cloud.new_account()
    flavor = await _create(cloud, name="f.private", **{"os-flavor-access:is_public": False})
    path = f"{V}/flavors/{flavor['id']}"
    assert "f.private" not in await _names(cloud, cloud.demo)
    assert (await cloud.request("GET", path, cloud.demo)).status == 404
    grant = await cloud.request(
        "POST",
        f"{path}/action",
        cloud.admin,
        json={"addTenantAccess": {"tenant": str(cloud.demo.project_id)}},
    )
    assert grant.status == 200, grant
    assert grant.body["flavor_access"] == [
        {"flavor_id": flavor["id"], "tenant_id": str(cloud.demo.project_id)}
    ]
    twice = await cloud.request(
        "POST",
        f"{path}/action",
        cloud.admin,
        json={"addTenantAccess": {"tenant": str(cloud.demo.project_id)}},
    )
    assert twice.status == 409, twice
    assert "f.private" in await _names(cloud, cloud.demo)
    assert (await cloud.request("GET", path, cloud.demo)).status == 200
    assert "f.private" not in await _names(cloud, other)
    assert (await cloud.request("GET", path, other)).status == 404
    assert "f.private" in await _names(cloud, cloud.admin, "?is_public=none")
    assert await _names(cloud, cloud.admin, "?is_public=false") == ["f.private"]
    access = await cloud.request("GET", f"{path}/os-flavor-access", cloud.admin)
    assert len(access.body["flavor_access"]) == 1
    revoke = await cloud.request(
        "POST",
        f"{path}/action",
        cloud.admin,
        json={"removeTenantAccess": {"tenant": str(cloud.demo.project_id)}},
    )
    assert revoke.status == 200 and revoke.body["flavor_access"] == [], revoke
    assert (await cloud.request("GET", path, cloud.demo)).status == 404
