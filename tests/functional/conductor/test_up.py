"""`skymesh up` as a user runs it: vhost and database made, schema migrated, the
conductor serving host registration over real RabbitMQ and PostgreSQL; `skymesh down`
stops everything it started."""

from __future__ import annotations

import asyncio
import os
import socket
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
from corebus.launcher import is_alive
from corebus.netports import free_port
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
        "SKYMESH_GATEWAY__PORT": str(free_port()),
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


async def run(env: dict[str, str], *args: str, timeout: float = 60) -> tuple[int, str]:
    proc = await skymesh(env, *args)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def pids(env: dict[str, str]) -> list[int]:
    return [int(p.read_text()) for p in (Path(env["SKYMESH_HOME"]) / "run").glob("*.pid")]


async def test_up_detach_boots_the_demo_and_down_stops_everything(
    up_env: dict[str, str],
) -> None:
    try:
        code, out = await run(up_env, "up", "--detach", timeout=180)
        assert code == 0, out
        assert "applied 0001_initial" in out and "demo server" in out and "ACTIVE" in out
        started = pids(up_env)
        assert len(started) == 8  # conductor, scheduler, gateway, 3 compute, network, storage

        code, out = await run(up_env, "status")
        assert code == 0, out
        for host in ("compute-1", "compute-2", "compute-3", "network-1", "storage-1"):
            assert host in out
        assert out.count(" up ") == 5 and "gone" not in out

        code, out = await run(up_env, "up", "--detach")
        assert code == 1 and "already running" in out  # no second control plane
    finally:
        code, out = await run(up_env, "down")
    assert code == 0, out
    assert not pids(up_env)
    assert not [pid for pid in started if is_alive(pid)]
    code, out = await run(up_env, "status")
    assert code == 1 and "does not answer" in out
    # the database is kept unless asked: a second `up` finds it migrated
    code, out = await run(up_env, "db", "status")
    assert code == 0 and "applied" in out, out


async def test_up_says_at_once_which_process_exited_and_why(up_env: dict[str, str]) -> None:
    """The gateway cannot listen (its port is taken): `up` stops waiting as soon as it exits
    and shows its log, instead of timing out with no reason."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(up_env["SKYMESH_GATEWAY__PORT"])))
        taken.listen()
        try:
            started = time.monotonic()
            code, out = await run(up_env, "up", "--detach", "--no-demo", timeout=180)
            took = time.monotonic() - started
        finally:
            await run(up_env, "down")
    assert code == 1, out
    assert "gateway exited with code 1" in out and "--- last lines of gateway's log ---" in out
    assert "address already in use" in out.lower(), out
    assert took < 100, f"{took:.0f} s: it waited for the timeout"  # `up --timeout` is 120 s


async def test_up_in_the_foreground_stops_on_down(up_env: dict[str, str], amqp_url: str) -> None:
    up = await skymesh(up_env, "up", "--no-demo")
    try:
        await read_until(up, "skymesh is running", 120)
        bus = AmqpBus(amqp_url, name="test-caller")
        await bus.start()
        try:  # an agent restarted elsewhere: the old incarnation's heartbeat is refused
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
        finally:
            await bus.close()
        code, out = await run(up_env, "down")
        assert code == 0, out
        assert await asyncio.wait_for(up.wait(), 60) == 0
        assert not pids(up_env)
    finally:
        if up.returncode is None:  # the test failed: stop the children too, by their PIDs
            await run(up_env, "down")
            up.kill()
            await up.wait()


async def test_conductor_refuses_an_unmigrated_database(up_env: dict[str, str]) -> None:
    await create_database(up_env["SKYMESH_DATABASE__DSN"])
    proc = await skymesh(up_env, "conductor")
    out, _ = await proc.communicate()
    assert proc.returncode == 1
    assert b"skymesh db upgrade" in out
