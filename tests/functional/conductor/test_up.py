"""`skymesh up` as a user runs it: vhost and database made, schema migrated, the
conductor serving host registration over real RabbitMQ and PostgreSQL; `skymesh down`
stops everything it started."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conductor.db.admin import create_database, drop_database
from corebus.amqp.bus import AmqpBus
from corebus.client import Client
from corebus.envelope import Kind, envelope_for
from schemas.errors import NotFound
from schemas.messages.conductor_hosts import Heartbeat, RegisterHost, RegisterHostReply
from schemas.placement import HostRole

pytestmark = pytest.mark.functional


@pytest.fixture
async def up_env(pg_dsn: str, amqp_url: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    dsn = f"{pg_dsn}_up{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "SKYMESH_HOME": str(tmp_path),
        "SKYMESH_DATABASE__DSN": dsn,
        "SKYMESH_AMQP__URL": amqp_url,
        "SKYMESH_CONDUCTOR__STATUS_LOG_INTERVAL_S": "0.5",
    }
    env.pop("SKYMESH_CONFIG", None)
    try:
        yield env
    finally:
        await drop_database(dsn)


async def skymesh(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "corebus.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def read_until(proc: asyncio.subprocess.Process, text: str, timeout: float) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} not seen; output so far:\n" + "\n".join(lines)
        line = await asyncio.wait_for(proc.stdout.readline(), left)
        assert line, "process ended early:\n" + "\n".join(lines)
        lines.append(line.decode().rstrip())
        if text in lines[-1]:
            return lines


async def test_up_serves_hosts_and_down_stops_it(up_env: dict[str, str], amqp_url: str) -> None:
    up = await skymesh(up_env, "up")
    try:
        lines = await read_until(up, "waiting for node agents", 60)
        assert any("applied 0001_initial" in line for line in lines)

        bus = AmqpBus(amqp_url, name="test-agent")
        await bus.start()
        try:
            incarnation = uuid.uuid4()
            reply = await Client(bus).call(
                "conductor.register_host",
                RegisterHost(
                    name="cmp-test",
                    incarnation=incarnation,
                    roles=frozenset({HostRole.NETWORK}),
                    agent_version="test",
                    started_at=datetime.now(UTC),
                ),
                RegisterHostReply,
            )
            beat = Heartbeat(
                host_id=reply.host_id,
                name="cmp-test",
                incarnation=incarnation,
                sequence=1,
                sent_at=datetime.now(UTC),
            )
            answer = await bus.call("conductor.heartbeat", envelope_for(beat, Kind.CALL))
            assert answer.kind is Kind.REPLY
            stranger = beat.model_copy(update={"incarnation": uuid.uuid4(), "sequence": 2})
            with pytest.raises(NotFound, match="register again"):
                await bus.call("conductor.heartbeat", envelope_for(stranger, Kind.CALL))
            await read_until(up, "1 host(s) up (cmp-test)", 20)
        finally:
            await bus.close()

        status = await skymesh(up_env, "status")
        out, _ = await status.communicate()
        assert status.returncode == 0, out
        assert b"conductor" in out and b"running" in out
        assert b"cmp-test" in out and b"network" in out and b" up " in out

        down = await skymesh(up_env, "down")
        out, _ = await down.communicate()
        assert down.returncode == 0, out
        assert await asyncio.wait_for(up.wait(), 30) == 0
        assert not list((Path(up_env["SKYMESH_HOME"]) / "run").glob("*.pid"))
        status = await skymesh(up_env, "status")
        out, _ = await status.communicate()
        assert status.returncode == 1 and b"does not answer" in out, out
        # the database is kept unless asked: a second `up` finds it migrated
        status = await skymesh(up_env, "db", "status")
        out, _ = await status.communicate()
        assert status.returncode == 0 and b"applied" in out, out
    finally:
        if up.returncode is None:
            up.kill()
            await up.wait()


async def test_conductor_refuses_an_unmigrated_database(up_env: dict[str, str]) -> None:
    await create_database(up_env["SKYMESH_DATABASE__DSN"])
    proc = await skymesh(up_env, "conductor")
    out, _ = await proc.communicate()
    assert proc.returncode == 1
    assert b"skymesh db upgrade" in out
