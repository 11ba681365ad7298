"""Domain XML from a Spawn message, and the owner metadata read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from uuid import uuid4

from node_agent.drivers.hypervisor.domain_xml import (
    NS,
    build_domain_xml,
    owner_element,
    parse_owner,
    volume_devices,
)
from schemas.compute import Flavor
from tests.unit.node_agent.factories import port, spawn, volume

FLAVOR = Flavor(id=uuid4(), name="m1.medium", vcpus=4, memory_mb=4096)


def test_domain_xml_carries_flavor_owner_ports_and_volumes(tmp_path: Path) -> None:
    vif, vol = port(), volume()
    request = spawn(flavor=FLAVOR, ports=(vif,), volumes=(vol,))
    dom = ET.fromstring(build_domain_xml(request, "cmp1", instance_dir=tmp_path))
    assert dom.get("type") == "qemu"
    assert dom.findtext("uuid") == str(request.instance_id)
    assert dom.findtext("vcpu") == "4"
    assert dom.find("memory").text == "4096"  # type: ignore[union-attr]
    assert dom.find("memory").get("unit") == "MiB"  # type: ignore[union-attr]
    assert dom.findtext(f"metadata/{{{NS}}}instance/{{{NS}}}host") == "cmp1"
    iface = dom.find("devices/interface")
    assert iface is not None
    assert iface.find("mac").get("address") == vif.mac_address  # type: ignore[union-attr]
    assert iface.find("virtualport/parameters").get("interfaceid") == str(vif.id)  # type: ignore[union-attr]
    disks = dom.findall("devices/disk")
    assert [d.find("target").get("dev") for d in disks] == ["vda", "vdb"]  # type: ignore[union-attr]
    rbd = disks[1].find("source")
    assert rbd is not None and rbd.get("name") == f"volumes/volume-{vol.volume_id}"
    assert rbd.find("host").get("port") == "6789"  # type: ignore[union-attr]
    serial = dom.find("devices/serial/source")
    assert serial is not None and serial.get("path") == str(tmp_path / "console.log")


def test_boot_from_volume_takes_vda_and_named_devices_are_kept() -> None:
    boot, named, other = volume(boot_index=0), volume(device="/dev/vdc"), volume()
    request = spawn(volumes=(other, named, boot))
    devices = {v.volume_id: d for v, d in volume_devices(request)}
    assert devices == {
        boot.volume_id: "/dev/vda",
        named.volume_id: "/dev/vdc",
        other.volume_id: "/dev/vdb",
    }


def test_owner_metadata_round_trips_as_libvirt_returns_it() -> None:
    vif, vol = port(), volume()
    request = spawn(name="web", ports=(vif,), volumes=(vol,))
    # libvirt hands the element back with its own prefix-less serialisation
    xml = ET.tostring(owner_element(request, "cmp7"), encoding="unicode")
    owner = parse_owner(xml)
    assert owner.host == "cmp7" and owner.name == "web"
    assert owner.port_ids == (vif.id,)
    assert owner.volumes == ((vol.volume_id, "/dev/vdb"),)
