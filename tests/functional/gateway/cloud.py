"""A whole cloud in one process for the gateway's tests: the real conductor on a real
PostgreSQL database (seeded as `skymesh up` seeds it), the real scheduler, node agents
with fake drivers (three computes, a network and a storage host), all on the in-memory
bus, and the gateway listening on a real port so that openstacksdk and the `openstack`
CLI can drive it from outside the process."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from conductor.db.pool import open_pool
from conductor.db.queries import identity
from conductor.main import conductor_services
from conductor.passwords import hash_password
from conductor.seed import seed
from corebus.client import Client
from corebus.config import Settings, load_settings
from corebus.memory import InMemoryBus
from corebus.service import ServiceRunner
from gateway.app import build_app
from node_agent.agent import NodeAgent
from node_agent.config import AgentConfig
from scheduler.conductor_api import BusConductor
from scheduler.config import SchedulerSettings
from scheduler.service import Scheduler
from schemas.messages.conductor_hosts import ListHosts, ListHostsReply
from schemas.placement import HostRole

COMPUTES = ("compute-1", "compute-2", "compute-3")


@dataclass
class Account:
    """A user with a role on a project, and a token for it."""

    user_id: uuid.UUID
    user_name: str
    password: str
    project_id: uuid.UUID
    project_name: str
    role: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any

    def __repr__(self) -> str:  # shows up in assertion messages
        return f"<{self.status} {self.body!r}>"


@dataclass
class Cloud:
    url: str
    settings: Settings
    bus: InMemoryBus
    pool: Any
    http: aiohttp.ClientSession
    agents: dict[str, NodeAgent]
    admin: Account
    demo: Account
    accounts: list[Account] = field(default_factory=list)

    async def request(
        self,
        method: str,
        path: str,
        who: Account | None = None,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
    ) -> Answer:
        """`method path` as `who` (no token when None); the JSON body decoded if any."""
        sent = dict(who.headers if who else {})
        sent.update(headers or {})
        async with self.http.request(
            method, self.url + path, json=json, data=data, headers=sent
        ) as response:
            raw = await response.read()
            try:
                decoded: Any = await response.json(content_type=None) if raw else None
            except ValueError:
                decoded = raw.decode(errors="replace")
            return Answer(response.status, decoded, response.headers)

    async def login(self, account: Account) -> Account:
        answer = await self.request(
            "POST",
            "/identity/v3/auth/tokens",
            json={
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {
                                "name": account.user_name,
                                "domain": {"id": "default"},
                                "password": account.password,
                            }
                        },
                    },
                    "scope": {"project": {"id": str(account.project_id)}},
                }
            },
        )
        assert answer.status == 201, answer
        account.token = answer.headers["X-Subject-Token"]
        return account

    async def new_account(self, role: str = "member", project: str | None = None) -> Account:
        """A fresh user with `role` on a fresh (or the named) project, logged in."""
        suffix = uuid.uuid4().hex[:8]
        password = f"pw-{suffix}"
        async with self.pool.acquire() as conn:
            if project is None:
                row = await identity.create_project(conn, f"project-{suffix}")
            else:
                row = await identity.ensure_project(conn, project)
            user = await identity.create_user(
                conn, f"user-{suffix}", hash_password(password), default_project_id=row["id"]
            )
            await identity.assign_role(conn, user["id"], row["id"], role)
        account = Account(user["id"], user["name"], password, row["id"], row["name"], role)
        return await self.login(account)

    async def wait_for(
        self,
        path: str,
        who: Account,
        key: str,
        done: Any,
        timeout: float = 15.0,
    ) -> dict[str, Any]:
        """Poll `GET path` until `done(body[key])` holds (or the answer is 404 when
        `done` is None); the last body."""
        deadline = time.monotonic() + timeout
        while True:
            answer = await self.request("GET", path, who)
            if done is None and answer.status == 404:
                return {}
            if answer.status == 200 and done is not None and done(answer.body[key]):
                result: dict[str, Any] = answer.body[key]
                return result
            assert time.monotonic() < deadline, f"{path} never got there: {answer}"
            await asyncio.sleep(0.05)


async def _hosts_up(client: Client, names: set[str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        reply = await client.call("conductor.list_hosts", ListHosts(), ListHostsReply)
        if names <= {h.name for h in reply.hosts if h.is_up}:
            return
        assert time.monotonic() < deadline, "the agents never registered"
        await asyncio.sleep(0.05)


def agent_configs(state: Path) -> list[AgentConfig]:
    configs = [
        AgentConfig(host=name, roles=frozenset({HostRole.COMPUTE}), state_dir=state / name)
        for name in COMPUTES
    ]
    configs.append(
        AgentConfig("network-1", frozenset({HostRole.NETWORK}), state_dir=state / "network-1")
    )
    configs.append(
        AgentConfig("storage-1", frozenset({HostRole.STORAGE}), state_dir=state / "storage-1")
    )
    return configs


@asynccontextmanager
async def running_cloud(dsn: str, home: Path, **conductor: Any) -> AsyncIterator[Cloud]:
    settings = load_settings(
        None,
        home=home,
        database={"dsn": dsn},
        conductor={"sweep_interval_s": 0.2, "image_dir": str(home / "images"), **conductor},
        gateway={"port": 0, "token_cache_s": 0.5},
    )
    bus = InMemoryBus()
    async with open_pool(settings.database) as pool:
        async with pool.acquire() as conn:
            await seed(conn, home / "images")
        agents = {c.host: NodeAgent(c, bus) for c in agent_configs(home / "agents")}
        scheduler = Scheduler(BusConductor(Client(bus), timeout=10), SchedulerSettings())
        runners = [ServiceRunner(bus, [*conductor_services(pool, bus, settings), scheduler])]
        runners += [ServiceRunner(bus, agent.services()) for agent in agents.values()]
        for runner in runners:
            await runner.start()
        app_runner: web.AppRunner | None = None
        try:
            await _hosts_up(Client(bus), set(agents))
            app_runner, url = await _serve(settings, bus)
            async with aiohttp.ClientSession() as http:
                admin = Account(uuid.uuid4(), "admin", "admin", uuid.uuid4(), "admin", "admin")
                demo = Account(uuid.uuid4(), "demo", "demo", uuid.uuid4(), "demo", "member")
                cloud = Cloud(url, settings, bus, pool, http, agents, admin, demo)
                async with pool.acquire() as conn:
                    for account in (admin, demo):
                        user = await identity.get_user_by_name(conn, account.user_name)
                        project = await identity.get_project_by_name(conn, account.project_name)
                        assert user and project
                        account.user_id, account.project_id = user["id"], project["id"]
                        await cloud.login(account)
                yield cloud
        finally:
            if app_runner is not None:
                await app_runner.cleanup()
            for runner in reversed(runners):
                await runner.stop()


async def _serve(settings: Settings, bus: InMemoryBus) -> tuple[web.AppRunner, str]:
    """Listen on a free port; the app learns its public URL once the port is known."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app_runner = web.AppRunner(build_app(settings.gateway, bus, url), access_log=None)
    await app_runner.setup()
    await web.SockSite(app_runner, sock).start()
    return app_runner, url
