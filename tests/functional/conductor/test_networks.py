"""Tenant networks and floating IPs, and the quotas on them."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from conductor.db.queries import networks as network_queries
from conductor.db.queries import quotas
from schemas.errors import Conflict, NotFound, QuotaExceeded
from schemas.messages.common import Accepted
from schemas.messages.conductor_networks import (
    CreateFloatingIp,
    CreateNetwork,
    DeleteFloatingIp,
    DeleteNetwork,
    FloatingIpReply,
    ListNetworks,
    ListNetworksReply,
    NetworkReply,
)
from tests.functional.conductor.conftest import Mesh

pytestmark = pytest.mark.functional


async def limit(mesh: Mesh, resource: str, value: int) -> None:
    async with mesh.pool.acquire() as conn:
        await quotas.set_limit(conn, mesh.project_id, resource, value)


async def test_networks_are_created_listed_and_deleted(mesh: Mesh) -> None:
    name = f"web-{uuid.uuid4().hex[:6]}"
    made = await mesh.client.call(
        "conductor.create_network", CreateNetwork(name=name, cidr="10.9.0.0/24"), NetworkReply
    )
    assert made.subnets[0].cidr == "10.9.0.0/24" and made.network.subnet_ids
    listed = await mesh.client.call(
        "conductor.list_networks", ListNetworks(name=name), ListNetworksReply
    )
    assert [n.id for n in listed.networks] == [made.network.id]
    before = await mesh.quota_in_use("networks")
    await mesh.client.call(
        "conductor.delete_network", DeleteNetwork(network_id=made.network.id), Accepted
    )
    assert await mesh.quota_in_use("networks") == before - 1
    with pytest.raises(NotFound):
        await mesh.client.call(
            "conductor.delete_network", DeleteNetwork(network_id=made.network.id), Accepted
        )


async def test_network_quota_holds_under_concurrent_creates(mesh: Mesh) -> None:
    in_use = await mesh.quota_in_use("networks") if await _has_usage(mesh, "networks") else 0
    await limit(mesh, "networks", in_use + 5)
    await limit(mesh, "subnets", 100)
    results = await asyncio.gather(
        *(
            mesh.client.call(
                "conductor.create_network",
                CreateNetwork(name=f"n{i}", cidr=f"10.20.{i}.0/24"),
                NetworkReply,
            )
            for i in range(20)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, NetworkReply) for r in results) == 5
    assert sum(isinstance(r, QuotaExceeded) for r in results) == 15


async def test_floating_ips_take_public_addresses_within_quota(mesh: Mesh) -> None:
    async with mesh.pool.acquire() as conn:
        public = await network_queries.create_network(
            conn, mesh.project_id, f"public-{uuid.uuid4().hex[:6]}", external=True
        )
        await network_queries.create_subnet(
            conn, public["id"], mesh.project_id, "172.30.0.0/29", gateway_ip="172.30.0.1"
        )
    await limit(mesh, "floating_ips", 3)
    made = [
        await mesh.client.call(
            "conductor.create_floating_ip",
            CreateFloatingIp(floating_network_id=public["id"]),
            FloatingIpReply,
        )
        for _ in range(3)
    ]
    addresses = {m.floating_ip.floating_ip_address for m in made}
    assert len(addresses) == 3 and all(a.startswith("172.30.0.") for a in addresses)
    with pytest.raises(QuotaExceeded):
        await mesh.client.call(
            "conductor.create_floating_ip",
            CreateFloatingIp(floating_network_id=public["id"]),
            FloatingIpReply,
        )
    await mesh.client.call(
        "conductor.delete_floating_ip",
        DeleteFloatingIp(floating_ip_id=made[0].floating_ip.id),
        Accepted,
    )
    again = await mesh.client.call(
        "conductor.create_floating_ip",
        CreateFloatingIp(floating_network_id=public["id"]),
        FloatingIpReply,
    )
    assert again.floating_ip.floating_ip_address not in addresses - {
        made[0].floating_ip.floating_ip_address
    }
    with pytest.raises(Conflict):  # a network with ports cannot go
        await mesh.client.call(
            "conductor.delete_network", DeleteNetwork(network_id=public["id"]), Accepted
        )


async def _has_usage(mesh: Mesh, resource: str) -> bool:
    async with mesh.pool.acquire() as conn:
        return resource in await quotas.usage(conn, mesh.project_id)
