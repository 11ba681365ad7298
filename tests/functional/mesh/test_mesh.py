"""The control plane end to end: real processes (2 conductors, a scheduler, 3 compute,
1 network and 1 storage agent on fake drivers) on real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import aio_pika
import asyncpg
import orjson
import pytest

from tests.functional.mesh.deployment import Deployment

pytestmark = [pytest.mark.functional, pytest.mark.slow]


async def catalog(api: Any) -> tuple[str, str]:
    flavor = (await api.command("flavors.list", {"name": "m1.tiny"}))["flavors"][0]["id"]
    image = (await api.command("images.list", {"name": "busybox"}))["images"][0]["id"]
    return flavor, image


async def wait_all(api: Any, ids: list[str], done: Any, timeout: float = 90) -> list[dict]:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    pending = set(ids)
    servers: dict[str, dict] = {}  # type: ignore[type-arg]
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} servers did not settle"
        for server_id in list(pending):
            try:
                server = (await api.command("servers.get", {"server_id": server_id}))["server"]
            except Exception as exc:  # deleted servers are not found
                server = {"id": server_id, "error": type(exc).__name__}
            if done(server):
                servers[server_id] = server
                pending.discard(server_id)
        await asyncio.sleep(0.2)
    return [servers[i] for i in ids]


async def overcommitted(dsn: str) -> list[Any]:
    """(provider, resource) pairs whose allocations exceed the inventory's capacity."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            "SELECT a.provider_id, a.resource_class, sum(a.amount) AS used, "
            "(i.total - i.reserved) * i.allocation_ratio AS capacity "
            "FROM allocations a JOIN inventories i USING (provider_id, resource_class) "
            "GROUP BY a.provider_id, a.resource_class, i.total, i.reserved, i.allocation_ratio "
            "HAVING sum(a.amount) > (i.total - i.reserved) * i.allocation_ratio"
        )
    finally:
        await conn.close()


async def allocations_of(dsn: str, ids: list[str]) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM allocations WHERE consumer_id = ANY($1::uuid[])", ids
            )
        )
    finally:
        await conn.close()


async def raise_demo_quota(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for resource, limit in (("instances", 200), ("cores", 400), ("ram", 400_000)):
            await conn.execute(
                "INSERT INTO quotas (project_id, resource, hard_limit) "
                "SELECT id, $1, $2 FROM projects WHERE name = 'demo' "
                "ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit",
                resource,
                limit,
            )
    finally:
        await conn.close()


async def test_fifty_concurrent_boots_then_deletes(deployment: Deployment, api: Any) -> None:
    await raise_demo_quota(deployment.dsn)
    flavor, image = await catalog(api)
    connection = await aio_pika.connect(deployment.amqp_url)
    channel = await connection.channel()
    events = await channel.declare_queue(exclusive=True)
    await events.bind("skymesh.notifications", "instance.#")
    seen: list[dict] = []  # type: ignore[type-arg]

    async def on_note(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        seen.append(orjson.loads(message.body))
        await message.ack()

    await events.consume(on_note)
    try:
        started = time.monotonic()
        replies = await asyncio.gather(
            *(
                api.command(
                    "servers.create",
                    {
                        "name": f"load-{n}",
                        "flavor_id": flavor,
                        "image_id": image,
                        "networks": "none",
                    },
                )
                for n in range(50)
            )
        )
        ids = [r["server_ids"][0] for r in replies]
        servers = await wait_all(api, ids, lambda s: s.get("vm_state") in ("active", "error"))
        elapsed = time.monotonic() - started
        assert [s["vm_state"] for s in servers] == ["active"] * 50, [
            s.get("fault") for s in servers if s["vm_state"] != "active"
        ]
        assert len({s["host"] for s in servers}) == 3  # spread over the three computes
        assert await overcommitted(deployment.dsn) == []
        print(f"\n50 concurrent boots ACTIVE in {elapsed:.1f}s")

        await asyncio.gather(*(api.command("servers.delete", {"server_id": i}) for i in ids))
        await wait_all(api, ids, lambda s: s.get("error") == "NotFound")
        assert await allocations_of(deployment.dsn, ids) == 0
        await asyncio.sleep(1.0)  # let the relay publish the last notifications
    finally:
        await connection.close()
    ends = Counter(
        n["payload"]["payload"]["uuid"]
        for n in seen
        if n["payload"]["event_type"] == "instance.create.end"
    )
    assert all(ends[i] == 1 for i in ids), "each boot ends exactly once (two conductors)"
    deletes = Counter(
        n["payload"]["payload"]["uuid"]
        for n in seen
        if n["payload"]["event_type"] == "instance.delete.end"
    )
    assert all(deletes[i] == 1 for i in ids)
    sequences = [n["payload"]["sequence"] for n in seen]
    assert len(sequences) == len(set(sequences)), "no notification delivered twice"


async def test_a_domain_destroyed_behind_our_back_shows_as_shutoff(
    deployment: Deployment, api: Any
) -> None:
    flavor, image = await catalog(api)
    created = await api.command(
        "servers.create",
        {"name": "drift", "flavor_id": flavor, "image_id": image, "networks": "none"},
    )
    server_id = created["server_ids"][0]
    (server,) = await wait_all(api, [server_id], lambda s: s.get("vm_state") == "active")
    code, out = await deployment.skymesh(
        "fake-hypervisor", "destroy", server_id, "--host", server["host"]
    )
    assert code == 0, out
    started = time.monotonic()
    (server,) = await wait_all(
        api, [server_id], lambda s: s.get("vm_state") == "stopped", timeout=5
    )
    print(f"\nout-of-band destroy seen in the database after {time.monotonic() - started:.2f}s")
    assert server["power_state"] == 4  # SHUTDOWN, from the lifecycle event (no polling)


async def test_interface_attach_reaches_the_real_agents(deployment: Deployment, api: Any) -> None:
    flavor, image = await catalog(api)
    created = await api.command(
        "servers.create",
        {"name": "nic", "flavor_id": flavor, "image_id": image, "networks": "none"},
    )
    server_id = created["server_ids"][0]
    await wait_all(api, [server_id], lambda s: s.get("vm_state") == "active")
    conn = await asyncpg.connect(deployment.dsn)
    try:
        network_id = await conn.fetchval("SELECT id FROM networks WHERE name = 'private'")
        reply = await api.command(
            "servers.attach_interface", {"server_id": server_id, "network_id": str(network_id)}
        )
        port_id = reply["port"]["id"]
        deadline = time.monotonic() + 10
        status = None
        while status != "ACTIVE":
            assert time.monotonic() < deadline, f"port stuck in {status}"
            await asyncio.sleep(0.1)
            status = await conn.fetchval("SELECT status FROM ports WHERE id = $1::uuid", port_id)
        address = await conn.fetchval(
            "SELECT host(ip_address) FROM ip_allocations WHERE port_id = $1::uuid", port_id
        )
        assert address and address.startswith("10.0.0.")
    finally:
        await conn.close()
