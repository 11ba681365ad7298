"""`skymesh bench boot`: boots and deletes through the AMQP producer API against the
real processes (conductor, scheduler, fleets of fake-driver agents), timed from each
`servers.create` to its `instance.create.end` notification."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aio_pika
import orjson

from bench.deployment import Deployment, deployment, err, wait_ready
from bench.stats import percentile
from conductor.db.pool import open_connection
from conductor.db.queries import identity, quotas
from corebus.api_client import ApiClient
from corebus.config import Settings

AGENTS_PER_PROCESS = 25


class Watch:
    """When each server's create.end and delete.end arrived."""

    def __init__(self) -> None:
        self.active: dict[str, float] = {}
        self.deleted: dict[str, float] = {}
        self.errors: dict[str, Any] = {}

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        note = orjson.loads(message.body)["payload"]
        server, event = note["payload"]["uuid"], note["event_type"]
        if event == "instance.create.end":
            self.active[server] = time.monotonic()
        elif event == "instance.create.error":
            self.errors[server] = note["payload"].get("fault")
        elif event == "instance.delete.end":
            self.deleted[server] = time.monotonic()


async def raise_quota(dsn: str, servers: int) -> None:
    """Let the demo project hold every benchmark server."""
    async with open_connection(dsn) as conn:
        demo = await identity.get_project_by_name(conn, "demo")
        assert demo is not None, "the seed creates the demo project"
        for resource, limit in (
            ("instances", servers),
            ("cores", servers * 2),
            ("ram", servers * 1024),
        ):
            await quotas.set_limit(conn, demo["id"], resource, limit)


async def start_mesh(deploy: Deployment, agents: int, conductors: int) -> None:
    for n in range(1, conductors + 1):
        await deploy.start(f"conductor-{n}", "conductor", "conductor")
    await deploy.start("scheduler", "scheduler", "scheduler")
    for first in range(1, agents + 1, AGENTS_PER_PROCESS):
        count = min(AGENTS_PER_PROCESS, agents - first + 1)
        await deploy.start(
            f"agents-{first}",
            "agent",
            "agents",
            "--count",
            str(count),
            "--first",
            str(first),
            "--prefix",
            "sim",
        )


async def until(done: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        await asyncio.sleep(0.05)


async def run(
    settings: Settings, agents: int, servers: int, concurrency: int, conductors: int
) -> dict[str, Any]:
    async with deployment(settings, "bench_boot") as deploy:
        await start_mesh(deploy, agents, conductors)
        ready = await wait_ready(deploy.amqp_url, settings, agents, timeout=300)
        err.print(f"{agents} agents ready in {ready:.1f}s")
        await raise_quota(deploy.dsn, servers)
        watch = Watch()
        connection = await aio_pika.connect(deploy.amqp_url)
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind("skymesh.notifications", "instance.#")
        await queue.consume(watch.on_message, no_ack=True)
        try:
            async with ApiClient(deploy.amqp_url) as api:
                result = await measure(api, watch, servers, concurrency)
        finally:
            await connection.close()
        result["peak_rss_mb"] = deploy.peak_rss_mb()
        return result


async def measure(api: ApiClient, watch: Watch, servers: int, concurrency: int) -> dict[str, Any]:
    flavor = (await api.command("flavors.list", {"name": "m1.tiny"}))["flavors"][0]["id"]
    image = (await api.command("images.list", {"name": "busybox"}))["images"][0]["id"]
    submitted: dict[str, float] = {}
    slots = asyncio.Semaphore(concurrency)

    async def boot(n: int) -> None:
        async with slots:  # at most `concurrency` boots in flight, as Nova's anchor does
            t0 = time.monotonic()
            reply = await api.command(
                "servers.create",
                {"name": f"bench-{n}", "flavor_id": flavor, "image_id": image, "networks": "none"},
            )
            server = reply["server_ids"][0]
            submitted[server] = t0
            await until(lambda: server in watch.active or server in watch.errors, 300)

    err.print(f"booting {servers} servers, {concurrency} at a time")
    started = time.monotonic()
    await asyncio.gather(*(boot(n) for n in range(servers)))
    boots_s = time.monotonic() - started
    to_active = [watch.active[s] - t for s, t in submitted.items() if s in watch.active]

    async def delete(server: str) -> None:
        async with slots:
            await api.command("servers.delete", {"server_id": server})
            await until(lambda: server in watch.deleted, 300)

    err.print(f"deleting {len(submitted)} servers, {concurrency} at a time")
    started = time.monotonic()
    await asyncio.gather(*(delete(s) for s in submitted))
    deletes_s = time.monotonic() - started
    return {
        "boots_per_s": round(len(to_active) / boots_s, 1),
        "active_p50_s": round(percentile(to_active, 50), 3),
        "active_p99_s": round(percentile(to_active, 99), 3),
        "deletes_per_s": round(len(submitted) / deletes_s, 1),
        "servers": servers,
        "active": len(to_active),
        "errors": len(watch.errors),
    }
