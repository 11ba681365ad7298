"""Servers boot with ports (Nova + Neutron): a port on each requested network with an
address, shown in `addresses` and found by device_id; the user's own port taken and
given back unbound on delete; "auto" with several networks refused as Nova does; an
exhausted subnet refusing the create with nothing left behind; a floating IP of the
server's port disassociated when the server goes."""

from __future__ import annotations

from typing import Any

from conductor.db.queries import quotas
from tests.functional.gateway.cloud import COMPUTES, Account, Cloud
from tests.functional.gateway.test_network import NET, make_network, make_subnet
from tests.functional.gateway.test_network_routers import public_id
from tests.functional.gateway.test_servers import SERVERS, seeded, wait_status


async def boot(cloud: Cloud, who: Account, name: str, networks: Any, **extra: Any) -> Any:
    """POST a server of the seeded image and flavor; `extra` goes beside `server`."""
    ids = await seeded(cloud)
    server = {"name": name, "flavorRef": ids["tiny"], "imageRef": ids["image"]}
    body = {"server": {**server, "networks": networks}, **extra}
    return await cloud.request("POST", SERVERS, who, json=body)


async def boot_active(cloud: Cloud, who: Account, name: str, networks: Any) -> dict[str, Any]:
    answer = await boot(cloud, who, name, networks)
    assert answer.status == 202, answer
    return await wait_status(cloud, who, answer.body["server"]["id"], "ACTIVE")


async def ports_of(cloud: Cloud, who: Account, server_id: str) -> list[dict[str, Any]]:
    answer = await cloud.request("GET", f"{NET}/ports?device_id={server_id}", who)
    assert answer.status == 200, answer
    found: list[dict[str, Any]] = answer.body["ports"]
    return found


async def delete_server(cloud: Cloud, who: Account, server_id: str) -> None:
    answer = await cloud.request("DELETE", f"{SERVERS}/{server_id}", who)
    assert answer.status == 204, answer
    await cloud.wait_for(f"{SERVERS}/{server_id}", who, "server", None)


async def usage(cloud: Cloud, who: Account) -> dict[str, int]:
    async with cloud.pool.acquire() as conn:
        used = await quotas.usage(conn, who.project_id)
    return {resource: row["in_use"] for resource, row in used.items()}


async def private_network(cloud: Cloud) -> str:
    answer = await cloud.request("GET", f"{NET}/networks?name=private", cloud.demo)
    network_id: str = answer.body["networks"][0]["id"]
    return network_id


async def test_a_server_on_private_gets_a_port_that_goes_with_it(cloud: Cloud) -> None:
    private = await private_network(cloud)
    server = await boot_active(cloud, cloud.demo, "vm-port", [{"uuid": private}])
    (port,) = await ports_of(cloud, cloud.demo, server["id"])
    assert port["network_id"] == private and port["device_owner"] == "compute:nova"
    assert port["binding:host_id"] in COMPUTES
    address = port["fixed_ips"][0]["ip_address"]
    assert address.startswith("10.0.0.")
    assert [a["addr"] for a in server["addresses"]["private"]] == [address]
    assert server["addresses"]["private"][0]["OS-EXT-IPS-MAC:mac_addr"] == port["mac_address"]
    port = await cloud.wait_for(
        f"{NET}/ports/{port['id']}", cloud.demo, "port", lambda p: p["status"] == "ACTIVE"
    )
    assert port["binding:vif_type"] == "ovs" and port["security_groups"]

    await delete_server(cloud, cloud.demo, server["id"])
    assert await ports_of(cloud, cloud.demo, server["id"]) == []
    gone = await cloud.request("GET", f"{NET}/ports/{port['id']}", cloud.demo)
    assert gone.status == 404
    by_address = await cloud.request(
        "GET", f"{NET}/ports?fixed_ips=ip_address={address}", cloud.demo
    )
    assert by_address.body["ports"] == []


async def test_the_users_port_is_taken_and_survives_the_delete_unbound(cloud: Cloud) -> None:
    private = await private_network(cloud)
    created = await cloud.request(
        "POST", f"{NET}/ports", cloud.demo, json={"port": {"network_id": private, "name": "mine"}}
    )
    assert created.status == 201, created
    mine = created.body["port"]
    server = await boot_active(cloud, cloud.demo, "vm-own-port", [{"port": mine["id"]}])
    (port,) = await ports_of(cloud, cloud.demo, server["id"])
    assert port["id"] == mine["id"] and port["binding:host_id"] in COMPUTES
    again = await boot(cloud, cloud.demo, "vm-steals", [{"port": mine["id"]}])
    assert again.status == 409, again

    await delete_server(cloud, cloud.demo, server["id"])
    kept = await cloud.request("GET", f"{NET}/ports/{mine['id']}", cloud.demo)
    assert kept.status == 200, kept
    port = kept.body["port"]
    assert port["device_id"] == "" and port["device_owner"] == ""
    assert port["binding:host_id"] == "" and port["status"] == "DOWN"
    assert port["fixed_ips"] == mine["fixed_ips"]


