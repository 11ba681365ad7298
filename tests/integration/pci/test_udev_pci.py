"""The `--pci udev` driver on a umockdev tree (trees/sriov-host.umockdev): an ixgbe PF
with two VFs (ixgbevf and vfio-pci) on NUMA node 0, another with two vfio-pci VFs and a
GPU on node 1, and a SATA controller no spec entry selects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.pci.conftest import Scenario

pytestmark = pytest.mark.integration

PF0, PF1, GPU, SATA = "0000:01:00.0", "0000:81:00.0", "0000:82:00.0", "0000:00:1f.2"
PF0_VFS = ["0000:01:10.0", "0000:01:10.2"]
PF1_VFS = ["0000:81:10.0", "0000:81:10.2"]


def by_address(devices: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {device["address"]: device for device in devices}


@pytest.fixture(scope="module")
def discovered(run_scenario: Scenario) -> dict[str, Any]:
    return run_scenario("discover")


def test_discovery_reads_pfs_vfs_numa_and_drivers(discovered: dict[str, Any]) -> None:
    result = discovered
    scanned = by_address(result["scanned"])
    assert set(scanned) == {SATA, PF0, PF1, GPU, *PF0_VFS, *PF1_VFS}
    pf0 = scanned[PF0]
    assert (pf0["driver"], pf0["total_vfs"], pf0["num_vfs"]) == ("ixgbe", 4, 2)
    assert pf0["virtfns"] == {"0": PF0_VFS[0], "1": PF0_VFS[1]}
    assert pf0["netdev"] == "enp1s0f0"
    assert scanned[PF1]["netdev"] == "enp129s0f0"
    assert [scanned[vf]["driver"] for vf in PF0_VFS] == ["ixgbevf", "vfio-pci"]
    assert {scanned[vf]["physfn"] for vf in PF1_VFS} == {PF1}
    assert {scanned[a]["numa_node"] for a in [PF0, *PF0_VFS]} == {0}
    assert {scanned[a]["numa_node"] for a in [PF1, *PF1_VFS, GPU]} == {1}
    assert scanned[SATA]["numa_node"] is None  # numa_node -1
    assert scanned[GPU]["class_code"] == "030200"


def test_the_spec_selects_and_the_inventory_nests_vfs_under_pfs(
    discovered: dict[str, Any],
) -> None:
    offered = discovered["offered"]
    assert [d["address"] for d in offered] == [PF0, *PF0_VFS, PF1, *PF1_VFS, GPU]  # no SATA
    devices = by_address(offered)
    assert devices[PF0]["dev_type"] == "type-PF"
    assert {devices[vf]["parent_addr"] for vf in PF0_VFS} == {PF0}
    assert {devices[vf]["dev_type"] for vf in PF1_VFS} == {"type-VF"}
    assert {devices[a]["physical_network"] for a in [PF0, *PF0_VFS]} == {"physnet1"}
    assert {devices[a]["physical_network"] for a in [PF1, *PF1_VFS]} == {"physnet2"}
    assert devices[GPU]["dev_type"] == "type-PCI"
    assert devices[GPU]["physical_network"] is None
    assert devices[GPU]["numa_node"] == 1


def test_a_narrower_spec_offers_only_its_devices(run_scenario: Scenario) -> None:
    spec = 'device_spec:\n  - product_id: "10ed"\n    address: "81:10.*"\n'
    offered = run_scenario("discover", spec=spec)["offered"]
    assert [d["address"] for d in offered] == PF1_VFS


def test_vfs_appearing_and_vanishing_are_reported(run_scenario: Scenario) -> None:
    """Kernel uevents (the monitor) -> InventoryWatch -> a fresh inventory report."""
    result = run_scenario("hotplug")
    new_vf = "0000:01:10.4"
    assert new_vf not in by_address(result["before"])
    after_add = by_address(result["after_add"])
    assert after_add[new_vf]["parent_addr"] == PF0
    assert after_add[new_vf]["physical_network"] == "physnet1"
    # listed after PF0's other VFs (virtfn2), before the next PF
    order = [d["address"] for d in result["after_add"]]
    assert order.index(new_vf) == order.index(PF0_VFS[1]) + 1 < order.index(PF1)
    assert new_vf not in by_address(result["after_remove"])
    assert all(seconds < 2 for seconds in result["seconds"])
    assert result["reports"] == 2  # one inventory report per change


def test_claim_sets_the_vf_mac_and_vlan_and_release_resets_them(run_scenario: Scenario) -> None:
    result = run_scenario("claim")
    claimed = by_address(result["claimed"])
    instance = "00000000-0000-4000-8000-000000000001"
    assert {a for a, d in claimed.items() if d["status"] == "claimed"} == {PF0_VFS[1], GPU}
    assert claimed[PF0_VFS[1]]["instance_id"] == instance
    # 0000:01:10.2 is virtfn1 of enp1s0f0; the GPU has no PF netdev, so no call
    assert result["calls_after_assign"] == [["enp1s0f0", 1, "fa:16:3e:12:34:56", 42]]
    assert sorted(result["released"]) == [PF0_VFS[1], GPU]
    assert result["calls"][-1] == ["enp1s0f0", 1, "00:00:00:00:00:00", 0]
    assert all(d["status"] == "available" for d in result["after_release"])
    # sriov_numvfs written through sysfs (umockdev has no kernel to create the VFs)
    assert result["numvfs_written"] == "3"
