"""A build resumes from its recorded step after its conductor is killed: not at the
scheduling deadline (90 s in this mesh) but as soon as another conductor sees the lease
of the dead one lapse."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from tests.functional.chaos.mesh import ChaosMesh
from tests.functional.idempotency.test_redelivery import active, create_body

pytestmark = [pytest.mark.functional, pytest.mark.slow]


async def test_a_build_resumes_after_its_conductor_is_killed(
    idem_mesh: ChaosMesh, api: Any
) -> None:
    await idem_mesh.kill9("scheduler")  # the build waits in its scheduling step
    created = await api.command("servers.create", await create_body(api, "resumed"))
    server_id = created["server_ids"][0]
    conn = await asyncpg.connect(idem_mesh.dsn)
    try:
        deadline = time.monotonic() + 10
        while True:
            step = await conn.fetchrow(
                "SELECT step, owner FROM workflows WHERE instance_id = $1::uuid "
                "AND state = 'running'",
                server_id,
            )
            if step is not None:
                break
            assert time.monotonic() < deadline, "the build recorded no step"
            await asyncio.sleep(0.1)
        assert step["step"] == "scheduling"
        await idem_mesh.kill9("conductor")
        await idem_mesh.restart("scheduler")
        started = time.monotonic()
        await idem_mesh.restart("conductor")
        server = await active(api, server_id, timeout=45)
        elapsed = time.monotonic() - started
        print(f"\nbuild resumed by a new conductor: ACTIVE {elapsed:.1f}s after its start")
        assert elapsed < 30, "resumed, not retried at the 90 s scheduling deadline"
        assert server["host"]
        done = await conn.fetchrow(
            "SELECT state, owner, attempts FROM workflows WHERE instance_id = $1::uuid "
            "ORDER BY updated_at DESC LIMIT 1",
            server_id,
        )
        assert done["state"] == "succeeded"
        assert done["owner"] != step["owner"] and done["attempts"] >= 1
        allocations = await conn.fetchval(
            "SELECT count(DISTINCT provider_id) FROM allocations WHERE consumer_id = $1::uuid",
            server_id,
        )
        assert allocations == 1
    finally:
        await conn.close()
