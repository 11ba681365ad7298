"""Starting and stopping skymesh's own processes on one machine (`skymesh up`/`down`).

Each process is a `skymesh <command>` child with its output prefixed by its name,
its PID recorded under `$SKYMESH_HOME/run/` so `skymesh down` can stop exactly what
`up` started, and SIGTERM on the way out (the runner's graceful stop)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rich.console import Console
from rich.markup import escape

from corebus.config import config_path

err = Console(stderr=True, highlight=False, soft_wrap=True)
# Children log plain text lines: `up` shows them to a person, prefixed with their name.
CHILD_ENV = {**os.environ, "SKYMESH_LOGGING__JSON": "false"}


# What node agents never get: they hold no database credentials (docs/security.md).
AGENT_HIDDEN_ENV = ("SKYMESH_DATABASE__", "PGPASSWORD", "PGPASSFILE", "PGUSER", "PGHOST")


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    args: tuple[str, ...]  # arguments to `skymesh`
    env: tuple[tuple[str, str], ...] = ()  # this child's own variables (its credentials)

    @property
    def is_agent(self) -> bool:
        return bool(self.args) and self.args[0] in ("agent", "agents")


def agent_env(env: dict[str, str]) -> dict[str, str]:
    """`env` without what could reach the database."""
    return {k: v for k, v in env.items() if not k.startswith(AGENT_HIDDEN_ENV)}


def agent_config(config: Path, home: Path) -> Path:
    """A copy of the settings file without its [database] section, for the agents."""
    import tomllib

    with open(config, "rb") as fh:
        data = tomllib.load(fh)
    data.pop("database", None)
    target = run_dir(home) / "agent-settings.toml"
    target.write_text(_toml(data))
    target.chmod(0o600)
    return target


def _toml(data: dict[str, object], prefix: str = "") -> str:
    """Settings back to TOML (tables of scalars and lists, all skymesh settings use)."""
    import json

    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append(_toml(value, f"{prefix}{key}."))
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    head = f"[{prefix.rstrip('.')}]\n" if prefix and lines else ""
    return head + "".join(f"{line}\n" for line in lines) + "".join(tables)


def run_dir(home: Path) -> Path:
    path = home / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Launcher:
    def __init__(
        self, home: Path, config: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.home = home
        self.config = config
        self.env = {**CHILD_ENV, **(env or {})}
        self.children: dict[str, asyncio.subprocess.Process] = {}
        self._pumps: list[asyncio.Task[None]] = []

    def _argv(self, spec: ProcessSpec) -> list[str]:
        argv = [sys.executable, "-m", "corebus.cli"]
        source = config_path(self.config)  # also $SKYMESH_CONFIG, $SKYMESH_HOME/skymesh.toml
        if spec.is_agent and source is not None and source.exists():
            argv += ["--config", str(agent_config(source, self.home))]
        elif self.config:
            argv += ["--config", self.config]
        return [*argv, *spec.args]

    def _env(self, spec: ProcessSpec) -> dict[str, str]:
        env = agent_env(self.env) if spec.is_agent else self.env
        return {**env, **dict(spec.env)}

    async def run_once(self, spec: ProcessSpec) -> int:
        """Run a short command to completion, its output shown with its name."""
        proc = await asyncio.create_subprocess_exec(
            *self._argv(spec),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=self._env(spec),
        )
        await self._pump(spec.name, proc)
        return await proc.wait()

    async def start(self, spec: ProcessSpec, *, detach: bool = False) -> asyncio.subprocess.Process:
        """Start `skymesh <args>`: its output shown here, or, detached, written to
        `$SKYMESH_HOME/logs/<name>.log` in a session of its own that outlives `up`."""
        if detach:
            log_file = await asyncio.to_thread(self._log_file, spec.name)
            with log_file:
                proc = await asyncio.create_subprocess_exec(
                    *self._argv(spec),
                    stdout=log_file,
                    stderr=asyncio.subprocess.STDOUT,
                    stdin=asyncio.subprocess.DEVNULL,
                    env=self._env(spec),
                    start_new_session=True,
                )
        else:
            proc = await asyncio.create_subprocess_exec(
                *self._argv(spec),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=self._env(spec),
            )
            self._pumps.append(asyncio.create_task(self._pump(spec.name, proc)))
        self.children[spec.name] = proc
        (run_dir(self.home) / f"{spec.name}.pid").write_text(str(proc.pid))
        return proc

    def _log_file(self, name: str) -> BinaryIO:
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        return open(logs / f"{name}.log", "ab")  # the caller closes it

    async def _pump(self, name: str, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            text = escape(line.decode(errors="replace").rstrip())
            err.print(f"[cyan]{name:>10}[/] | {text}", soft_wrap=True)

    async def wait_any(self) -> str:
        """Wait until one child exits; returns its name."""
        waits = {asyncio.create_task(p.wait()): n for n, p in self.children.items()}
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        return waits[done.pop()]

    async def first_exit(self) -> tuple[str, int]:
        """The name and exit code of the first child to exit."""
        name = await self.wait_any()
        return name, self.children[name].returncode or 0

    async def stop_all(self, grace: float = 15.0) -> None:
        for proc in self.children.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for name, proc in self.children.items():
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                err.print(f"[yellow]{name} did not stop within {grace:.0f}s: killing it[/]")
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            (run_dir(self.home) / f"{name}.pid").unlink(missing_ok=True)
        for pump in self._pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(pump, 2)


def stop_recorded(home: Path, grace: float = 15.0) -> list[str]:
    """`skymesh down`: SIGTERM every process `up` recorded, then SIGKILL stragglers."""
    import time

    stopped = []
    # `up` first: it stops its own children gracefully; then whatever is left.
    pidfiles = sorted(run_dir(home).glob("*.pid"), key=lambda p: (p.stem != "up", p.stem))
    for pidfile in pidfiles:
        if not pidfile.exists():
            continue  # `up` removed it while stopping its children
        pid = int(pidfile.read_text().strip() or 0)
        if pid <= 0:
            pidfile.unlink(missing_ok=True)
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            stopped.append(pidfile.stem)
        deadline = time.monotonic() + grace
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if is_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)
    return stopped


def recorded(home: Path) -> list[tuple[str, int, bool]]:
    """(name, pid, alive) of every process `up` recorded."""
    found = []
    for pidfile in sorted(run_dir(home).glob("*.pid")):
        pid = int(pidfile.read_text().strip() or 0)
        found.append((pidfile.stem, pid, pid > 0 and is_alive(pid)))
    return found


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of someone else still answers kill(0): look at its state
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return False
