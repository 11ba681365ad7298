"""`skymesh up --network dvr`: Linux bridges and the namespace DVR, on a private lab.

The DVR needs no daemons, only hosts to wire. For the demo each DVR agent (compute-1..3
and network-1) gets a network namespace of its own as its "host" (`skd<id>-<host>`), all
joined by an underlay bridge (192.168.77.0/24, VXLAN between them) and each with a
`br-ex` joined to an external namespace `skd<id>-ext` that plays the outside world
(203.0.113.1/24 on its bridge). Each agent gets `--dvr namespaces` and a
`<state dir>/dvr.json` naming its host namespace, underlay address, peers and its fip
address (203.0.113.2x); `$SKYMESH_HOME/dvr-backend.json` tells the conductor to mirror
network commands to compute-1..3 (conductor/dvr_mirror.py). `skymesh down` deletes the
namespaces (everything in them goes).
Compute agents beyond the third keep the fake DVR driver. Needs root.

On a real deployment no stack is needed: write each agent's dvr.json (docs/dvr.md) and
run the agents with `--network dvr` (network role) and `--dvr namespaces`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

from corebus import up_stacks

HOSTS = ("network-1", "compute-1", "compute-2", "compute-3")
UNDERLAY = "192.168.77"
EXTERNAL = "203.0.113"


def tag(home: Path) -> str:
    return "skd" + hashlib.sha1(str(home.resolve()).encode()).hexdigest()[:6]


def host_ns(home: Path, host: str) -> str:
    return f"{tag(home)}-{host}"


async def _ip(*args: str, check: bool = True) -> None:
    proc = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, errors = await proc.communicate()
    if check and proc.returncode != 0:
        raise up_stacks.StackError(f"ip {' '.join(args)}: {errors.decode().strip()}")


def _netns() -> set[str]:
    try:
        return set(os.listdir("/run/netns"))
    except FileNotFoundError:
        return set()


class DvrStack:
    name = "DVR lab"

    def __init__(self) -> None:
        self._home = Path(os.environ.get("SKYMESH_HOME", Path.home() / ".skymesh"))

    async def up(self, home: Path) -> None:
        self._home = home
        if os.geteuid() != 0:
            raise up_stacks.StackError("the DVR lab needs root (network namespaces)")
        computes = [h for h in HOSTS if h.startswith("compute-")]
        (home / "dvr-backend.json").write_text(json.dumps({"compute_hosts": computes}))
        ext = f"{tag(home)}-ext"
        if ext in _netns():
            return  # up already
        try:
            await self._build(home, ext)
        except up_stacks.StackError:
            await self.down(home)
            raise

    async def _build(self, home: Path, ext: str) -> None:
        await _ip("netns", "add", ext)
        for bridge, address in (("brx", f"{EXTERNAL}.1/24"), ("ul", None)):
            await _ip("-n", ext, "link", "add", bridge, "type", "bridge")
            if address:
                await _ip("-n", ext, "addr", "add", address, "dev", bridge)
            await _ip("-n", ext, "link", "set", bridge, "up")
        for n, host in enumerate(HOSTS, start=1):
            ns = host_ns(home, host)
            await _ip("netns", "add", ns)
            await _ip("-n", ns, "link", "set", "lo", "up")
            await _ip("-n", ns, "link", "add", "br-ex", "type", "bridge")
            await _ip("-n", ns, "link", "set", "br-ex", "up")
            for inner, outer, bridge in (("ul0", f"u{n}", "ul"), ("exup", f"x{n}", "brx")):
                await _ip(
                    "-n", ext, "link", "add", outer, "type", "veth", "peer", inner, "netns", ns
                )
                await _ip("-n", ext, "link", "set", outer, "master", bridge, "up")
                await _ip("-n", ns, "link", "set", inner, "up")
            await _ip("-n", ns, "link", "set", "exup", "master", "br-ex")
            await _ip("-n", ns, "addr", "add", f"{UNDERLAY}.{n}/24", "dev", "ul0")

    def agent_args(self, role: str, host: str) -> tuple[str, ...]:
        if role not in ("compute", "network") or host not in HOSTS:
            return ()
        n = HOSTS.index(host) + 1
        options = {
            "host": host,
            "host_netns": host_ns(self._home, host),
            "prefix": f"{host_ns(self._home, host)}-",
            "external_bridge": "br-ex",
            "underlay_ip": f"{UNDERLAY}.{n}",
            "vxlan_peers": [f"{UNDERLAY}.{m}" for m in range(1, len(HOSTS) + 1) if m != n],
            "fip_hosts": {f"{EXTERNAL}.0/24": f"{EXTERNAL}.{20 + n}"},
        }
        state_dir = self._home / "agents" / host
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "dvr.json").write_text(json.dumps(options, indent=2))
        return ("--dvr", "namespaces")

    async def down(self, home: Path) -> None:
        (home / "dvr-backend.json").unlink(missing_ok=True)
        prefix = f"{tag(home)}-"
        for name in sorted(_netns()):
            if name.startswith(prefix):  # hosts, the external one, and every router's
                await _ip("netns", "del", name, check=False)
