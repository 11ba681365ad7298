"""TLS with a CA the test makes: the gateway serves HTTPS that a client trusting the
CA reaches (and one that does not, or that speaks plain HTTP, does not); the bus
talks AMQPS to a private RabbitMQ node with a TLS listener, verifying the broker's
certificate against the CA (and refusing a broker the CA did not sign)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from corebus.amqp.bus import AmqpBus
from corebus.client import ping
from corebus.config import load_settings
from corebus.netports import free_port
from corebus.service import ServiceRunner, rpc
from corebus.tls import amqps_url, client_context
from gateway.main import run_gateway
from schemas.messages.conductor_hosts import ListHosts
from tests.functional.security.certs import Pki, make_pki

pytestmark = pytest.mark.functional

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")


async def _get(url: str, context: ssl.SSLContext | bool) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, ssl=context, timeout=aiohttp.ClientTimeout(total=10)) as answer,
    ):
        return answer.status


async def test_the_gateway_serves_https(tmp_path: Path) -> None:
    pki = await asyncio.to_thread(make_pki, tmp_path / "pki")
    port = free_port()
    settings = load_settings(
        None,
        home=tmp_path,
        gateway={"port": port, "tls_cert": str(pki.cert), "tls_key": str(pki.key)},
    )
    assert settings.gateway.base_url == f"https://127.0.0.1:{port}"
    served = asyncio.create_task(run_gateway(settings, transport="memory"))
    try:
        trusted = client_context(str(pki.ca))
        url = f"https://127.0.0.1:{port}/openapi.json"
        for _ in range(100):
            with contextlib.suppress(aiohttp.ClientConnectorError):
                assert await _get(url, trusted) == 200
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the gateway never answered over HTTPS")
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await _get(url, client_context(str((await _other_ca(tmp_path)).ca)))
        with pytest.raises(aiohttp.ClientError):  # plain HTTP to a TLS port
            await _get(f"http://127.0.0.1:{port}/openapi.json", False)
    finally:
        served.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await served


async def _other_ca(tmp_path: Path) -> Pki:
    return await asyncio.to_thread(make_pki, tmp_path / "other", "another CA")


class Echo:
    name = f"echo{uuid.uuid4().hex[:6]}"

    @rpc
    async def list_hosts(self, ctx: object, req: ListHosts) -> None:
        return None


@pytest.fixture
async def tls_broker(tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    """A private RabbitMQ node with only a TLS listener; stopped and removed after."""
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        pytest.fail("RabbitMQ is not installed (scripts/stack installs it)")
    pki = await asyncio.to_thread(make_pki, tmp_path / "pki")
    base = tmp_path / "rabbit"
    base.mkdir()
    tls_port, node_port, dist_port = free_port(), free_port(), free_port()
    node = f"skymesh-tls-{uuid.uuid4().hex[:6]}@localhost"
    (base / "rabbitmq.conf").write_text(
        "listeners.tcp = none\n"
        f"listeners.ssl.default = {tls_port}\n"
        f"ssl_options.cacertfile = {pki.ca}\n"
        f"ssl_options.certfile = {pki.cert}\n"
        f"ssl_options.keyfile = {pki.key}\n"
        "ssl_options.verify = verify_none\n"
        "ssl_options.fail_if_no_peer_cert = false\n"
    )
    (base / "enabled_plugins").write_text("[].\n")
    cookie = base / ".erlang.cookie"
    cookie.write_text(secrets.token_hex(16))
    cookie.chmod(0o400)
    env = {
        **os.environ,
        "HOME": str(base),  # its own Erlang cookie, shared with the rabbitmqctl below
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_PORT": str(node_port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
    }
    server = await asyncio.create_subprocess_exec(
        str(RABBIT_BIN / "rabbitmq-server"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    ctl = str(RABBIT_BIN / "rabbitmqctl")
    try:
        await _await_startup(ctl, node, env, server, base)
        yield tls_port, pki.ca
    finally:
        stop = await asyncio.create_subprocess_exec(
            ctl,
            "-n",
            node,
            "stop",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 60)
        if server.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, 9)  # its session: the Erlang VM and epmd children
            await server.wait()
        shutil.rmtree(base, ignore_errors=True)


def _logs(base: Path) -> str:
    return "".join(p.read_text(errors="replace")[-2000:] for p in base.glob("log/*.log"))


async def _await_startup(
    ctl: str, node: str, env: dict[str, str], server: asyncio.subprocess.Process, base: Path
) -> None:
    """Until the node answers (it registers with epmd a few seconds after start)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while True:
        wait = await asyncio.create_subprocess_exec(
            ctl,
            "-n",
            node,
            "await_startup",
            "--timeout",
            "60",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await wait.communicate()
        if wait.returncode == 0:
            return
        if server.returncode is not None:
            logs = await asyncio.to_thread(_logs, base)
            pytest.fail(f"the private RabbitMQ exited: {logs}")
        assert loop.time() < deadline, f"the private RabbitMQ did not start: {err.decode()}"
        await asyncio.sleep(1)


async def test_the_bus_speaks_amqps(tls_broker: tuple[int, Path], tmp_path: Path) -> None:
    port, ca = tls_broker
    url = amqps_url(f"amqp://guest:guest@localhost:{port}/", str(ca))
    assert url.startswith(f"amqps://guest:guest@localhost:{port}/?cafile=")
    server, caller = AmqpBus(url, name="tls-a"), AmqpBus(url, name="tls-b")
    await server.start()
    await caller.start()
    runner = ServiceRunner(server, [Echo()])
    try:
        await runner.start()
        assert await ping(caller, Echo.name, timeout=10)
    finally:
        await runner.stop()
        await caller.close()
        await server.close()
    # a client that trusts another CA does not get through
    other = await asyncio.to_thread(make_pki, tmp_path / "other", "another CA")
    refused = AmqpBus(
        amqps_url(f"amqp://guest:guest@localhost:{port}/", str(other.ca)),
        name="tls-c",
        publish_timeout=3.0,
    )
    with pytest.raises(Exception):  # noqa: B017 - the TLS handshake fails, however it says so
        await refused.start()
    await refused.close()
