"""Network v2.0 routers, floating IPs and security groups through the gateway."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

from tests.functional.gateway.cloud import Account, Cloud
from tests.functional.gateway.test_network import NET, make_network, make_subnet


async def public_id(cloud: Cloud, who: Account) -> str:
    answer = await cloud.request("GET", f"{NET}/networks?name=public", who)
    network_id: str = answer.body["networks"][0]["id"]
    return network_id


async def routed_port(cloud: Cloud, who: Account, cidr: str) -> tuple[dict[str, Any], Any]:
    """A port on a new subnet, and a router joining that subnet to `public`."""
    network = await make_network(cloud, who)
    subnet = await make_subnet(cloud, who, network["id"], cidr)
    body = {
        "router": {
            "name": "r",
            "external_gateway_info": {"network_id": await public_id(cloud, who)},
        }
    }
    router = (await cloud.request("POST", f"{NET}/routers", who, json=body)).body["router"]
    added = await cloud.request(
        "PUT",
        f"{NET}/routers/{router['id']}/add_router_interface",
        who,
        json={"subnet_id": subnet["id"]},
    )
    assert added.status == 200, added
    port = await cloud.request(
        "POST", f"{NET}/ports", who, json={"port": {"network_id": network["id"]}}
    )
    return port.body["port"], router


async def test_router_gateway_interfaces_and_delete_rules(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo)
    subnet = await make_subnet(cloud, cloud.demo, network["id"], "10.30.0.0/24")
    created = await cloud.request(
        "POST", f"{NET}/routers", cloud.demo, json={"router": {"name": "r1"}}
    )
    assert created.status == 201, created
    router = created.body["router"]
    assert router["external_gateway_info"] is None and router["status"] == "ACTIVE"
    assert router["tenant_id"] == str(cloud.demo.project_id) and router["routes"] == []
    path = f"{NET}/routers/{router['id']}"
    added = await cloud.request(
        "PUT", f"{path}/add_router_interface", cloud.demo, json={"subnet_id": subnet["id"]}
    )
    assert added.status == 200, added
    assert added.body["subnet_id"] == subnet["id"] and added.body["id"] == router["id"]
    ports = await cloud.request("GET", f"{NET}/ports?device_id={router['id']}", cloud.demo)
    (interface,) = ports.body["ports"]
    assert interface["device_owner"] == "network:router_interface"
    assert interface["fixed_ips"][0]["ip_address"] == "10.30.0.1"
    direct = await cloud.request("DELETE", f"{NET}/ports/{interface['id']}", cloud.demo)
    assert direct.status == 409
    gateway = {
        "router": {"external_gateway_info": {"network_id": await public_id(cloud, cloud.demo)}}
    }
    set_gw = await cloud.request("PUT", path, cloud.demo, json=gateway)
    assert set_gw.status == 200, set_gw
    info = set_gw.body["router"]["external_gateway_info"]
    assert info["enable_snat"] is True and info["external_fixed_ips"][0]["ip_address"]
    not_external = {"router": {"external_gateway_info": {"network_id": network["id"]}}}
    assert (await cloud.request("PUT", path, cloud.demo, json=not_external)).status == 400
    in_use = await cloud.request("DELETE", path, cloud.demo)
    assert in_use.status == 409 and in_use.body["NeutronError"]["type"] == "RouterInUse"
    removed = await cloud.request(
        "PUT", f"{path}/remove_router_interface", cloud.demo, json={"subnet_id": subnet["id"]}
    )
    assert removed.status == 200, removed
    cleared = await cloud.request(
        "PUT", path, cloud.demo, json={"router": {"external_gateway_info": None}}
    )
    assert cleared.body["router"]["external_gateway_info"] is None
    assert (await cloud.request("DELETE", path, cloud.demo)).status == 204
    assert (await cloud.request("GET", path, cloud.demo)).status == 404


async def test_floating_ip_associate_and_disassociate(cloud: Cloud) -> None:
    port, router = await routed_port(cloud, cloud.demo, "10.31.0.0/24")
    public = await public_id(cloud, cloud.demo)
    created = await cloud.request(
        "POST",
        f"{NET}/floatingips",
        cloud.demo,
        json={"floatingip": {"floating_network_id": public}},
    )
    assert created.status == 201, created
    fip = created.body["floatingip"]
    assert fip["port_id"] is None and fip["status"] == "DOWN"
    assert fip["floating_ip_address"].startswith("172.24.4.")
    path = f"{NET}/floatingips/{fip['id']}"
    associated = await cloud.request(
        "PUT", path, cloud.demo, json={"floatingip": {"port_id": port["id"]}}
    )
    assert associated.status == 200, associated
    shown = associated.body["floatingip"]
    assert shown["port_id"] == port["id"] and shown["router_id"] == router["id"]
    assert shown["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    by_port = await cloud.request("GET", f"{NET}/floatingips?port_id={port['id']}", cloud.demo)
    assert [f["id"] for f in by_port.body["floatingips"]] == [fip["id"]]
    by_address = await cloud.request(
        "GET", f"{NET}/floatingips?floating_ip_address={fip['floating_ip_address']}", cloud.demo
    )
    assert [f["id"] for f in by_address.body["floatingips"]] == [fip["id"]]
    detached = await cloud.request("PUT", path, cloud.demo, json={"floatingip": {"port_id": None}})
    assert detached.body["floatingip"]["port_id"] is None
    assert detached.body["floatingip"]["router_id"] is None
    assert (await cloud.request("DELETE", path, cloud.demo)).status == 204
    assert (await cloud.request("GET", path, cloud.demo)).status == 404


async def test_floating_ip_needs_a_router_to_the_port(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo)
    await make_subnet(cloud, cloud.demo, network["id"], "10.32.0.0/24")
    port = await cloud.request(
        "POST", f"{NET}/ports", cloud.demo, json={"port": {"network_id": network["id"]}}
    )
    body = {
        "floatingip": {
            "floating_network_id": await public_id(cloud, cloud.demo),
            "port_id": port.body["port"]["id"],
        }
    }
    answer = await cloud.request("POST", f"{NET}/floatingips", cloud.demo, json=body)
    assert answer.status == 404, answer
    assert answer.body["NeutronError"]["type"] == "ExternalGatewayForFloatingIPNotFound"


async def test_security_groups_default_rules_and_conflicts(cloud: Cloud) -> None:
    account = await cloud.new_account()
    listed = await cloud.request("GET", f"{NET}/security-groups", account)
    (default,) = listed.body["security_groups"]
    assert default["name"] == "default"
    rules = {
        (r["direction"], r["ethertype"], r["remote_group_id"])
        for r in default["security_group_rules"]
    }
    assert rules == {
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
        ("ingress", "IPv4", default["id"]),
        ("ingress", "IPv6", default["id"]),
    }
    refused = await cloud.request("DELETE", f"{NET}/security-groups/{default['id']}", account)
    assert refused.status == 409
    created = await cloud.request(
        "POST", f"{NET}/security-groups", account, json={"security_group": {"name": "web"}}
    )
    assert created.status == 201, created
    group = created.body["security_group"]
    rule = {
        "security_group_rule": {
            "security_group_id": group["id"],
            "direction": "ingress",
            "protocol": "tcp",
            "port_range_min": 80,
            "port_range_max": 80,
            "remote_ip_prefix": "0.0.0.0/0",
        }
    }
    made = await cloud.request("POST", f"{NET}/security-group-rules", account, json=rule)
    assert made.status == 201, made
    assert made.body["security_group_rule"]["protocol"] == "tcp"
    duplicate = await cloud.request("POST", f"{NET}/security-group-rules", account, json=rule)
    assert duplicate.status == 409
    assert duplicate.body["NeutronError"]["type"] == "SecurityGroupRuleExists"
    rule["security_group_rule"]["port_range_min"] = 90
    assert (
        await cloud.request("POST", f"{NET}/security-group-rules", account, json=rule)
    ).status == 400
    rule_path = f"{NET}/security-group-rules/{made.body['security_group_rule']['id']}"
    assert (await cloud.request("DELETE", rule_path, account)).status == 204
    renamed = await cloud.request(
        "PUT",
        f"{NET}/security-groups/{group['id']}",
        account,
        json={"security_group": {"name": "www"}},
    )
    assert renamed.body["security_group"]["name"] == "www"
    assert (
        await cloud.request("DELETE", f"{NET}/security-groups/{group['id']}", account)
    ).status == 204


async def test_floating_ip_on_a_servers_port_as_the_cli_does(cloud: Cloud) -> None:
    """`openstack server add floating ip`: find the server's ports by device_id, then
    PUT the floating IP with that port (here on demo's seeded `private`, which router1
    joins to `public`)."""
    private = await cloud.request("GET", f"{NET}/networks?name=private", cloud.demo)
    network_id = private.body["networks"][0]["id"]
    server_id = str(uuid.uuid4())
    nova_port = {"network_id": network_id, "device_id": server_id, "device_owner": "compute:nova"}
    made = await cloud.request("POST", f"{NET}/ports", cloud.demo, json={"port": nova_port})
    assert made.status == 201, made
    ports = await cloud.request("GET", f"{NET}/ports?device_id={server_id}", cloud.demo)
    (port,) = ports.body["ports"]
    body = {"floatingip": {"floating_network_id": await public_id(cloud, cloud.demo)}}
    fip = (await cloud.request("POST", f"{NET}/floatingips", cloud.demo, json=body)).body
    path = f"{NET}/floatingips/{fip['floatingip']['id']}"
    associated = await cloud.request(
        "PUT", path, cloud.demo, json={"floatingip": {"port_id": port["id"]}}
    )
    assert associated.status == 200, associated
    shown = associated.body["floatingip"]
    assert shown["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert shown["status"] == "ACTIVE"
    router1 = await cloud.request("GET", f"{NET}/routers?name=router1", cloud.demo)
    assert shown["router_id"] == router1.body["routers"][0]["id"]
    released = await cloud.request("DELETE", f"{NET}/ports/{port['id']}", cloud.demo)
    assert released.status == 204
    after = await cloud.request("GET", path, cloud.demo)
    assert after.body["floatingip"]["port_id"] is None


def agent_table(cloud: Cloud, table: str) -> dict[str, Any]:
    """A table of the network agent's fake OVN northbound (its state file)."""
    (state,) = Path(cloud.agents["network-1"].config.state_dir).rglob("fake-network.json")
    found: dict[str, Any] = json.loads(state.read_text()).get(table, {})
    return found


