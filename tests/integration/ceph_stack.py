"""A private single-node Ceph cluster (scripts/stack/ceph.sh) for the integration tier.

`running_cluster()` starts one in a fresh directory under /tmp on ports free for this run
and stops it (OSD, mgr, mon by PID; the directory removed) whatever happens. The
`ceph_cluster` and `ceph_cluster_cephx` fixtures are session-scoped (one cluster per xdist
worker): tests name their RBD images uniquely and remove them.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CEPH_SH = REPO / "scripts" / "stack" / "ceph.sh"


@dataclass(frozen=True)
class CephCluster:
    """What clients need: the ceph.conf (monitors, auth, keyring paths), the monitor's
    v1 address (what QEMU's `<host>` takes), the pools, and with cephx the client user
    (without `client.`) and its key (for a libvirt `ceph` secret)."""

    directory: Path
    conf: Path
    mon_host: str
    mon_port: int
    pool: str
    pools: tuple[str, ...]
    user: str | None  # None: auth none
    keyring: Path | None
    secret: str | None  # the user's base64 cephx key

    @property
    def cephx(self) -> bool:
        return self.user is not None

    @property
    def monitor(self) -> str:
        return f"{self.mon_host}:{self.mon_port}"

    @property
    def rados_id(self) -> str:
        """The `rados_id` for rados.Rados: the cephx user, or admin with auth none."""
        return self.user or "admin"


def _parse_env(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("CEPH_"):
            env[key] = value.strip()
    return env


def _sh(*args: str, timeout: float = 120) -> str:
    proc = subprocess.run(
        ["bash", str(CEPH_SH), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ceph.sh {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


@contextmanager
def running_cluster(*, cephx: bool = False) -> Iterator[CephCluster]:
    _sh("install", timeout=600)
    directory = Path(tempfile.mkdtemp(prefix="skm-ceph-", dir="/tmp"))
    try:
        env = _parse_env(_sh("up", str(directory), *(["--cephx"] if cephx else [])))
        yield CephCluster(
            directory=directory,
            conf=Path(env["CEPH_CONF"]),
            mon_host=env["CEPH_MON_HOST"],
            mon_port=int(env["CEPH_MON_PORT"]),
            pool=env["CEPH_POOL"],
            pools=tuple(env["CEPH_POOLS"].split()),
            user=env["CEPH_USER"] or None,
            keyring=Path(env["CEPH_KEYRING"]) if env["CEPH_KEYRING"] else None,
            secret=env["CEPH_SECRET"] or None,
        )
    finally:
        _sh("down", str(directory), timeout=60)


@pytest.fixture(scope="session")
def ceph_cluster() -> Iterator[CephCluster]:
    """A cluster with auth none."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def ceph_cluster_cephx() -> Iterator[CephCluster]:
    """A cluster with cephx: `user` is a `profile rbd` client with a keyring in `conf`."""
    with running_cluster(cephx=True) as cluster:
        yield cluster
