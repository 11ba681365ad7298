"""RabbitMQ administration through `rabbitmqctl`: per-deployment vhosts, and closing the
connections of one vhost (the broker-drop tests). Never touches other vhosts."""

from __future__ import annotations

import asyncio
import shutil
from urllib.parse import quote, unquote, urlsplit, urlunsplit


class AdminUnavailable(RuntimeError):
    pass


def vhost_of(url: str) -> str:
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))


async def _ctl(*args: str) -> str:
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        raise AdminUnavailable("rabbitmqctl is not on PATH (run as root on the broker's host)")
    proc = await asyncio.create_subprocess_exec(
        exe, "-q", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise AdminUnavailable(f"rabbitmqctl {' '.join(args)}: {err.decode().strip()}")
    return out.decode()


async def list_vhosts() -> list[str]:
    return (await _ctl("list_vhosts", "name")).split()


async def create_vhost(vhost: str, user: str = "guest") -> None:
    """Create `vhost` (if missing) and give `user` every permission on it."""
    if vhost not in await list_vhosts():
        await _ctl("add_vhost", vhost)
    await _ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")


async def delete_vhost(vhost: str) -> None:
    """Delete `vhost` and the per-agent users made for it (corebus/agent_users.py)."""
    if vhost in await list_vhosts():
        await _ctl("delete_vhost", vhost)
    listing = await _ctl("list_users", "--no-table-headers")
    for line in listing.splitlines():
        user = line.split("\t")[0]
        if user.startswith("agent-") and user.endswith(f"@{vhost}"):
            await _ctl("delete_user", user)


async def close_vhost_connections(vhost: str, reason: str = "skymesh test: broker drop") -> int:
    """Close every client connection of `vhost` and no other; returns how many."""
    listing = await _ctl("list_connections", "pid", "vhost")
    pids = []
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) == 2 and fields[1] == vhost:
            pids.append(fields[0])
    for pid in pids:
        try:
            await _ctl("close_connection", pid, reason)
        except AdminUnavailable:
            pass  # it closed by itself meanwhile
    return len(pids)
