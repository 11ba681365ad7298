"""Network v2.0 cross-project isolation and policy: another project's member gets 404
on every resource of demo's and never sees them listed, while shared and external
networks stay visible; admins create on behalf of projects and alone set
router:external; readers cannot write."""

from __future__ import annotations

from typing import Any

from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_network import NET, make_network
from tests.functional.gateway.test_network_routers import public_id, routed_port


async def demo_resources(cloud: Cloud) -> dict[str, tuple[str, dict[str, Any]]]:
    """One of each of demo's resources: collection -> (id, update body)."""
    demo = cloud.demo
    port, router = await routed_port(cloud, demo, "10.40.0.0/24")
    network_id = port["network_id"]
    subnet_id = port["fixed_ips"][0]["subnet_id"]
    group = await cloud.request(
        "POST", f"{NET}/security-groups", demo, json={"security_group": {"name": "iso"}}
    )
    group_id = group.body["security_group"]["id"]
    rule = await cloud.request(
        "POST",
        f"{NET}/security-group-rules",
        demo,
        json={"security_group_rule": {"security_group_id": group_id, "direction": "ingress"}},
    )
    fip = await cloud.request(
        "POST",
        f"{NET}/floatingips",
        demo,
        json={"floatingip": {"floating_network_id": await public_id(cloud, demo)}},
    )
    rename = {"name": "stolen"}
    return {
        "networks": (network_id, {"network": rename}),
        "subnets": (subnet_id, {"subnet": rename}),
        "ports": (port["id"], {"port": rename}),
        "routers": (router["id"], {"router": rename}),
        "security-groups": (group_id, {"security_group": rename}),
        "security-group-rules": (
            rule.body["security_group_rule"]["id"],
            {},
        ),
        "floatingips": (
            fip.body["floatingip"]["id"],
            {"floatingip": {"description": "x"}},
        ),
    }


async def test_another_project_cannot_see_or_touch_demos_resources(cloud: Cloud) -> None:
    resources = await demo_resources(cloud)
    other = await cloud.new_account()
    for collection, (resource_id, update) in resources.items():
        path = f"{NET}/{collection}/{resource_id}"
        assert (await cloud.request("GET", path, other)).status == 404, path
        if update:
            assert (await cloud.request("PUT", path, other, json=update)).status == 404, path
        assert (await cloud.request("DELETE", path, other)).status == 404, path
        listed = await cloud.request("GET", f"{NET}/{collection}", other)
        plural = collection.replace("-", "_")
        assert resource_id not in {r["id"] for r in listed.body[plural]}, collection
        assert (await cloud.request("GET", path, cloud.demo)).status == 200, path
    router_id = resources["routers"][1]
    subnet_id = resources["subnets"][1]
    attach = await cloud.request(
        "PUT",
        f"{NET}/routers/{router_id}/remove_router_interface",
        other,
        json={"subnet_id": subnet_id},
    )
    assert attach.status == 404
    visible = await cloud.request("GET", f"{NET}/networks", other)
    assert "public" in {n["name"] for n in visible.body["networks"]}
    assert "private" not in {n["name"] for n in visible.body["networks"]}


async def test_shared_network_is_visible_but_not_writable(cloud: Cloud) -> None:
    shared = await make_network(cloud, cloud.admin, "shared-net", shared=True)
    other = await cloud.new_account()
    path = f"{NET}/networks/{shared['id']}"
    assert (await cloud.request("GET", path, other)).status == 200
    update = await cloud.request("PUT", path, other, json={"network": {"name": "x"}})
    assert update.status == 403
    port = await cloud.request(
        "POST", f"{NET}/ports", other, json={"port": {"network_id": shared["id"]}}
    )
    assert port.status == 201, port


async def test_admin_creates_for_a_project_and_alone_sets_external(cloud: Cloud) -> None:
    account = await cloud.new_account()
    body = {"network": {"name": "theirs", "project_id": str(account.project_id)}}
    made = await cloud.request("POST", f"{NET}/networks", cloud.admin, json=body)
    assert made.status == 201, made
    assert made.body["network"]["tenant_id"] == str(account.project_id)
    mine = await cloud.request("GET", f"{NET}/networks/{made.body['network']['id']}", account)
    assert mine.status == 200
    as_member = await cloud.request("POST", f"{NET}/networks", cloud.demo, json=body)
    assert as_member.status == 403
    external = {"network": {"name": "ext", "router:external": True}}
    refused = await cloud.request("POST", f"{NET}/networks", cloud.demo, json=external)
    assert refused.status == 403 and "NeutronError" in refused.body
    allowed = await cloud.request("POST", f"{NET}/networks", cloud.admin, json=external)
    assert allowed.status == 201 and allowed.body["network"]["router:external"] is True
    assert allowed.body["network"]["provider:network_type"] == "geneve"


async def test_reader_reads_but_cannot_write(cloud: Cloud) -> None:
    reader = await cloud.new_account(role="reader")
    assert (await cloud.request("GET", f"{NET}/networks", reader)).status == 200
    for collection, body in (
        ("networks", {"network": {"name": "r"}}),
        ("routers", {"router": {"name": "r"}}),
        ("security-groups", {"security_group": {"name": "r"}}),
        ("floatingips", {"floatingip": {"floating_network_id": await public_id(cloud, reader)}}),
    ):
        answer = await cloud.request("POST", f"{NET}/{collection}", reader, json=body)
        assert answer.status == 403, (collection, answer)
