"""The real components `skymesh up` brings along for a driver choice.

`skymesh up --network ovn` needs OVS and OVN running, `--hypervisor qemu` needs libvirtd,
`--storage rbd` a Ceph cluster. Each such choice has a Stack: it starts what it needs
under `$SKYMESH_HOME/stack/<name>` (idempotently; an existing deployment named in the
settings is used as it is), gives the agents of each role the options that point them at
it, and stops what it started on `skymesh down`. A choice with no Stack here is refused
with a message.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from corebus import up_stack_dvr, up_stack_ovn, up_stack_qemu, up_stack_rbd
from corebus.launcher import run_dir


class StackError(Exception):
    """A stack could not start; the message says why and what to do."""


class Stack(Protocol):
    name: str

    async def up(self, home: Path) -> None:
        """Start what is missing (idempotent); raise StackError with the reason."""

    def agent_args(self, role: str, host: str) -> tuple[str, ...]:
        """The extra `skymesh agent` options for an agent of `role` named `host`."""

    async def down(self, home: Path) -> None:
        """Stop what `up` started; nothing when nothing runs."""


@dataclass(frozen=True)
class Choice:
    """One driver option of `skymesh up`: the area (hypervisor, network, storage) and
    the driver name."""

    area: str
    driver: str


# Every real driver choice and the factory of its Stack; the fake and test drivers
# need none. Helpers add one line each, below this comment.
STACKS: dict[Choice, Callable[[], Stack]] = {
    Choice("network", "ovn"): lambda: up_stack_ovn.OvnStack(),
    Choice("network", "dvr"): lambda: up_stack_dvr.DvrStack(),
    Choice("storage", "rbd"): lambda: up_stack_rbd.RbdStack(),
    Choice("hypervisor", "qemu"): lambda: up_stack_qemu.QemuStack(),
}


def stack_for(choice: Choice) -> Stack | None:
    factory = STACKS.get(choice)
    return factory() if factory else None


async def run_script(
    script: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> str:
    """Run one of scripts/stack/*.sh (see run_command)."""
    what = f"{script.name} {' '.join(args[:2])}".strip()
    return await run_command("bash", str(script), *args, env=env, timeout=timeout, what=what)


async def run_command(
    *argv: str, env: Mapping[str, str] | None = None, timeout: float = 120, what: str = ""
) -> str:
    """Its stdout, or StackError with the last lines of its stderr (or the time it took
    too long)."""
    what = what or " ".join(argv[:3])
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        out, errors = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise StackError(f"{what} took more than {timeout:g} s") from None
    if proc.returncode != 0:
        tail = "\n".join(errors.decode(errors="replace").strip().splitlines()[-5:])
        raise StackError(f"{what} failed:\n{tail}")
    return out.decode()


def _record(home: Path) -> Path:
    return run_dir(home) / "stacks.json"


def remember(home: Path, choices: list[Choice]) -> None:
    """Note which stacks `up` started, so that `down` stops exactly those."""
    _record(home).write_text(json.dumps([[c.area, c.driver] for c in choices]))


def remembered(home: Path) -> list[Choice]:
    try:
        raw = json.loads(_record(home).read_text())
    except (OSError, ValueError):
        return []
    return [Choice(area, driver) for area, driver in raw]


def forget(home: Path) -> None:
    _record(home).unlink(missing_ok=True)
