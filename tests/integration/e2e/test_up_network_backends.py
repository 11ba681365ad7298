"""End to end as a user: `skymesh up --detach --network ovn` starts a private OVN (one chassis
per compute agent) under the whole control plane, and the `openstack` CLI, configured only by
the exports `up` printed, sees the demo router's ports ACTIVE (northd has them up) and a
server booted on `private` ACTIVE with its port bound on its host's chassis and ACTIVE.
The same with `--network dvr` (namespace DVR): the network node gets the seeded router when
it registers, and reports its ports ACTIVE once it holds it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.mesh.deployment import Deployment, deployed, openstack

pytestmark = pytest.mark.integration

ROUTER_PORTS_ACTIVE_WITHIN_S = 60.0


@pytest.fixture(scope="module", params=["ovn", "dvr"])
def deployment(
    request: pytest.FixtureRequest,
    pg_dsn: str,
    amqp_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    backend = request.param
    home = tmp_path_factory.mktemp(f"up-{backend}")
    up = ("--network", backend)
    with deployed(Deployment, pg_dsn, amqp_url, home, f"up{backend}", up) as mesh:
        yield mesh


async def ports(deployment: Deployment, *filters: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await openstack(
        deployment, "port", "list", "--long", *filters, "-f", "json"
    )
    return found


async def test_router_ports_and_a_servers_port_read_active(deployment: Deployment) -> None:
    owner = ("--device-owner", "network:router_interface")
    deadline = time.monotonic() + ROUTER_PORTS_ACTIVE_WITHIN_S
    while True:
        interfaces = await ports(deployment, *owner)
        if interfaces and all(p["Status"] == "ACTIVE" for p in interfaces):
            break
        assert time.monotonic() < deadline, f"router interfaces not ACTIVE: {interfaces}"
        await asyncio.sleep(1)

    server = await openstack(
        deployment,
        *("server", "create", "--flavor", "m1.tiny", "--image", "busybox"),
        *("--network", "private", "--wait", "-f", "json", "on-ovn"),
    )
    try:
        assert server["status"] == "ACTIVE", server
        (port,) = await ports(deployment, "--server", server["id"])
        assert port["Status"] == "ACTIVE", port
        shown = await openstack(deployment, "port", "show", port["ID"], "-f", "json")
        admin = "skymesh-admin"  # only an admin sees the server's host
        where = await openstack(
            deployment, "server", "show", server["id"], "-f", "json", cloud=admin
        )
        assert shown["binding_host_id"] == where["OS-EXT-SRV-ATTR:host"], (shown, where)
    finally:
        await openstack(deployment, "server", "delete", "--wait", server["id"])
