"""What `skymesh up` does for security before it starts the processes: a fact-signing
master secret for the deployment (kept in `$SKYMESH_HOME/secrets/`, readable by its
owner only), one RabbitMQ user per agent with a fresh password, and the environment
each child gets: the conductor the master secret, each agent its own broker URL and
its own signing key, and no agent anything that reaches the database
(corebus/launcher.py)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Any

from corebus.agent_users import agent_url, delete_agent_users, ensure_agent_user
from corebus.amqp.admin import AdminUnavailable, vhost_of
from corebus.config import Settings
from corebus.launcher import ProcessSpec, err
from corebus.signing import agent_key, new_master_key

MASTER_KEY_FILE = "fact-master.key"


def master_key(home: Path) -> str:
    """The deployment's master secret: made once, then read back."""
    secrets_dir = home / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir.chmod(0o700)
    path = secrets_dir / MASTER_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = new_master_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def _option(args: tuple[str, ...], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args[:-1] else None


async def secure(
    specs: list[ProcessSpec], settings: Settings, agent_users: bool = True
) -> list[ProcessSpec]:
    """`specs` with each child's credentials in its own environment."""
    master = settings.amqp.fact_master_key or master_key(settings.home)
    vhost = vhost_of(settings.amqp.url)
    secured = []
    for spec in specs:
        env: dict[str, str] = dict(spec.env)
        if spec.args[:1] == ("conductor",):
            env["SKYMESH_AMQP__FACT_MASTER_KEY"] = master
        host = _option(spec.args, "--host") if spec.args[:1] == ("agent",) else None
        if host is not None:
            env["SKYMESH_AMQP__FACT_KEY"] = agent_key(master, host).hex()
            roles = (_option(spec.args, "--roles") or "compute").split(",")
            if agent_users:
                try:
                    password = await ensure_agent_user(vhost, host, roles=roles)
                    env["SKYMESH_AMQP__URL"] = agent_url(settings.amqp.url, host, password)
                except AdminUnavailable as exc:
                    err.print(f"[yellow]no RabbitMQ user for {host} ({exc}): shared user[/]")
        secured.append(dataclasses.replace(spec, env=tuple(env.items())))
    return secured


async def forget_agent_users(settings: Settings) -> None:
    """`skymesh down`: the agents' users go with the processes."""
    try:
        await delete_agent_users(vhost_of(settings.amqp.url))
    except AdminUnavailable:
        pass


def register(commands: Any) -> None:
    """`skymesh agent-credentials`: what an agent on another machine needs."""
    creds = commands.add_parser(
        "agent-credentials",
        help="create an agent's RabbitMQ user and print its broker URL and fact key",
    )
    creds.add_argument("--host", required=True, help="the agent's host name")
    creds.add_argument("--roles", default="compute", help="comma-separated roles")
    creds.set_defaults(func=run_agent_credentials)


def run_agent_credentials(args: argparse.Namespace, settings: Settings) -> int:
    """Prints `SKYMESH_AMQP__URL=...` and `SKYMESH_AMQP__FACT_KEY=...` for the agent's
    environment file (a new password each time: the old one stops working)."""
    master = settings.amqp.fact_master_key or master_key(settings.home)
    try:
        password = asyncio.run(
            ensure_agent_user(vhost_of(settings.amqp.url), args.host, roles=args.roles.split(","))
        )
    except AdminUnavailable as exc:
        err.print(f"[red]could not create the RabbitMQ user: {exc}[/]")
        return 1
    print(f"SKYMESH_AMQP__URL={agent_url(settings.amqp.url, args.host, password)}")
    print(f"SKYMESH_AMQP__FACT_KEY={agent_key(master, args.host).hex()}")
    return 0
