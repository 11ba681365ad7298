"""The Ceph cluster of `skymesh up --storage rbd`.

Unless `SKYMESH_CEPH_CONF` names an existing cluster's ceph.conf (with `SKYMESH_CEPH_POOL`,
default `volumes`, and `SKYMESH_CEPH_USER`, a cephx user, if it needs one), `up` starts a
private single-node cluster under `$SKYMESH_HOME/stack/ceph` with scripts/stack/ceph.sh
(auth none; installs the packages and exposes the rados/rbd bindings to the venv when they
are missing) and `down` stops it and removes its directory. Storage and compute agents get
`--ceph-conf` and `--ceph-pool`.

The private cluster's monitor listens on ports free at the time (ceph.sh picks them), so it
never clashes with a real cluster on the machine: agents find it through their ceph.conf,
which QEMU reads for the monitors too (node_agent/drivers/hypervisor/domain_devices.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from corebus import up_stacks

REPO = Path(__file__).resolve().parents[1]
CEPH_SH = REPO / "scripts" / "stack" / "ceph.sh"
VOLUME_POOL = "volumes"  # the pool the conductor puts volumes in (device_records.POOL)


def _cluster_dir(home: Path) -> Path:
    return home / "stack" / "ceph"


def parse_env(text: str) -> dict[str, str]:
    """The CEPH_* lines `ceph.sh up` prints."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("CEPH_"):
            found[key] = value.strip()
    return found


class RbdStack:
    name = "Ceph (RBD)"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        external = env.get("SKYMESH_CEPH_CONF")
        self.external = Path(external) if external else None
        self.conf: Path | None = self.external
        self.pool = env.get("SKYMESH_CEPH_POOL", VOLUME_POOL)
        self.user: str | None = env.get("SKYMESH_CEPH_USER") or None

    async def up(self, home: Path) -> None:
        if self.external is not None:
            if not self.external.is_file():
                raise up_stacks.StackError(
                    f"SKYMESH_CEPH_CONF names {self.external}, which does not exist"
                )
            return
        await up_stacks.run_script(CEPH_SH, "install", timeout=900)
        out = await up_stacks.run_script(CEPH_SH, "up", str(_cluster_dir(home)), timeout=300)
        self.conf = Path(parse_env(out)["CEPH_CONF"])

    def agent_args(self, role: str, host: str) -> tuple[str, ...]:
        if role not in ("storage", "compute") or self.conf is None:
            return ()
        user = ("--ceph-user", self.user) if self.user else ()
        return ("--ceph-conf", str(self.conf), "--ceph-pool", self.pool, *user)

    async def down(self, home: Path) -> None:
        if self.external is None:
            await up_stacks.run_script(CEPH_SH, "down", str(_cluster_dir(home)), timeout=120)
