"""The classic bad requests, one table across the APIs: oversized bodies (413), wrong
content types (415), invalid UUIDs, negative sizes, unknown flavors, exhausted quotas
and duplicate names, each answered with the status the OpenStack service gives and
a readable message in that service's error format (never a 500)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.fuzz.test_http_fuzz import readable_error
from tests.functional.gateway.cloud import Account, Cloud
from tests.functional.gateway.test_servers import seeded

pytestmark = pytest.mark.functional

C, N, V, IMG, K = (
    "/compute/v2.1",
    "/network/v2.0",
    "/volume/v3",
    "/image/v2",
    "/identity/v3",
)
NOWHERE = str(uuid.uuid4())


async def expect(
    cloud: Cloud,
    status: int | tuple[int, ...],
    method: str,
    path: str,
    who: Account,
    **kwargs: Any,
) -> str:
    answer = await cloud.request(method, path, who, **kwargs)
    wanted = (status,) if isinstance(status, int) else status
    assert answer.status in wanted, (method, path, answer)
    problem = readable_error(path, answer.status, answer.body)
    assert problem is None, (method, path, problem)
    inner = next(iter(answer.body.values()))
    message: str = inner["message"]
    return message


async def test_oversized_bodies_are_413(cloud: Cloud) -> None:
    big = "x" * (cloud.settings.gateway.max_body_bytes + 1)
    for path, key in ((f"{C}/servers", "server"), (f"{N}/networks", "network")):
        await expect(cloud, 413, "POST", path, cloud.demo, json={key: {"name": big}})
    await expect(cloud, 413, "POST", f"{K}/projects", cloud.admin, json={"project": {"x": big}})


async def test_wrong_content_types_are_415(cloud: Cloud) -> None:
    xml = {"data": b"<server/>", "headers": {"Content-Type": "application/xml"}}
    for path in (f"{C}/servers", f"{N}/networks", f"{V}/volumes", f"{C}/os-keypairs"):
        await expect(cloud, (400, 415), "POST", path, cloud.demo, **xml)
    await expect(cloud, (400, 415), "POST", f"{K}/projects", cloud.admin, **xml)
    # Glance wants its JSON-patch media type for PATCH
    images = await cloud.request("GET", f"{IMG}/images", cloud.demo)
    image_id = images.body["images"][0]["id"]
    await expect(cloud, 415, "PATCH", f"{IMG}/images/{image_id}", cloud.admin, json=[])


async def test_invalid_uuids_are_refused(cloud: Cloud) -> None:
    for path in (
        f"{C}/servers/not-a-uuid",
        f"{N}/networks/not-a-uuid",
        f"{N}/ports/not-a-uuid",
        f"{N}/routers/not-a-uuid",
        f"{N}/security-groups/not-a-uuid",
        f"{V}/volumes/not-a-uuid",
        f"{IMG}/images/not-a-uuid",
    ):
        await expect(cloud, (400, 404), "GET", path, cloud.demo)
    await expect(cloud, (400, 404), "GET", f"{K}/users/not-a-uuid", cloud.admin)
    port = {"port": {"network_id": "not-a-uuid"}}
    await expect(cloud, (400, 404), "POST", f"{N}/ports", cloud.demo, json=port)
    attach = {"volumeAttachment": {"volumeId": "not-a-uuid"}}
    await expect(
        cloud,
        (400, 404),
        "POST",
        f"{C}/servers/{NOWHERE}/os-volume_attachments",
        cloud.demo,
        json=attach,
    )


async def test_negative_sizes_are_400(cloud: Cloud) -> None:
    await expect(cloud, 400, "POST", f"{V}/volumes", cloud.demo, json={"volume": {"size": -1}})
    await expect(cloud, 400, "POST", f"{V}/volumes", cloud.demo, json={"volume": {"size": 0}})
    flavor = {"flavor": {"name": f"neg-{uuid.uuid4().hex[:6]}", "ram": 64, "vcpus": 1, "disk": -1}}
    await expect(cloud, 400, "POST", f"{C}/flavors", cloud.admin, json=flavor)
    flavor["flavor"].update(disk=1, ram=-64)
    await expect(cloud, 400, "POST", f"{C}/flavors", cloud.admin, json=flavor)
    created = await cloud.request("POST", f"{V}/volumes", cloud.demo, json={"volume": {"size": 1}})
    assert created.status == 202, created
    volume_id = created.body["volume"]["id"]
    extend = {"os-extend": {"new_size": -5}}
    await expect(cloud, 400, "POST", f"{V}/volumes/{volume_id}/action", cloud.demo, json=extend)


async def test_unknown_flavor_is_400(cloud: Cloud) -> None:
    ids = await seeded(cloud)
    server = {"name": "x", "flavorRef": NOWHERE, "imageRef": ids["image"], "networks": "none"}
    message = await expect(cloud, 400, "POST", f"{C}/servers", cloud.demo, json={"server": server})
    assert "flavor" in message.lower()
    await expect(cloud, 404, "GET", f"{C}/flavors/{NOWHERE}", cloud.demo)


async def test_exhausted_quotas(cloud: Cloud) -> None:
    user = await cloud.new_account()
    project = user.project_id
    zero_volumes = {"quota_set": {"volumes": 0, "gigabytes": 0}}
    put = await cloud.request("PUT", f"{V}/os-quota-sets/{project}", cloud.admin, json=zero_volumes)
    assert put.status == 200, put
    message = await expect(cloud, 413, "POST", f"{V}/volumes", user, json={"volume": {"size": 1}})
    assert "quota" in message.lower()
    zero_networks = {"quota": {"network": 0}}
    put = await cloud.request("PUT", f"{N}/quotas/{project}", cloud.admin, json=zero_networks)
    assert put.status == 200, put
    message = await expect(
        cloud, 409, "POST", f"{N}/networks", user, json={"network": {"name": "n"}}
    )
    assert "quota" in message.lower()


async def test_duplicate_names_are_409(cloud: Cloud) -> None:
    name = f"dup-{uuid.uuid4().hex[:6]}"
    flavor = {"flavor": {"name": name, "ram": 64, "vcpus": 1, "disk": 1}}
    keypair = {"keypair": {"name": name}}
    project = {"project": {"name": name}}
    user = {"user": {"name": name, "password": "secret-pw"}}
    aggregate = {"aggregate": {"name": name}}
    for path, who, body in (
        (f"{C}/flavors", cloud.admin, flavor),
        (f"{C}/os-keypairs", cloud.demo, keypair),
        (f"{K}/projects", cloud.admin, project),
        (f"{K}/users", cloud.admin, user),
        (f"{C}/os-aggregates", cloud.admin, aggregate),
    ):
        first = await cloud.request("POST", path, who, json=body)
        assert first.status in (200, 201), (path, first)
        await expect(cloud, 409, "POST", path, who, json=body)
