"""`skymesh bench drift`: how long the database takes to follow a domain that changed
behind the agent's back (a fake-hypervisor out-of-band destroy, as `virsh destroy`),
with no periodic sync: from the destroy to the conductor's `instance.power_off.end`."""

from __future__ import annotations

import time
from typing import Any

import aio_pika
import orjson

from bench.boot import raise_quota, until
from bench.deployment import deployment, err, wait_ready
from bench.stats import percentile
from corebus.api_client import ApiClient
from corebus.config import Settings
from node_agent.drivers.hypervisor.fake_control import send


async def run(settings: Settings, servers: int, agents: int) -> dict[str, Any]:
    async with deployment(settings, "bench_drift") as deploy:
        await deploy.start("conductor", "conductor", "conductor")
        await deploy.start("scheduler", "scheduler", "scheduler")
        await deploy.start("agents", "agent", "agents", "--count", str(agents), "--prefix", "sim")
        await wait_ready(deploy.amqp_url, settings, agents, timeout=120)
        await raise_quota(deploy.dsn, servers)
        stopped: dict[str, float] = {}
        active: set[str] = set()

        async def on_note(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            note = orjson.loads(message.body)["payload"]
            server = note["payload"]["uuid"]
            if note["event_type"] == "instance.create.end":
                active.add(server)
            elif note["event_type"] == "instance.power_off.end":
                stopped.setdefault(server, time.monotonic())

        connection = await aio_pika.connect(deploy.amqp_url)
        try:
            channel = await connection.channel()
            queue = await channel.declare_queue(exclusive=True)
            await queue.bind("skymesh.notifications", "instance.#")
            await queue.consume(on_note, no_ack=True)
            async with ApiClient(deploy.amqp_url) as api:
                flavor = (await api.command("flavors.list", {"name": "m1.tiny"}))["flavors"]
                image = (await api.command("images.list", {"name": "busybox"}))["images"]
                ids = []
                for n in range(servers):
                    reply = await api.command(
                        "servers.create",
                        {
                            "name": f"drift-{n}",
                            "flavor_id": flavor[0]["id"],
                            "image_id": image[0]["id"],
                            "networks": "none",
                        },
                    )
                    ids.append(reply["server_ids"][0])
                await until(lambda: active >= set(ids), 120)
                hosts = {
                    i: (await api.command("servers.get", {"server_id": i}))["server"]["host"]
                    for i in ids
                }
            latencies = []
            err.print(f"destroying {servers} domains behind their agents' backs")
            for server in ids:
                started = time.monotonic()
                await send(deploy.home / "agents" / hosts[server], "destroy", server)
                await until(lambda s=server: s in stopped, 30)
                latencies.append(stopped[server] - started)
        finally:
            await connection.close()
    return {
        "drift_p50_s": round(percentile(latencies, 50), 4),
        "drift_p99_s": round(percentile(latencies, 99), 4),
        "samples": len(latencies),
    }