async def eventually(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the network agent never got there"
        await asyncio.sleep(0.05)


async def test_network_agent_follows_router_port_and_floating_ip_changes(cloud: Cloud) -> None:
    port, router = await routed_port(cloud, cloud.demo, "10.33.0.0/24")
    await eventually(lambda: router["id"] in agent_table(cloud, "routers"))
    by_port = await cloud.request(
        "PUT",
        f"{NET}/routers/{router['id']}/add_router_interface",
        cloud.demo,
        json={"port_id": port["id"]},
    )
    assert by_port.status == 400  # the router already has a port on that subnet
    body = {
        "floatingip": {
            "floating_network_id": await public_id(cloud, cloud.demo),
            "port_id": port["id"],
        }
    }
    fip = (await cloud.request("POST", f"{NET}/floatingips", cloud.demo, json=body)).body
    fip_id = fip["floatingip"]["id"]
    await eventually(lambda: fip_id in agent_table(cloud, "floating_ips"))
    path = f"{NET}/floatingips/{fip_id}"
    assert (await cloud.request("DELETE", path, cloud.demo)).status == 204
    await eventually(lambda: fip_id not in agent_table(cloud, "floating_ips"))
    group = await cloud.request(
        "POST", f"{NET}/security-groups", cloud.demo, json={"security_group": {"name": "g"}}
    )
    group_id = group.body["security_group"]["id"]
    await eventually(lambda: group_id in agent_table(cloud, "security_groups"))


async def test_router_interface_from_the_users_port(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo)
    subnet = await make_subnet(cloud, cloud.demo, network["id"], "10.34.0.0/24")
    body = {"port": {"network_id": network["id"], "fixed_ips": [{"ip_address": "10.34.0.1"}]}}
    refused = await cloud.request("POST", f"{NET}/ports", cloud.demo, json=body)
    assert refused.status == 400  # the gateway address is only a router's
    body["port"]["fixed_ips"] = [{"ip_address": "10.34.0.9"}]
    port = (await cloud.request("POST", f"{NET}/ports", cloud.demo, json=body)).body["port"]
    router = await cloud.request("POST", f"{NET}/routers", cloud.demo, json={"router": {}})
    path = f"{NET}/routers/{router.body['router']['id']}"
    added = await cloud.request(
        "PUT", f"{path}/add_router_interface", cloud.demo, json={"port_id": port["id"]}
    )
    assert added.status == 200, added
    assert added.body["port_id"] == port["id"] and added.body["subnet_id"] == subnet["id"]
    owned = await cloud.request("GET", f"{NET}/ports/{port['id']}", cloud.demo)
    assert owned.body["port"]["device_owner"] == "network:router_interface"
    removed = await cloud.request(
        "PUT", f"{path}/remove_router_interface", cloud.demo, json={"port_id": port["id"]}
    )
    assert removed.status == 200, removed
    assert (await cloud.request("GET", f"{NET}/ports/{port['id']}", cloud.demo)).status == 404
