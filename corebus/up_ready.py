"""How `skymesh up` knows the control plane is ready, and says what is missing when not.

`Readiness.wait` waits, in order, for the conductor and the scheduler to answer, for every
agent `up` started to be registered and up, for the HTTP gateway, and for the demo server
to be ACTIVE. It remembers what it is waiting for and which processes that depends on, so
that a timeout names them and shows the last lines of their logs instead of a bare
"timed out".
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corebus.api_client import ApiClient
from corebus.bus import Bus
from corebus.client import Client, wait_until_answers
from corebus.config import Settings
from corebus.launcher import ProcessSpec, err
from corebus.transport import make_bus
from gateway.readiness import wait_for_gateway
from schemas.errors import SkymeshError
from schemas.messages.conductor_hosts import ListHosts, ListHostsReply

DEMO_KEY = "skymesh-up-demo-server"  # the idempotency key: one demo server, however often
LOG_TAIL_LINES = 15


@dataclass(frozen=True)
class DemoServer:
    """The server `up` boots to show the mesh works: from the busybox image, on a local
    disk, or with `--storage rbd` on a volume cloned from the image in Ceph (boot from
    volume, deleted with the server)."""

    from_volume: bool = False

    def request(self, flavor_id: str, image_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"name": "demo", "flavor_id": flavor_id, "networks": "none"}
        if not self.from_volume:
            return {**body, "image_id": image_id}
        root = {
            "boot_index": 0,
            "uuid": image_id,
            "source_type": "image",
            "destination_type": "volume",
            "volume_size": 1,
            "delete_on_termination": True,
        }
        return {**body, "block_device_mapping": [root]}


@dataclass
class Readiness:
    """One wait for a control plane `up` started; `waiting_for` and `suspects` say where
    it stands (what is awaited, and the processes that would provide it)."""

    settings: Settings
    specs: list[ProcessSpec]
    demo: DemoServer | None = None
    bus: Bus | None = None  # default: a new connection to the settings' broker
    waiting_for: str = "the message bus"
    suspects: list[str] = field(default_factory=list)

    def _expect(self, what: str, *suspects: str) -> None:
        self.waiting_for = what
        self.suspects = list(suspects)

    async def wait(self, exited: Awaitable[tuple[str, int]] | None = None) -> None:
        """Until ready; with `exited` (the first of `up`'s processes to exit, its name and
        code), a process that exits first ends the wait at once with its log's tail."""
        if exited is None:
            return await self._wait()
        ready, gone = asyncio.ensure_future(self._wait()), asyncio.ensure_future(exited)
        try:
            done, _ = await asyncio.wait((ready, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (ready, gone):
                task.cancel()
            await asyncio.gather(ready, gone, return_exceptions=True)
        if ready in done:
            return ready.result()
        name, code = gone.result()
        lines = [f"{name} exited with code {code} while waiting for {self.waiting_for}"]
        raise SkymeshError("\n".join(lines + self._tails([name])))

    async def _wait(self) -> None:
        bus = self.bus or make_bus(self.settings.amqp, name=f"up:{os.getpid()}")
        await bus.start()
        try:
            with err.status("waiting for the conductor and the scheduler") as status:
                conductors = [s.name for s in self.specs if s.args[0] == "conductor"]
                self._expect("a conductor to answer", *conductors)
                await wait_until_answers(bus, "conductor")
                self._expect("the scheduler to answer", "scheduler")
                await wait_until_answers(bus, "scheduler")
                expected = {s.name for s in self.specs if s.args[0] == "agent"}
                while True:
                    reply = await Client(bus).call(
                        "conductor.list_hosts", ListHosts(), ListHostsReply
                    )
                    up = {h.name for h in reply.hosts if h.is_up} & expected
                    missing = sorted(expected - up)
                    self._expect(f"the agents {', '.join(missing)} to be up", *missing)
                    status.update(f"waiting for the agents: {len(up)} of {len(expected)} up")
                    if not missing:
                        break
                    await asyncio.sleep(0.3)
            err.print(f"[green]✓[/] conductor, scheduler and {len(expected)} agents are up")
            url = self.settings.gateway.base_url
            self._expect(f"the HTTP gateway to answer on {url}", "gateway")
            with err.status("waiting for the HTTP gateway"):
                await wait_for_gateway(url)
            err.print(f"[green]✓[/] HTTP gateway answers on {url}")
            if self.demo is not None:
                self._expect("the demo server to be ACTIVE", *conductors, "scheduler")
                await _boot_demo(self.settings, self.demo)
        finally:
            await bus.close()

    def explain_timeout(self, timeout: float) -> str:
        """What a timeout means here, with the tails of the suspects' logs."""
        lines = [f"timed out after {timeout:.0f} s waiting for {self.waiting_for}"]
        return "\n".join(lines + self._tails(self.suspects))

    def _tails(self, names: list[str]) -> list[str]:
        """The last lines of each named process's log file (detached processes have one;
        in the foreground their output was on the screen already)."""
        lines = []
        for name in names:
            tail = log_tail(self.settings.home / "logs" / f"{name}.log")
            if tail is not None:
                lines.append(f"--- last lines of {name}'s log ---")
                lines.extend(tail or ["(empty)"])
        return lines


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str] | None:
    """The last `lines` lines of a file, None if there is no such file."""
    try:
        with path.open(errors="replace") as f:
            return [line.rstrip("\n") for line in deque(f, maxlen=lines)]
    except FileNotFoundError:
        return None


async def _boot_demo(settings: Settings, demo: DemoServer) -> None:
    started = time.monotonic()
    async with ApiClient(settings.amqp.url) as api:
        flavors = (await api.command("flavors.list", {"name": "m1.tiny"}))["flavors"]
        images = (await api.command("images.list", {"name": "busybox"}))["images"]
        if not flavors or not images:
            raise SkymeshError("the demo flavor m1.tiny or image busybox is missing")
        created = await api.command(
            "servers.create",
            demo.request(flavors[0]["id"], images[0]["id"]),
            idempotency_key=DEMO_KEY,
        )
        server_id = created["server_ids"][0]
        with err.status("booting the demo server") as status:
            while True:
                got = await api.command("servers.get", {"server_id": server_id})
                server = got["server"]
                state = f"{server['vm_state']}/{server['task_state'] or '-'}"
                status.update(f"booting the demo server {server_id}: {state}")
                if server["vm_state"] == "active" and not server["task_state"]:
                    break
                if server["vm_state"] == "error":
                    fault = (server.get("fault") or {}).get("message", "no fault recorded")
                    raise SkymeshError(f"the demo server failed: {fault}")
                await asyncio.sleep(0.2)
    root = "an RBD volume cloned from busybox" if demo.from_volume else "a local disk"
    err.print(
        f"[green]✓[/] demo server {server_id} is ACTIVE on {server['host']} "
        f"({time.monotonic() - started:.1f}s; root disk: {root})"
    )
