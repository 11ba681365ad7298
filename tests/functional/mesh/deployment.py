"""A deployment of real skymesh processes on a database and a vhost of its own, and the
`skymesh` command run against it (the mesh and chaos tests start one each)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from conductor.db.admin import drop_database
from corebus.amqp.admin import create_vhost, delete_vhost, vhost_of, with_vhost
from corebus.netports import free_port
from tests.conftest import run_sync


@dataclass(frozen=True)
class Deployment:
    env: dict[str, str]
    dsn: str
    amqp_url: str
    home: Path
    up_output: str = ""

    async def skymesh(self, *args: str, timeout: float = 120) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "corebus.cli",
            *args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        assert proc.returncode is not None
        return proc.returncode, out.decode()


D = TypeVar("D", bound=Deployment)


@contextmanager
def deployed(
    kind: type[D],
    pg_dsn: str,
    amqp_url: str,
    home: Path,
    name: str,
    up_args: tuple[str, ...],
    settings: dict[str, str] | None = None,
) -> Iterator[D]:
    """`skymesh up --detach <up_args>` with `settings` on a fresh database and vhost named
    from `name`; `down` (which stops the stacks `up` started too), dropped and deleted at
    the end."""
    suffix = uuid.uuid4().hex[:6]
    dsn = f"{pg_dsn}_{name}{suffix}"
    vhost = f"{vhost_of(amqp_url)}_{name}{suffix}"
    url = with_vhost(amqp_url, vhost)
    run_sync(create_vhost(vhost))
    env = {
        **os.environ,
        **(settings or {}),
        "SKYMESH_HOME": str(home),
        "SKYMESH_DATABASE__DSN": dsn,
        "SKYMESH_AMQP__URL": url,
        "SKYMESH_GATEWAY__PORT": str(free_port()),
    }
    env.pop("SKYMESH_CONFIG", None)
    mesh = kind(env, dsn, url, home)
    try:
        code, out = run_sync(mesh.skymesh("up", "--detach", *up_args, timeout=240))
        assert code == 0, out
        yield dataclasses.replace(mesh, up_output=out)
    finally:
        code, out = run_sync(mesh.skymesh("down"))
        run_sync(drop_database(dsn))
        run_sync(delete_vhost(vhost))
    assert code == 0, out


OPENSTACK = str(Path(sys.executable).with_name("openstack"))


def exports(deployment: Deployment) -> dict[str, str]:
    """The `export NAME=value` lines `skymesh up` printed."""
    found = dict(re.findall(r"^export (OS_[A-Z_]+)=(.+)$", deployment.up_output, re.M))
    assert set(found) == {"OS_CLIENT_CONFIG_FILE", "OS_CLOUD"}, deployment.up_output
    return found


async def openstack(deployment: Deployment, *args: str, cloud: str | None = None) -> Any:
    """Run `openstack <args>` as the printed exports configure it; the JSON output for
    commands given `-f json`, else the text."""
    env = {**deployment.env, **exports(deployment)}
    if cloud:
        env["OS_CLOUD"] = cloud
    proc = await asyncio.create_subprocess_exec(
        OPENSTACK,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, f"openstack {' '.join(args)}:\n{err.decode()}{out.decode()}"
    text = out.decode()
    return json.loads(text) if "json" in args else text
