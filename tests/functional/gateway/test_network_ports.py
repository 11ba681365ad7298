"""Network v2.0 ports through the gateway: allocation (race-free, 409s), filters,
updates, binding, and the default security group."""

from __future__ import annotations

import asyncio

from tests.functional.gateway.cloud import Cloud
from tests.functional.gateway.test_network import NET, make_network, make_subnet


async def test_concurrent_port_creates_get_distinct_addresses(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo, "race")
    subnet = await make_subnet(cloud, cloud.demo, network["id"], "10.20.0.0/27")
    body = {"port": {"network_id": network["id"]}}
    answers = await asyncio.gather(
        *(cloud.request("POST", f"{NET}/ports", cloud.demo, json=body) for _ in range(32))
    )
    created = [a.body["port"] for a in answers if a.status == 201]
    refused = [a for a in answers if a.status != 201]
    addresses = [p["fixed_ips"][0]["ip_address"] for p in created]
    assert len(created) == 29  # a /27 has 30 host addresses, one is the gateway
    assert len(set(addresses)) == 29 and subnet["gateway_ip"] not in addresses
    assert all(a.status == 409 for a in refused), refused
    assert {a.body["NeutronError"]["type"] for a in refused} == {"IpAddressGenerationFailure"}


async def test_port_create_shape_fixed_ip_and_mac_conflicts(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo)
    subnet = await make_subnet(cloud, cloud.demo, network["id"], "10.21.0.0/24")
    body = {
        "port": {
            "network_id": network["id"],
            "name": "p1",
            "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.21.0.50"}],
            "mac_address": "fa:16:3e:00:00:01",
            "binding:vnic_type": "direct",
        }
    }
    answer = await cloud.request("POST", f"{NET}/ports", cloud.demo, json=body)
    assert answer.status == 201, answer
    port = answer.body["port"]
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.21.0.50"}]
    assert port["mac_address"] == "fa:16:3e:00:00:01"
    assert port["status"] == "DOWN" and port["binding:vif_type"] == "unbound"
    assert port["binding:vnic_type"] == "direct" and port["binding:host_id"] == ""
    assert port["tenant_id"] == str(cloud.demo.project_id) and port["tags"] == []
    assert len(port["security_groups"]) == 1  # the project's default group
    again = await cloud.request("POST", f"{NET}/ports", cloud.demo, json=body)
    assert again.status == 409, again
    body["port"]["mac_address"] = "fa:16:3e:00:00:02"
    taken = await cloud.request("POST", f"{NET}/ports", cloud.demo, json=body)
    assert taken.status == 409
    assert taken.body["NeutronError"]["type"] == "IpAddressAlreadyAllocated"
    outside = {"port": {"network_id": network["id"], "fixed_ips": [{"ip_address": "10.99.0.5"}]}}
    bad = await cloud.request("POST", f"{NET}/ports", cloud.demo, json=outside)
    assert bad.status == 400, bad
    unknown = {"port": {"network_id": network["id"], "color": "red"}}
    assert (await cloud.request("POST", f"{NET}/ports", cloud.demo, json=unknown)).status == 400


async def test_port_filters_update_and_binding(cloud: Cloud) -> None:
    network = await make_network(cloud, cloud.demo)
    await make_subnet(cloud, cloud.demo, network["id"], "10.22.0.0/24")
    body = {"port": {"network_id": network["id"], "device_id": "dev-1", "name": "a"}}
    port = (await cloud.request("POST", f"{NET}/ports", cloud.demo, json=body)).body["port"]
    address = port["fixed_ips"][0]["ip_address"]
    for query in (
        "device_id=dev-1",
        f"fixed_ips=ip_address={address}",
        f"mac_address={port['mac_address']}",
        f"network_id={network['id']}&name=a",
    ):
        found = await cloud.request("GET", f"{NET}/ports?{query}", cloud.demo)
        assert [p["id"] for p in found.body["ports"]] == [port["id"]], query
    path = f"{NET}/ports/{port['id']}"
    renamed = await cloud.request(
        "PUT", path, cloud.demo, json={"port": {"name": "b", "security_groups": []}}
    )
    assert renamed.status == 200, renamed
    assert renamed.body["port"]["name"] == "b" and renamed.body["port"]["security_groups"] == []
    moved = await cloud.request(
        "PUT", path, cloud.demo, json={"port": {"fixed_ips": [{"ip_address": "10.22.0.77"}]}}
    )
    assert moved.body["port"]["fixed_ips"][0]["ip_address"] == "10.22.0.77"
    host = {"port": {"binding:host_id": "compute-1"}}
    assert (await cloud.request("PUT", path, cloud.demo, json=host)).status == 403
    bound = await cloud.request("PUT", path, cloud.admin, json=host)
    assert bound.status == 200, bound
    assert bound.body["port"]["binding:vif_type"] == "ovs"
    active = await cloud.wait_for(path, cloud.demo, "port", lambda p: p["status"] == "ACTIVE")
    assert active["binding:host_id"] == "compute-1"
    assert (await cloud.request("DELETE", path, cloud.demo)).status == 204
    assert (await cloud.request("GET", path, cloud.demo)).status == 404


async def test_port_quota_is_neutron_over_quota(cloud: Cloud) -> None:
    account = await cloud.new_account()
    quota = {"quota": {"port": 1}}
    path = f"{NET}/quotas/{account.project_id}"
    assert (await cloud.request("PUT", path, account, json=quota)).status == 403
    assert (await cloud.request("PUT", path, cloud.admin, json=quota)).status == 200
    network = await make_network(cloud, account)
    body = {"port": {"network_id": network["id"]}}
    assert (await cloud.request("POST", f"{NET}/ports", account, json=body)).status == 201
    over = await cloud.request("POST", f"{NET}/ports", account, json=body)
    assert over.status == 409 and over.body["NeutronError"]["type"] == "OverQuota"
    details = await cloud.request("GET", f"{path}/details", account)
    assert details.body["quota"]["port"] == {"limit": 1, "used": 1, "reserved": 0}
    shown = await cloud.request("GET", path, account)
    assert shown.body["quota"]["port"] == 1 and shown.body["quota"]["network"] == 100
