"""The fake hypervisor's out-of-band control channel, for tests and operators.

A running FakeHypervisor listens on a Linux abstract unix socket named after its state
directory (`\\0skymesh-fake-hypervisor-<sha1 of the resolved path>`: no file to clean
up, no path-length limit). The protocol is one JSON line each way:

    -> {"op": "destroy", "instance_id": "..."}      op: destroy crash pause resume start undefine
    <- {"ok": true}  or  {"ok": false, "error": "..."}

When no driver listens (the agent is down), `send()` edits the state file directly under
its lock, as if the change had happened while nobody watched; the agent sees it in its
next snapshot.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from node_agent.drivers.errors import DriverError
from node_agent.drivers.hypervisor.fake_state import STATE_FILE, out_of_band
from node_agent.state_file import JsonStateFile

log = logging.getLogger(__name__)

Handler = Callable[[str, str], Awaitable[None]]


def socket_name(state_dir: Path) -> str:
    digest = hashlib.sha1(str(state_dir.resolve()).encode()).hexdigest()[:20]
    return f"\0skymesh-fake-hypervisor-{digest}"


async def serve(state_dir: Path, handler: Handler) -> asyncio.AbstractServer:
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = orjson.loads(await reader.readline())
            await handler(str(request["op"]), str(request["instance_id"]))
            answer: dict[str, object] = {"ok": True}
        except (DriverError, KeyError, ValueError, TypeError) as exc:
            answer = {"ok": False, "error": str(exc)}
        writer.write(orjson.dumps(answer) + b"\n")
        await writer.drain()
        writer.close()

    return await asyncio.start_unix_server(on_client, path=socket_name(state_dir))


async def send(state_dir: Path, op: str, instance_id: str) -> str:
    """Apply `op` to the domain: through the running driver ("live"), or to the state
    file when no driver runs ("offline"). Raises DriverError when the op fails."""
    try:
        reader, writer = await asyncio.open_unix_connection(path=socket_name(state_dir))
    except (ConnectionRefusedError, FileNotFoundError):
        _offline(state_dir, op, instance_id)
        return "offline"
    try:
        writer.write(orjson.dumps({"op": op, "instance_id": instance_id}) + b"\n")
        await writer.drain()
        answer = orjson.loads(await reader.readline())
    finally:
        writer.close()
    if not answer.get("ok"):
        raise DriverError(str(answer.get("error")))
    return "live"


def _offline(state_dir: Path, op: str, instance_id: str) -> None:
    state = JsonStateFile(state_dir / STATE_FILE)
    with state.locked():
        data = state.load()
        domains = data.setdefault("domains", {})
        out_of_band(domains, op, instance_id)
        state.save(data)
