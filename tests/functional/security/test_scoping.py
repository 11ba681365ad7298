"""Every API resource is project-scoped and role-checked.

From the route table itself: every write route refuses a reader (403) and every admin
route refuses a member and a reader (403), so a new route cannot forget its policy.
Per resource type (servers, volumes, networks, subnets, ports, routers, floating IPs,
security groups, images, key pairs, server groups): another project's member neither
sees nor touches the owner's resource (404, absent from lists), a reader of the
owner's project reads but cannot delete it (403), and an admin sees it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from gateway.app import all_routes
from gateway.openapi import openapi_path
from gateway.routing import Access
from tests.functional.gateway.cloud import Account, Cloud
from tests.functional.gateway.test_network_routers import public_id
from tests.functional.gateway.test_servers import seeded

pytestmark = pytest.mark.functional
WRITES = ("POST", "PUT", "PATCH", "DELETE")
PARAM = re.compile(r"\{([^}]+)\}")
C, N, V, IMG = "/compute/v2.1", "/network/v2.0", "/volume/v3", "/image/v2"


def concrete(path: str) -> str:
    """A route path with its parameters filled in (ids as fresh UUIDs)."""
    return PARAM.sub(
        lambda m: str(uuid.uuid4()) if m.group(1).endswith("id") else "x", openapi_path(path)
    )


async def test_every_route_checks_its_role(cloud: Cloud) -> None:
    reader = await cloud.new_account(role="reader")
    member = await cloud.new_account()
    wrong: list[str] = []
    checked = 0
    for route in all_routes():
        path = concrete(route.path)
        refused: list[Account] = []
        if route.access is Access.ADMIN:
            refused = [member, reader]
        elif route.access is Access.MEMBER and route.method in WRITES:
            refused = [reader]
        for who in refused:
            checked += 1
            answer = await cloud.request(route.method, path, who, json={})
            if answer.status != 403:
                wrong.append(f"{route.method} {route.path} as {who.role}: {answer.status}")
    assert checked > 100
    assert not wrong, "\n".join(wrong)


async def _create(cloud: Cloud, who: Account) -> dict[str, tuple[str, str]]:
    """One of each resource of `who`'s project: kind -> (show path, list path)."""
    ids = await seeded(cloud)
    made: dict[str, tuple[str, str]] = {}

    async def post(kind: str, path: str, body: dict[str, Any], key: str, by: str = "id") -> str:
        answer = await cloud.request("POST", path, who, json=body)
        assert answer.status in (200, 201, 202), (kind, answer)
        value: str = (answer.body[key] if key else answer.body)[by]
        made[kind] = (f"{path}/{value}", path)
        return value

    server = {"name": "s", "flavorRef": ids["tiny"], "imageRef": ids["image"], "networks": "none"}
    await post("server", f"{C}/servers", {"server": server}, "server")
    await post("volume", f"{V}/volumes", {"volume": {"size": 1}}, "volume")
    net = await post("network", f"{N}/networks", {"network": {"name": "n"}}, "network")
    subnet = {"network_id": net, "cidr": "10.77.0.0/24", "ip_version": 4}
    await post("subnet", f"{N}/subnets", {"subnet": subnet}, "subnet")
    await post("port", f"{N}/ports", {"port": {"network_id": net}}, "port")
    await post("router", f"{N}/routers", {"router": {"name": "r"}}, "router")
    fip = {"floating_network_id": await public_id(cloud, who)}
    await post("floating IP", f"{N}/floatingips", {"floatingip": fip}, "floatingip")
    group = {"name": "g"}
    await post(
        "security group", f"{N}/security-groups", {"security_group": group}, "security_group"
    )
    await post("image", f"{IMG}/images", {"name": "img", "visibility": "private"}, "")
    await post(
        "key pair",
        f"{C}/os-keypairs",
        {"keypair": {"name": f"k-{uuid.uuid4().hex[:8]}"}},
        "keypair",
        by="name",
    )
    sg = {"name": "g", "policies": ["affinity"]}
    await post("server group", f"{C}/os-server-groups", {"server_group": sg}, "server_group")
    return made


def listed(body: Any, resource_path: str) -> bool:
    return resource_path.rsplit("/", 1)[-1] in str(body)


async def test_every_resource_type_is_scoped_to_its_project(cloud: Cloud) -> None:
    owner = await cloud.new_account()
    reader = await cloud.new_account(role="reader", project=owner.project_name)
    outsider = await cloud.new_account()
    made = await _create(cloud, owner)
    assert len(made) == 11
    for kind, (show, collection) in made.items():
        assert (await cloud.request("GET", show, owner)).status == 200, kind
        seen = await cloud.request("GET", show, outsider)
        assert seen.status == 404, (kind, seen)
        others = await cloud.request("GET", collection, outsider)
        assert others.status == 200 and not listed(others.body, show), (kind, others)
        touched = await cloud.request("DELETE", show, outsider)
        assert touched.status == 404, (kind, touched)
        refused = await cloud.request("DELETE", show, reader)
        assert refused.status == 403, (kind, refused)
        if kind != "key pair":  # key pairs belong to their user, not the project
            assert (await cloud.request("GET", show, reader)).status == 200, kind
            assert (await cloud.request("GET", show, cloud.admin)).status == 200, kind
        assert (await cloud.request("GET", show, owner)).status == 200, kind  # still there
