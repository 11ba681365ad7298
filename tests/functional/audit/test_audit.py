"""`skymesh audit`: each kind of drift made by hand on a running mesh (behind the
conductor's back, in the database or in an agent's fake driver state), then found by
the audit with the right kind, repaired by its policy, and gone on the next audit."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from conductor.audit import Report
from conductor.audit_cli import run
from corebus.amqp.bus import AmqpBus
from corebus.client import Client
from corebus.config import AmqpSettings, DatabaseSettings, Settings
from schemas.messages.agent_network import DeletePort
from tests.functional.chaos.mesh import ChaosMesh

pytestmark = [pytest.mark.functional, pytest.mark.slow]


async def audit_now(mesh: ChaosMesh, *, repair: bool = False) -> Report:
    settings = Settings(
        home=mesh.home,
        database=DatabaseSettings(dsn=mesh.dsn),
        amqp=AmqpSettings(url=mesh.amqp_url),
    )
    return await run(settings, repair=repair, timeout=10)


def kinds_of(report: Report, resource_id: str) -> set[str]:
    return {f.kind for f in report.findings if f.resource_id == resource_id}


async def until_clean(mesh: ChaosMesh, resource_id: str, timeout: float = 15) -> None:
    """The repairs the agents carry out take a moment: audit until the id is clean."""
    deadline = time.monotonic() + timeout
    while True:
        left = kinds_of(await audit_now(mesh), resource_id)
        if not left:
            return
        assert time.monotonic() < deadline, f"{resource_id} still shows {left}"
        await asyncio.sleep(0.5)


async def sql(mesh: ChaosMesh, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(mesh.dsn)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def wait_for(check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def boot(api: Any, mesh: ChaosMesh, *, network: bool = False) -> tuple[str, str]:
    """A server ACTIVE (with a port on `private` when `network`): (id, host)."""
    flavor = (await api.command("flavors.list", {"name": "m1.tiny"}))["flavors"][0]["id"]
    image = (await api.command("images.list", {"name": "busybox"}))["images"][0]["id"]
    networks: Any = "none"
    if network:
        (row,) = await sql(mesh, "SELECT id::text FROM networks WHERE name = 'private'")
        networks = [{"network_id": row["id"]}]
    body = {"name": f"audit-{uuid.uuid4().hex[:6]}", "flavor_id": flavor, "image_id": image}
    created = await api.command("servers.create", {**body, "networks": networks})
    server_id = created["server_ids"][0]

    async def active() -> Any:
        server = (await api.command("servers.get", {"server_id": server_id}))["server"]
        assert server["vm_state"] != "error", server.get("fault")
        return server["host"] if server["vm_state"] == "active" else None

    return server_id, await wait_for(active, f"server {server_id} ACTIVE")


async def forget_server(mesh: ChaosMesh, server_id: str) -> None:
    """Soft-delete the row behind the conductor's back: its domain, allocations, ports
    and attachments are left behind."""
    await sql(
        mesh,
        "UPDATE instances SET deleted = true, deleted_at = now(), vm_state = 'deleted', "
        "task_state = NULL WHERE id = $1::uuid",
        server_id,
    )


def domains(mesh: ChaosMesh, host: str) -> dict[str, Any]:
    path = mesh.home / "agents" / host / "fake-hypervisor.json"
    data: dict[str, Any] = json.loads(path.read_text()).get("domains", {})
    return data


async def test_a_clean_mesh_has_nothing_to_report(audit_mesh: ChaosMesh, api: Any) -> None:
    await boot(api, audit_mesh)
    code, out = await audit_mesh.skymesh("audit")
    assert out.strip().splitlines()[-1] == "audit: no drift, no leaks", out
    assert code == 0


async def test_a_domain_without_its_row_is_destroyed(audit_mesh: ChaosMesh, api: Any) -> None:
    server_id, host = await boot(api, audit_mesh)
    await forget_server(audit_mesh, server_id)
    code, out = await audit_mesh.skymesh("audit")
    assert code == 1, out
    assert "domain.orphan" in out and server_id in out
    assert out.strip().splitlines()[-1].startswith("audit: ")
    report = await audit_now(audit_mesh, repair=True)
    assert {"domain.orphan", "allocation.leaked"} <= kinds_of(report, server_id)
    assert {f.kind for f in report.repaired} >= {"domain.orphan", "allocation.leaked"}
    assert "quota.drift" in {f.kind for f in report.findings}  # adopted: usage recounted
    await until_clean(audit_mesh, server_id)
    assert server_id not in domains(audit_mesh, host)
    rows = await sql(
        audit_mesh, "SELECT 1 FROM allocations WHERE consumer_id = $1::uuid", server_id
    )
    assert rows == []


async def test_a_row_without_its_domain_goes_to_error(audit_mesh: ChaosMesh, api: Any) -> None:
    server_id, host = await boot(api, audit_mesh)
    # the domain disappears and the agent is not there to tell: stop it, edit, start it
    await audit_mesh.kill9(host)
    path = audit_mesh.home / "agents" / host / "fake-hypervisor.json"
    data = json.loads(path.read_text())
    del data["domains"][server_id]
    path.write_text(json.dumps(data))
    await audit_mesh.restart(host)
    report = await wait_for(lambda: _finding(audit_mesh, server_id, "domain.missing"), "drift")
    assert report
    repaired = await audit_now(audit_mesh, repair=True)
    assert server_id in {f.resource_id for f in repaired.repaired}
    (row,) = await sql(
        audit_mesh,
        "SELECT vm_state, (SELECT message FROM instance_faults f WHERE f.instance_id = i.id "
        "ORDER BY id DESC LIMIT 1) AS fault FROM instances i WHERE id = $1::uuid",
        server_id,
    )
    assert row["vm_state"] == "error" and "audit" in row["fault"]
    await until_clean(audit_mesh, server_id)


async def _finding(mesh: ChaosMesh, resource_id: str, kind: str) -> bool:
    return kind in kinds_of(await audit_now(mesh), resource_id)


async def test_a_port_without_its_server_is_released(audit_mesh: ChaosMesh, api: Any) -> None:
    server_id, _ = await boot(api, audit_mesh, network=True)
    (port,) = await sql(audit_mesh, "SELECT id::text FROM ports WHERE device_id = $1", server_id)
    port_id = port["id"]
    await forget_server(audit_mesh, server_id)
    report = await audit_now(audit_mesh, repair=True)
    assert "port.leaked" in kinds_of(report, port_id)
    assert "ip.leaked" in {f.kind for f in report.findings if port_id in f.detail}
    assert await sql(audit_mesh, "SELECT 1 FROM ports WHERE id = $1::uuid", port_id) == []
    await until_clean(audit_mesh, port_id)  # and OVN dropped its logical port
    await until_clean(audit_mesh, server_id)


async def test_an_attachment_to_a_deleted_server_is_detached(
    audit_mesh: ChaosMesh, api: Any
) -> None:
    server_id, _ = await boot(api, audit_mesh)
    volume_id = (await api.command("volumes.create", {"size_gb": 1, "name": "audit"}))["volume"][
        "id"
    ]

    async def volume_status() -> str:
        return str((await api.command("volumes.get", {"volume_id": volume_id}))["volume"]["status"])

    await wait_for(lambda: _is(volume_status, "available"), "volume available")
    await api.command("servers.attach_volume", {"server_id": server_id, "volume_id": volume_id})
    await wait_for(lambda: _is(volume_status, "in-use"), "volume in-use")
    await forget_server(audit_mesh, server_id)
    report = await audit_now(audit_mesh, repair=True)
    assert "attachment.leaked" in kinds_of(report, volume_id)
    assert "attachment.leaked" in {f.kind for f in report.repaired}
    await until_clean(audit_mesh, volume_id)
    assert await volume_status() == "available"


async def _is(read: Callable[[], Any], value: str) -> bool:
    return bool(await read() == value)


async def test_ovn_drift_is_found_made_again_or_flagged(audit_mesh: ChaosMesh, api: Any) -> None:
    server_id, _ = await boot(api, audit_mesh, network=True)
    (port,) = await sql(audit_mesh, "SELECT id::text FROM ports WHERE device_id = $1", server_id)
    port_id, stray = port["id"], str(uuid.uuid4())
    # behind the conductor's back: a stray logical port added to the agent's state...
    await audit_mesh.kill9("network-1")
    path = audit_mesh.home / "agents" / "network-1" / "fake-network.json"
    data = json.loads(path.read_text())
    network_id = data["ports"][port_id]["network_id"]
    data["ports"][stray] = {**data["ports"][port_id], "network_id": network_id}
    path.write_text(json.dumps(data))
    await audit_mesh.restart("network-1")  # (registering, it is sent what it lacks)
    assert await wait_for(lambda: _finding(audit_mesh, stray, "port.orphan_in_ovn"), "stray")
    # ...and the server's own one deleted on the running agent, as a stray command would
    bus = AmqpBus(audit_mesh.amqp_url, name="test-drift")
    await bus.start()
    try:
        gone = DeletePort(port_id=uuid.UUID(port_id), network_id=uuid.UUID(network_id))
        await Client(bus).cast("node_agent.network-1.delete_port", gone)
    finally:
        await bus.close()
    assert await wait_for(lambda: _finding(audit_mesh, port_id, "port.missing_in_ovn"), "drift")
    report = await audit_now(audit_mesh, repair=True)
    assert "port.orphan_in_ovn" in kinds_of(report, stray)
    assert port_id in {f.resource_id for f in report.repaired}  # made again
    assert stray not in {f.resource_id for f in report.repaired}  # flagged: a person decides
    await until_clean(audit_mesh, port_id)
    assert "port.orphan_in_ovn" in kinds_of(await audit_now(audit_mesh), stray)


async def test_the_conductor_audits_periodically(audit_mesh: ChaosMesh) -> None:
    log = audit_mesh.home / "logs" / "conductor.log"

    async def summary_logged() -> bool:
        text = await asyncio.to_thread(Path.read_text, log)
        return "audit: " in text

    assert await wait_for(summary_logged, "a periodic audit in the conductor's log", 15)
