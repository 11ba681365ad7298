"""The pyroute2 VF call reaches the real kernel: in a private network namespace (so the
host's links are never touched) setting a VF MAC/VLAN on `lo`, which has no VFs, is
refused by the kernel with EOPNOTSUPP and comes back as a DriverError, and a missing PF
netdev is a NotFoundError. No SR-IOV NIC exists here to see it succeed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.pci.conftest import REPO

pytestmark = pytest.mark.integration

PROBE = """
import asyncio
from node_agent.drivers.pci.netlink import PyrouteVfNetlink
for dev in ("lo", "nosuchpf0"):
    try:
        asyncio.run(PyrouteVfNetlink().set_vf(dev, 0, "fa:16:3e:00:00:01", 42))
    except Exception as exc:
        print(type(exc).__name__, exc)
    else:
        print("accepted")
"""


def test_the_kernel_answers_the_vf_request() -> None:
    done = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", PROBE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("DriverError lo vf 0:")
    assert "95" in lines[0] or "not supported" in lines[0].lower()
    assert lines[1] == "NotFoundError no network interface nosuchpf0"
