"""The real `openstack` CLI against the in-process cloud, as one of its accounts."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.functional.gateway.cloud import Account, Cloud

OPENSTACK = Path(sys.executable).parent / "openstack"


async def openstack(cloud: Cloud, who: Account, *args: str, timeout: float = 90) -> str:
    """Run `openstack <args>` as `who`; its stdout (the test fails on a non-zero exit)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    auth = {
        "auth-url": f"{cloud.url}/identity/v3",
        "username": who.user_name,
        "password": who.password,
        "project-name": who.project_name,
        "user-domain-name": "Default",
        "project-domain-name": "Default",
        "identity-api-version": "3",
    }
    options = [part for key, value in auth.items() for part in (f"--os-{key}", value)]
    proc = await asyncio.create_subprocess_exec(
        str(OPENSTACK),
        *options,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, f"openstack {' '.join(args)} failed: {err.decode()}"
    return out.decode()


Run = Callable[..., Awaitable[Any]]


def cli_as(account: str) -> tuple[Run, Run]:
    """(`openstack(cloud, *args)`, `as_json(cloud, *args)`) run as the cloud's `admin` or
    `demo` account."""

    async def run(cloud: Cloud, *args: str, timeout: float = 90) -> str:
        return await openstack(cloud, getattr(cloud, account), *args, timeout=timeout)

    async def as_json(cloud: Cloud, *args: str) -> Any:
        return json.loads(await run(cloud, *args, "-f", "json"))

    return run, as_json
