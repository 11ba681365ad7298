from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from node_agent.drivers.pci.inventory import offered
from node_agent.drivers.pci.spec import DeviceSpec, SpecEntry, load_spec
from schemas.pci import PciDeviceType
from tests.unit.node_agent.pci.host import GPU, PF0, PF1, SATA, VF00, VF01, VF10, VF11, scanned


def test_no_spec_offers_nothing() -> None:
    assert offered(scanned(), load_spec(None), {}) == ()


def test_yaml_spec_selects_by_netdev_address_and_vendor(tmp_path: Path) -> None:
    path = tmp_path / "pci.yaml"
    path.write_text(
        "device_spec:\n"
        "  - devname: enp1s0f0\n"
        "    physical_network: physnet1\n"
        "  - vendor_id: '8086'\n"
        "    product_id: '10ED'\n"
        "    address: '81:10.*'\n"
        "    physical_network: physnet2\n"
        "  - vendor_id: '10de'\n"
    )
    devices = offered(scanned(), load_spec(path), {})
    by_address = {d.address: d for d in devices}
    assert set(by_address) == {PF0, VF00, VF01, VF10, VF11, GPU}  # not PF1, not SATA
    assert by_address[PF0].dev_type is PciDeviceType.PF
    assert by_address[VF00].physical_network == "physnet1"
    assert by_address[VF10].physical_network == "physnet2"
    assert by_address[VF10].parent_addr == PF1
    assert by_address[GPU].dev_type is PciDeviceType.PCI
    assert by_address[GPU].physical_network is None
    assert by_address[GPU].numa_node == 1


def test_json_spec_and_first_match_wins(tmp_path: Path) -> None:
    path = tmp_path / "pci.json"
    path.write_text(
        '{"device_spec": [{"address": "0000:81:10.0", "physical_network": "a"},'
        ' {"vendor_id": "8086", "physical_network": "b"}]}'
    )
    devices = {d.address: d for d in offered(scanned(), load_spec(path), {})}
    assert devices[VF10].physical_network == "a"
    assert devices[VF11].physical_network == "b"
    assert devices[SATA].physical_network == "b"


def test_inventory_nests_vfs_after_their_pf_in_index_order() -> None:
    spec = DeviceSpec(device_spec=(SpecEntry(),))
    order = [d.address for d in offered(scanned(), spec, {})]
    assert order == [PF0, VF01, VF00, PF1, VF10, VF11, SATA, GPU]
    assert order.index(VF01) < order.index(VF00)  # virtfn0 before virtfn1


@pytest.mark.parametrize(
    "entry",
    [
        {"vendor_id": "80866"},
        {"product_id": "zzzz"},
        {"address": "0000:01:00.0; rm -rf"},
        {"unknown": 1},
        {"physical_network": ""},
    ],
)
def test_bad_spec_entries_are_refused(entry: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DeviceSpec.model_validate({"device_spec": [entry]})