async def test_auto_with_two_usable_networks_is_refused_like_nova(cloud: Cloud) -> None:
    account = await cloud.new_account()
    none = await boot_active(cloud, account, "vm-no-net", "auto")
    assert none["addresses"] == {}  # no usable network: no port, as Nova's "auto"
    for n, cidr in enumerate(("10.41.0.0/24", "10.42.0.0/24")):
        network = await make_network(cloud, account, f"net-{n}")
        await make_subnet(cloud, account, network["id"], cidr)
    refused = await boot(cloud, account, "vm-auto", "auto")
    assert refused.status == 409, refused
    assert refused.body["conflictingRequest"]["message"] == (
        "Multiple possible networks found, use a Network ID to be more specific."
    )
    none = await boot_active(cloud, account, "vm-none", "none")
    assert none["addresses"] == {}
    assert await ports_of(cloud, account, none["id"]) == []


async def test_an_exhausted_subnet_refuses_the_create_and_leaves_nothing(cloud: Cloud) -> None:
    account = await cloud.new_account()
    network = await make_network(cloud, account, "tiny")
    await make_subnet(cloud, account, network["id"], "10.43.0.0/29")  # .2 to .6
    for _ in range(5):
        made = await cloud.request(
            "POST", f"{NET}/ports", account, json={"port": {"network_id": network["id"]}}
        )
        assert made.status == 201, made
    before = await usage(cloud, account)
    refused = await boot(cloud, account, "vm-full", [{"uuid": network["id"]}])
    assert refused.status == 409, refused
    assert "no free IP address" in refused.body["conflictingRequest"]["message"]
    assert await usage(cloud, account) == before
    listed = await cloud.request("GET", f"{SERVERS}/detail", account)
    assert listed.body["servers"] == []


async def test_a_fixed_ip_and_a_bad_network(cloud: Cloud) -> None:
    account = await cloud.new_account()
    network = await make_network(cloud, account, "fixed")
    await make_subnet(cloud, account, network["id"], "10.44.0.0/24")
    server = await boot_active(
        cloud, account, "vm-fixed", [{"uuid": network["id"], "fixed_ip": "10.44.0.50"}]
    )
    assert [a["addr"] for a in server["addresses"]["fixed"]] == ["10.44.0.50"]
    taken = await boot(
        cloud, account, "vm-taken", [{"uuid": network["id"], "fixed_ip": "10.44.0.50"}]
    )
    assert taken.status == 409, taken
    other = await cloud.new_account()
    foreign = await boot(cloud, other, "vm-foreign", [{"uuid": network["id"]}])
    assert foreign.status == 400, foreign
    assert network["id"] in foreign.body["badRequest"]["message"]


async def test_a_floating_ip_is_disassociated_when_its_server_goes(cloud: Cloud) -> None:
    private = await private_network(cloud)
    server = await boot_active(cloud, cloud.demo, "vm-fip", [{"uuid": private}])
    (port,) = await ports_of(cloud, cloud.demo, server["id"])
    public = await public_id(cloud, cloud.demo)
    created = await cloud.request(
        "POST",
        f"{NET}/floatingips",
        cloud.demo,
        json={"floatingip": {"floating_network_id": public}},
    )
    assert created.status == 201, created
    path = f"{NET}/floatingips/{created.body['floatingip']['id']}"
    associated = await cloud.request(
        "PUT", path, cloud.demo, json={"floatingip": {"port_id": port["id"]}}
    )
    assert associated.status == 200, associated
    assert associated.body["floatingip"]["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    address = associated.body["floatingip"]["floating_ip_address"]
    shown = await cloud.request("GET", f"/compute/v2.1/servers/{server['id']}", cloud.demo)
    listed = [a for entries in shown.body["server"]["addresses"].values() for a in entries]
    assert {"addr": address, "OS-EXT-IPS:type": "floating"}.items() <= next(
        a for a in listed if a["addr"] == address
    ).items()  # Nova shows the floating IP among the server's addresses

    await delete_server(cloud, cloud.demo, server["id"])
    fip = (await cloud.request("GET", path, cloud.demo)).body["floatingip"]
    assert fip["port_id"] is None and fip["fixed_ip_address"] is None
    assert fip["router_id"] is None and fip["status"] == "DOWN"
    assert (await cloud.request("DELETE", path, cloud.demo)).status == 204
