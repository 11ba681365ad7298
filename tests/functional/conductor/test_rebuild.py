"""Rebuild on real PostgreSQL with the real scheduler and stand-in agents."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from conductor.db.queries import images
from schemas.errors import Conflict, NotFound
from schemas.messages.conductor_actions import Rebuild, Stop
from schemas.messages.facts import InstanceActionFailed
from tests.functional.conductor.placed import Placed, placed  # noqa: F401

pytestmark = pytest.mark.functional


def settled(vm_state: str):  # type: ignore[no-untyped-def]
    return lambda row: row["vm_state"] == vm_state and row["task_state"] is None


async def new_image(p: Placed) -> uuid.UUID:
    async with p.mesh.pool.acquire() as conn:
        image = await images.create_image(
            conn,
            name=f"img-{datetime.now(UTC).timestamp()}",
            owner=None,
            visibility="public",
            disk_format="qcow2",
            container_format="bare",
        )
        await images.record_upload(
            conn, image["id"], location="/images/other.qcow2", size=1024, checksum="1" * 32
        )
    return image["id"]


async def test_rebuild_keeps_the_host_and_ends_active(placed: Placed) -> None:  # noqa: F811
    p = placed
    server = await p.create()
    row = await p.mesh.wait_for(server, settled("active"))
    host, held = row["host"], await p.held(server)
    image = await new_image(p)
    await p.act(server, Rebuild(image_id=image, name="renamed"))
    row = await p.mesh.wait_for(server, settled("active"))
    assert row["host"] == host and row["image_id"] == image and row["name"] == "renamed"
    assert await p.held(server) == held
    assert p.mesh.agents[host].commands == ["rebuild"]
    await asyncio.sleep(0.3)
    assert p.mesh.events(server)[-2:] == ["instance.rebuild.start", "instance.rebuild.end"]


async def test_a_stopped_server_is_rebuilt_to_active(placed: Placed) -> None:  # noqa: F811
    p = placed
    server = await p.create()
    await p.mesh.wait_for(server, settled("active"))
    await p.act(server, Stop())
    await p.mesh.wait_for(server, settled("stopped"))
    await p.act(server, Rebuild(image_id=p.mesh.image_id))
    await p.mesh.wait_for(server, settled("active"))


async def test_rebuild_refuses_busy_servers_and_unknown_images(placed: Placed) -> None:  # noqa: F811
    p = placed
    server = await p.create()
    with pytest.raises(Conflict):  # still building
        await p.act(server, Rebuild(image_id=p.mesh.image_id))
    await p.mesh.wait_for(server, settled("active"))
    with pytest.raises(NotFound):
        await p.act(server, Rebuild(image_id=uuid.uuid4()))


async def test_a_failed_rebuild_ends_in_error_with_a_fault(placed: Placed) -> None:  # noqa: F811
    p = placed
    server = await p.create()
    row = await p.mesh.wait_for(server, settled("active"))
    agent = p.mesh.agents[row["host"]]
    agent.stuck.add("rebuild")
    await p.act(server, Rebuild(image_id=p.mesh.image_id))
    await agent.report(InstanceActionFailed, server, action="rebuild", reason="disk gone")
    row = await p.mesh.wait_for(server, settled("error"))
    await asyncio.sleep(0.3)
    assert p.mesh.events(server)[-1] == "instance.rebuild.error"


async def test_a_stuck_rebuild_hits_its_deadline(placed: Placed) -> None:  # noqa: F811
    p = placed
    server = await p.create()
    row = await p.mesh.wait_for(server, settled("active"))
    p.mesh.agents[row["host"]].stuck.add("rebuild")
    await p.act(server, Rebuild(image_id=p.mesh.image_id))
    await p.mesh.wait_for(server, settled("error"), timeout=10)
