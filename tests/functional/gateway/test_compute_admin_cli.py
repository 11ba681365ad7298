"""The real `openstack` CLI drives the compute catalog and operator APIs as the admin:
flavors with properties and access, key pairs, aggregates with a zone, services,
hypervisors, availability zones, quotas, limits and server groups."""

from __future__ import annotations

from tests.functional.gateway.cli import cli_as
from tests.functional.gateway.cloud import Cloud

openstack, as_json = cli_as("admin")


async def test_cli_flavors_keypairs_and_server_groups(cloud: Cloud) -> None:
    flavor = await as_json(
        cloud,
        "flavor",
        "create",
        "--ram",
        "256",
        "--vcpus",
        "1",
        "--disk",
        "1",
        "--private",
        "--property",
        "hw:cpu_policy=dedicated",
        "--project",
        str(cloud.demo.project_id),
        "cli.flavor",
    )
    assert flavor["name"] == "cli.flavor" and flavor["os-flavor-access:is_public"] is False
    shown = await as_json(cloud, "flavor", "show", "cli.flavor")
    assert shown["properties"] == {"hw:cpu_policy": "dedicated"}, shown
    listed = await as_json(cloud, "flavor", "list", "--all")
    assert {"m1.tiny", "cli.flavor"} <= {f["Name"] for f in listed}
    keypair = await openstack(cloud, "keypair", "create", "clikey")
    assert "PRIVATE KEY" in keypair
    keys = await as_json(cloud, "keypair", "list")
    assert [k["Name"] for k in keys] == ["clikey"]
    group = await as_json(cloud, "server", "group", "create", "--policy", "anti-affinity", "spread")
    assert group["name"] == "spread", group
    groups = await as_json(cloud, "server", "group", "list")
    assert [g["Name"] for g in groups] == ["spread"]
    await openstack(cloud, "flavor", "delete", "cli.flavor")


async def test_cli_operator_commands(cloud: Cloud) -> None:
    aggregate = await as_json(cloud, "aggregate", "create", "--zone", "az-cli", "agg1")
    assert aggregate["availability_zone"] == "az-cli", aggregate
    await openstack(cloud, "aggregate", "add", "host", "agg1", "compute-1")
    shown = await as_json(cloud, "aggregate", "show", "agg1")
    assert shown["hosts"] == ["compute-1"], shown
    zones = await as_json(cloud, "availability", "zone", "list", "--compute")
    assert {"az-cli", "nova"} <= {z["Zone Name"] for z in zones}, zones
    await openstack(
        cloud,
        "compute",
        "service",
        "set",
        "--disable",
        "--disable-reason",
        "cli test",
        "compute-2",
        "nova-compute",
    )
    services = await as_json(cloud, "compute", "service", "list", "--long")
    by_host = {s["Host"]: s for s in services}
    assert by_host["compute-2"]["Status"] == "disabled", services
    assert by_host["compute-2"]["Disabled Reason"] == "cli test"
    assert by_host["compute-1"]["Zone"] == "az-cli"
    hypervisors = await as_json(cloud, "hypervisor", "list")
    assert {h["Hypervisor Hostname"] for h in hypervisors} == {
        "compute-1",
        "compute-2",
        "compute-3",
    }
    hypervisor = await as_json(cloud, "hypervisor", "show", "compute-3")
    assert hypervisor["vcpus"] > 0, hypervisor
    await openstack(cloud, "quota", "set", "--instances", "7", str(cloud.demo.project_id))
    quota = await as_json(cloud, "quota", "show", str(cloud.demo.project_id))
    limits_by_name = {row["Resource"]: row["Limit"] for row in quota}
    assert limits_by_name["instances"] == 7 and limits_by_name["cores"] == 20, quota
    limits = await as_json(cloud, "limits", "show", "--absolute")
    by_name = {row["Name"]: row["Value"] for row in limits}
    assert by_name["instances"] == 10 and by_name["instances_used"] == 0, limits
    assert by_name["keypairs"] == 100, limits
