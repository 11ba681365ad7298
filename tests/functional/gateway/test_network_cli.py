"""The real `openstack` CLI drives the network API against the in-process cloud as the
demo member: network, subnet, port, router (add subnet, external gateway), floating IP."""

from __future__ import annotations

from typing import Any

from tests.functional.gateway.cli import cli_as
from tests.functional.gateway.cloud import Cloud

openstack, as_json = cli_as("demo")


async def test_openstack_cli_network_workflow(cloud: Cloud) -> None:
    network = await as_json(cloud, "network", "create", "cli-net")
    assert network["name"] == "cli-net"
    subnet = await as_json(
        cloud,
        "subnet",
        "create",
        "--network",
        "cli-net",
        "--subnet-range",
        "10.1.0.0/24",
        "cli-subnet",
    )
    assert subnet["cidr"] == "10.1.0.0/24" and subnet["gateway_ip"] == "10.1.0.1"
    port = await as_json(cloud, "port", "create", "--network", "cli-net", "cli-port")
    assert port["status"] == "DOWN"
    assert port["fixed_ips"][0]["ip_address"] == "10.1.0.2"
    router = await as_json(cloud, "router", "create", "cli-router")
    assert router["name"] == "cli-router"
    await openstack(cloud, "router", "add", "subnet", "cli-router", "cli-subnet")
    await openstack(cloud, "router", "set", "--external-gateway", "public", "cli-router")
    shown = await cloud.request("GET", f"/network/v2.0/routers/{router['id']}", cloud.demo)
    gateway = shown.body["router"]["external_gateway_info"]
    assert gateway["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    assert [i["ip_address"] for i in router_ports(await ports_of(cloud, router["id"]))] == [
        "10.1.0.1"
    ]
    floating = await as_json(cloud, "floating", "ip", "create", "public")
    assert floating["floating_ip_address"].startswith("172.24.4.")
    associate = await cloud.request(
        "PUT",
        f"/network/v2.0/floatingips/{floating['id']}",
        cloud.demo,
        json={"floatingip": {"port_id": port["id"]}},
    )
    assert associate.status == 200, associate
    assert associate.body["floatingip"]["fixed_ip_address"] == "10.1.0.2"
    assert associate.body["floatingip"]["router_id"] == router["id"]
    listed = await as_json(cloud, "network", "list")
    assert {"cli-net", "private", "public"} <= {n["Name"] for n in listed}


async def ports_of(cloud: Cloud, device_id: str) -> list[dict[str, Any]]:
    answer = await cloud.request("GET", f"/network/v2.0/ports?device_id={device_id}", cloud.demo)
    ports: list[dict[str, Any]] = answer.body["ports"]
    return ports


def router_ports(ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [ip for p in ports for ip in p["fixed_ips"]]
