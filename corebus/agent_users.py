"""One RabbitMQ user per node agent, allowed only what that agent does.

`agent-<host>@<vhost>` may declare and consume only its own queues (`rpc|cast.node_agent.<host>`,
its roles' shared queues, its reply queue), publish facts on `skymesh.events` only
under its own host's routing keys (`<role>.<host>.<fact>`, a topic permission the
broker enforces: anything else closes the channel with ACCESS_REFUSED), and call only
the conductor methods an agent needs (`register_host`, `heartbeat`).

Users are created through `rabbitmqctl import_definitions -` with a salted SHA-256
password hash on its standard input, so the password never appears on a command line
(`rabbitmqctl add_user` would show it to `ps`) nor in a file.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import orjson

from corebus.amqp.admin import AdminUnavailable, _ctl, vhost_of
from schemas.messages.facts import FACTS

ROLES = ("compute", "network", "storage")
AGENT_CALLS = ("conductor.register_host", "conductor.heartbeat")
EXCHANGES = ("rpc", "cast", "events", "notifications", "api", "dlx")


def user_name(host: str, vhost: str) -> str:
    """RabbitMQ users are global: the vhost in the name keeps deployments apart."""
    return f"agent-{host}@{vhost}"


def _alt(words: Iterable[str]) -> str:
    return "(" + "|".join(re.escape(w) for w in words) + ")"


@dataclass(frozen=True)
class Permissions:
    configure: str
    write: str
    read: str
    topics: dict[str, tuple[str, str]]  # exchange -> (write, read) routing-key regexes


def permissions(host: str, roles: Iterable[str] = ROLES) -> Permissions:
    """What the agent on `host` may do on its vhost (RabbitMQ regexes)."""
    h = re.escape(host)
    names = [f"node_agent.{host}", *(f"node_agent.{r}" for r in roles)]
    queues = f"(rpc|cast)\\.{_alt(names)}|reply\\.node_agent@{h}\\.[0-9a-f]+"
    exchanges = f"skymesh\\.{_alt(EXCHANGES)}"
    facts = _alt(sorted(FACTS))
    calls = f"^{_alt(AGENT_CALLS)}$"
    return Permissions(
        configure=f"^({exchanges}|skymesh\\.dead-letters|{queues})$",
        write=f"^(skymesh\\.(rpc|cast|events|dlx)|amq\\.default|skymesh\\.dead-letters|{queues})$",
        read=f"^(skymesh\\.(rpc|cast|dlx)|{queues})$",
        topics={
            "skymesh.events": (f"^{_alt(ROLES)}\\.{h}\\.{facts}$", "^$"),
            "skymesh.rpc": (calls, ".*"),
            "skymesh.cast": (calls, ".*"),
        },
    )


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + pw))."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(vhost: str, host: str, password: str, roles: Iterable[str] = ROLES) -> bytes:
    user = user_name(host, vhost)
    perms = permissions(host, roles)
    return orjson.dumps(
        {
            "users": [
                {
                    "name": user,
                    "password_hash": password_hash(password),
                    "hashing_algorithm": "rabbit_password_hashing_sha256",
                    "tags": "",
                }
            ],
            "permissions": [
                {
                    "user": user,
                    "vhost": vhost,
                    "configure": perms.configure,
                    "write": perms.write,
                    "read": perms.read,
                }
            ],
            "topic_permissions": [
                {"user": user, "vhost": vhost, "exchange": ex, "write": w, "read": r}
                for ex, (w, r) in perms.topics.items()
            ],
        }
    )


async def ensure_agent_user(
    vhost: str, host: str, password: str | None = None, roles: Iterable[str] = ROLES
) -> str:
    """Create (or reset) `agent-<host>@<vhost>` with its permissions; its password."""
    password = password or secrets.token_urlsafe(24)
    data = definitions(vhost, host, password, roles)
    await _ctl_stdin(data, "import_definitions", "--format", "json")
    return password


async def _ctl_stdin(data: bytes, *args: str) -> None:
    """`rabbitmqctl <args>` reading `data` on its standard input."""
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        raise AdminUnavailable("rabbitmqctl is not on PATH (run as root on the broker's host)")
    proc = await asyncio.create_subprocess_exec(
        exe,
        "-q",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate(data)
    if proc.returncode != 0:
        raise AdminUnavailable(f"rabbitmqctl {' '.join(args)}: {err.decode().strip()}")


async def _users() -> set[str]:
    listing = await _ctl("list_users", "--no-table-headers")
    return {line.split("\t")[0] for line in listing.splitlines() if line}


async def delete_agent_user(vhost: str, host: str) -> None:
    if user_name(host, vhost) in await _users():
        await _ctl("delete_user", user_name(host, vhost))


async def delete_agent_users(vhost: str) -> list[str]:
    """Remove every agent user of `vhost` (`skymesh down`); their names."""
    gone = sorted(u for u in await _users() if u.startswith("agent-") and u.endswith(f"@{vhost}"))
    for user in gone:
        await _ctl("delete_user", user)
    return gone


def agent_url(url: str, host: str, password: str) -> str:
    """`url` (the deployment's broker URL) with the agent's own credentials."""
    parts = urlsplit(url)
    netloc = parts.hostname or "localhost"
    if parts.port:
        netloc += f":{parts.port}"
    user = user_name(host, vhost_of(url))
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return urlunsplit(parts._replace(netloc=f"{auth}@{netloc}"))
