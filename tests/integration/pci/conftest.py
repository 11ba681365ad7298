"""PCI integration tests: the real `--pci udev` driver (pyudev, its kernel-uevent
monitor) against umockdev device trees, and the claim's `<hostdev>` XML on libvirt's test
driver. No SR-IOV NIC, IOMMU or VFIO exists on the test machines, so MAC/VLAN calls go
to the recording netlink layer.

A umockdev testbed needs libumockdev-preload in LD_PRELOAD from process start, so each
scenario runs in a child process under `umockdev-wrapper` (udev_scenario.py) and prints
its outcome as JSON. `umockdev_ready` makes sure umockdev and the venv's `gi` are there
(scripts/stack/umockdev.sh install, idempotent) once per session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
TREES = Path(__file__).parent / "trees"
SRIOV_HOST = TREES / "sriov-host.umockdev"

SPEC = """\
device_spec:
  - vendor_id: "8086"
    address: "0000:01:*"
    physical_network: physnet1
  - devname: enp129s0f0
    physical_network: physnet2
  - vendor_id: "10de"
"""

Scenario = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def umockdev_ready() -> None:
    subprocess.run(
        ["bash", str(REPO / "scripts/stack/umockdev.sh"), "install"],
        check=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def run_scenario(umockdev_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    def run(name: str, spec: str = SPEC, tree: Path = SRIOV_HOST) -> dict[str, Any]:
        work = tmp_path_factory.mktemp(f"pci-{name}")
        spec_file = work / "spec.yaml"
        spec_file.write_text(spec)
        state = work / "state"
        state.mkdir()
        done = subprocess.run(
            [
                "umockdev-wrapper",
                sys.executable,
                "-m",
                "tests.integration.pci.udev_scenario",
                name,
                str(tree),
                str(spec_file),
                str(state),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    return run
