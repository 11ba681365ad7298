"""Network v2.0 through the gateway: networks, subnets and ports in Neutron's shapes,
the extensions list, race-free IP allocation, quotas and admin-only attributes."""

from __future__ import annotations

from typing import Any

from tests.functional.gateway.cloud import Account, Cloud

NET = "/network/v2.0"


async def make_network(cloud: Cloud, who: Account, name: str = "net", **extra: Any) -> Any:
    answer = await cloud.request(
        "POST", f"{NET}/networks", who, json={"network": {"name": name, **extra}}
    )
    assert answer.status == 201, answer
    return answer.body["network"]


async def make_subnet(cloud: Cloud, who: Account, network_id: str, cidr: str, **extra: Any) -> Any:
    body = {"subnet": {"network_id": network_id, "cidr": cidr, "ip_version": 4, **extra}}
    answer = await cloud.request("POST", f"{NET}/subnets", who, json=body)
    assert answer.status == 201, answer
    return answer.body["subnet"]


async def test_extensions_list_and_show(cloud: Cloud) -> None:
    listed = await cloud.request("GET", f"{NET}/extensions", cloud.demo)
    assert listed.status == 200, listed
    aliases = {e["alias"] for e in listed.body["extensions"]}
    assert {"router", "external-net", "security-group", "binding", "port-security"} <= aliases
    shown = await cloud.request("GET", f"{NET}/extensions/router", cloud.demo)
    assert shown.body["extension"]["alias"] == "router"
    missing = await cloud.request(
        "GET", f"{NET}/extensions/external-gateway-multihoming", cloud.demo
    )
    assert missing.status == 404
    assert missing.body["NeutronError"]["type"] == "ExtensionNotFound"


async def test_network_crud_in_neutron_shape(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo, "blue", description="mine")
    assert network["project_id"] == network["tenant_id"] == str(cloud.demo.project_id)
    assert network["status"] == "ACTIVE" and network["admin_state_up"] is True
    assert network["router:external"] is False and network["shared"] is False
    assert network["tags"] == [] and network["subnets"] == []
    assert network["revision_number"] >= 1 and network["created_at"].endswith("Z")
    path = f"{NET}/networks/{network['id']}"
    updated = await cloud.request("PUT", path, cloud.demo, json={"network": {"name": "green"}})
    assert updated.status == 200, updated
    assert updated.body["network"]["name"] == "green"
    assert updated.body["network"]["revision_number"] > network["revision_number"]
    listed = await cloud.request("GET", f"{NET}/networks?name=green", cloud.demo)
    assert [n["id"] for n in listed.body["networks"]] == [network["id"]]
    by_name = await cloud.request("GET", f"{NET}/networks/green", cloud.demo)
    assert by_name.status == 404 and by_name.body["NeutronError"]["type"] == "NetworkNotFound"
    external = await cloud.request("GET", f"{NET}/networks?router:external=true", cloud.demo)
    assert [n["name"] for n in external.body["networks"]] == ["public"]
    assert (await cloud.request("DELETE", path, cloud.demo)).status == 204
    assert (await cloud.request("GET", path, cloud.demo)).status == 404


async def test_subnet_defaults_overlap_and_delete_rules(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo)
    subnet = await make_subnet(cloud, cloud.demo, network["id"], "10.9.0.0/24")
    assert subnet["gateway_ip"] == "10.9.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.9.0.2", "end": "10.9.0.254"}]
    assert subnet["enable_dhcp"] is True and subnet["ip_version"] == 4
    overlap = await cloud.request(
        "POST",
        f"{NET}/subnets",
        cloud.demo,
        json={"subnet": {"network_id": network["id"], "cidr": "10.9.0.128/25", "ip_version": 4}},
    )
    assert overlap.status == 400, overlap
    bare = await make_subnet(cloud, cloud.demo, network["id"], "10.8.0.0/28", gateway_ip=None)
    assert bare["gateway_ip"] is None
    assert bare["allocation_pools"] == [{"start": "10.8.0.1", "end": "10.8.0.14"}]
    port = await cloud.request(
        "POST",
        f"{NET}/ports",
        cloud.demo,
        json={"port": {"network_id": network["id"], "fixed_ips": [{"subnet_id": subnet["id"]}]}},
    )
    assert port.status == 201, port
    in_use = await cloud.request("DELETE", f"{NET}/subnets/{subnet['id']}", cloud.demo)
    assert in_use.status == 409 and in_use.body["NeutronError"]["type"] == "SubnetInUse"
    busy = await cloud.request("DELETE", f"{NET}/networks/{network['id']}", cloud.demo)
    assert busy.status == 409 and busy.body["NeutronError"]["type"] == "NetworkInUse"
    port_id = port.body["port"]["id"]
    assert (await cloud.request("DELETE", f"{NET}/ports/{port_id}", cloud.demo)).status == 204
    assert (
        await cloud.request("DELETE", f"{NET}/subnets/{subnet['id']}", cloud.demo)
    ).status == 204
    assert (
        await cloud.request("DELETE", f"{NET}/networks/{network['id']}", cloud.demo)
    ).status == 204


async def test_bad_input_is_a_clear_400_never_a_500(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo)
    bad: list[tuple[str, str, Any]] = [
        ("POST", "networks", {"network": {"mtu": "big"}}),
        ("POST", "networks", {"network": {"name": "x", "colour": "red"}}),
        ("POST", "networks", {"networks": {}}),
        ("POST", "subnets", {"subnet": {"network_id": network["id"], "cidr": "10.1.0.5/24"}}),
        ("POST", "subnets", {"subnet": {"network_id": network["id"], "cidr": "nonsense"}}),
        ("POST", "subnets", {"subnet": {"network_id": "nope", "cidr": "10.1.0.0/24"}}),
        (
            "POST",
            "subnets",
            {
                "subnet": {
                    "network_id": network["id"],
                    "cidr": "10.1.0.0/24",
                    "gateway_ip": "9.9.9.9",
                }
            },
        ),
        ("POST", "ports", {"port": {"network_id": network["id"], "mac_address": "zz"}}),
        ("POST", "ports", {"port": {"network_id": network["id"], "binding:vnic_type": "odd"}}),
        ("POST", "security-group-rules", {"security_group_rule": {"direction": "up"}}),
        ("POST", "routers", {"router": {"external_gateway_info": {"network_id": "x"}}}),
        ("POST", "floatingips", {"floatingip": {}}),
        ("PUT", f"networks/{network['id']}", {"network": {"id": "x"}}),
    ]
    for method, path, body in bad:
        answer = await cloud.request(method, f"{NET}/{path}", cloud.demo, json=body)
        assert answer.status == 400, (path, body, answer)
        assert answer.body["NeutronError"]["message"], answer
    garbage = await cloud.request(
        "POST",
        f"{NET}/networks",
        cloud.demo,
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert garbage.status == 400
    filtered = await cloud.request("GET", f"{NET}/networks?router:external=maybe", cloud.demo)
    assert filtered.status == 400
    unknown = await cloud.request("GET", f"{NET}/networks?id=not-a-uuid", cloud.demo)
    assert unknown.status == 200 and unknown.body["networks"] == []
