"""A deployment of real skymesh processes on a database and a vhost of its own, and the
`skymesh` command run against it (the mesh and chaos tests start one each)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path


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
