"""Domain XML for real guests against golden expectations: NUMA cells and CPU pinning from
the claim, hugepages from the flavor, PCI host devices, RBD disks with ceph.conf and cephx,
the config drive, interfaces on a VIF driver's tap or a Linux bridge, direct kernel boot,
and the serial console for QEMU; then the whole definition accepted by libvirt's test
driver, which parses it as libvirtd would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from uuid import UUID, uuid4

import libvirt
import pytest

from node_agent.drivers.hypervisor.config_drive import meta_data, network_data
from node_agent.drivers.hypervisor.domain_devices import rbd_disk
from node_agent.drivers.hypervisor.domain_guest import DirectBoot, page_size_kib
from node_agent.drivers.hypervisor.domain_xml import HostLayout, build_domain_xml
from schemas.claims import Claim, NumaCellClaim, PciClaim
from schemas.compute import Flavor
from schemas.messages.agent_compute import ConfigDriveData, VolumeConnection
from schemas.network import FixedIp
from schemas.storage import RbdConnection
from tests.unit.node_agent.factories import port, spawn

DEDICATED = Flavor(
    id=UUID(int=1),
    name="numa.pinned",
    vcpus=4,
    memory_mb=2048,
    extra_specs={"hw:cpu_policy": "dedicated", "hw:numa_nodes": "2", "hw:mem_page_size": "2MB"},
)
CLAIM = Claim(
    vcpus=4,
    memory_mb=2048,
    numa_cells=(
        NumaCellClaim(
            guest_cell=0, host_cell=1, cpus=2, pinned_cpus=frozenset({6, 7}), memory_mb=1024
        ),
        NumaCellClaim(
            guest_cell=1, host_cell=0, cpus=2, pinned_cpus=frozenset({2, 3}), memory_mb=1024
        ),
    ),
    pci_devices=(
        PciClaim(address="0000:81:10.1", vendor_id="8086", product_id="10ed", dev_type="type-VF"),
    ),
)


def canon(element: ET.Element | None) -> str:
    assert element is not None
    return ET.canonicalize(ET.tostring(element, encoding="unicode"), strip_text=True)


def golden(xml: str) -> str:
    return ET.canonicalize(xml, strip_text=True)


def built(tmp_path: Path, **kwargs: object) -> ET.Element:
    request = kwargs.pop("request")
    return ET.fromstring(
        build_domain_xml(request, "cmp1", instance_dir=tmp_path, **kwargs)  # type: ignore[arg-type]
    )


def test_numa_cells_pinning_and_hugepages_from_the_claim(tmp_path: Path) -> None:
    request = spawn(flavor=DEDICATED).model_copy(update={"claim": CLAIM})
    dom = built(tmp_path, request=request)
    assert canon(dom.find("cputune")) == golden(
        "<cputune><vcpupin vcpu='0' cpuset='6'/><vcpupin vcpu='1' cpuset='7'/>"
        "<vcpupin vcpu='2' cpuset='2'/><vcpupin vcpu='3' cpuset='3'/>"
        "<emulatorpin cpuset='2,3,6,7'/></cputune>"
    )
    assert canon(dom.find("numatune")) == golden(
        "<numatune><memory mode='strict' nodeset='0,1'/>"
        "<memnode cellid='0' mode='strict' nodeset='1'/>"
        "<memnode cellid='1' mode='strict' nodeset='0'/></numatune>"
    )
    assert canon(dom.find("cpu")) == golden(
        "<cpu><numa><cell id='0' cpus='0,1' memory='1024' unit='MiB'/>"
        "<cell id='1' cpus='2,3' memory='1024' unit='MiB'/></numa></cpu>"
    )
    assert canon(dom.find("memoryBacking")) == golden(
        "<memoryBacking><hugepages><page size='2048' unit='KiB' nodeset='0,1'/></hugepages>"
        "</memoryBacking>"
    )
    assert canon(dom.find("devices/hostdev")) == golden(
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address domain='0x0000' bus='0x81' slot='0x10' function='0x1'/></source></hostdev>"
    )


def test_a_shared_cpu_flavor_without_numa_has_no_pinning(tmp_path: Path) -> None:
    dom = built(tmp_path, request=spawn())
    for tag in ("cputune", "numatune", "cpu", "memoryBacking"):
        assert dom.find(tag) is None, tag


@pytest.mark.parametrize(
    ("value", "kib"),
    [("small", None), ("any", None), ("large", 0), ("2048", 2048), ("2MB", 2048), ("1GB", 1048576)],
)
def test_page_sizes(value: str, kib: int | None) -> None:
    flavor = Flavor(
        id=uuid4(), name="p", vcpus=1, memory_mb=64, extra_specs={"hw:mem_page_size": value}
    )
    assert page_size_kib(flavor) == kib


def test_large_pages_without_numa_take_the_default_size(tmp_path: Path) -> None:
    flavor = Flavor(
        id=uuid4(), name="p", vcpus=1, memory_mb=64, extra_specs={"hw:mem_page_size": "large"}
    )
    dom = built(tmp_path, request=spawn(flavor=flavor))
    assert canon(dom.find("memoryBacking")) == golden("<memoryBacking><hugepages/></memoryBacking>")


def cephx_volume() -> VolumeConnection:
    volume_id = UUID(int=7)
    return VolumeConnection(
        volume_id=volume_id,
        attachment_id=uuid4(),
        rbd=RbdConnection(
            pool="volumes",
            image=f"volume-{volume_id}",
            monitors=("10.0.0.1:6789", "10.0.0.2"),
            user="cinder",
            secret_uuid=UUID(int=99),
        ),
    )


def test_rbd_monitors_come_from_the_connection_only_without_a_ceph_conf() -> None:
    disk = rbd_disk(cephx_volume(), "/dev/vdb")
    assert canon(disk.find("source")) == golden(
        f"<source protocol='rbd' name='volumes/volume-{UUID(int=7)}'>"
        "<host name='10.0.0.1' port='6789'/><host name='10.0.0.2' port='6789'/></source>"
    )
    with_conf = rbd_disk(cephx_volume(), "/dev/vdb", Path("/etc/ceph/ceph.conf"))
    assert with_conf.findall("source/host") == []


def test_a_multiattach_volume_is_a_shareable_disk() -> None:
    assert rbd_disk(cephx_volume(), "/dev/vdb").find("shareable") is None
    shared = cephx_volume().model_copy(update={"shareable": True})
    assert rbd_disk(shared, "/dev/vdb").find("shareable") is not None


def test_qemu_guest_devices(tmp_path: Path) -> None:
    tapped, bridged = port(1), port(2)
    request = spawn(ports=(tapped, bridged), volumes=(cephx_volume(),))
    layout = HostLayout(
        root_disk=tmp_path / "disk",
        boot=DirectBoot(Path("/k/vmlinuz"), Path("/k/initrd.img"), "console=ttyS0 quiet"),
        config_drive=tmp_path / "disk.config",
        taps={tapped.id: "tapAAAA"},
        linux_bridge="br-vm",
        ceph_conf=Path("/etc/ceph/ceph.conf"),
        pty_console=True,
    )
    dom = built(tmp_path, request=request, layout=layout)
    assert dom.get("type") == "qemu"
    assert canon(dom.find("os")) == golden(
        "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>/k/vmlinuz</kernel>"
        "<initrd>/k/initrd.img</initrd><cmdline>console=ttyS0 quiet</cmdline></os>"
    )
    disks = dom.findall("devices/disk")
    assert canon(disks[0]) == golden(
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        f"<source file='{tmp_path / 'disk'}'/><target dev='vda' bus='virtio'/>"
        "<serial>root</serial></disk>"
    )
    assert canon(disks[1]) == golden(
        "<disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/>"
        f"<source protocol='rbd' name='volumes/volume-{UUID(int=7)}'>"
        "<config file='/etc/ceph/ceph.conf'/></source>"
        f"<auth username='cinder'><secret type='ceph' uuid='{UUID(int=99)}'/></auth>"
        f"<target dev='vdb' bus='virtio'/><serial>{UUID(int=7)}</serial></disk>"
    )
    assert canon(disks[2]) == golden(
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
        f"<source file='{tmp_path / 'disk.config'}'/><target dev='hdd' bus='ide'/>"
        "<readonly/></disk>"
    )
    ifaces = dom.findall("devices/interface")
    assert canon(ifaces[0]) == golden(
        f"<interface type='ethernet'><mac address='{tapped.mac_address}'/>"
        "<target dev='tapAAAA' managed='no'/><model type='virtio'/></interface>"
    )
    assert canon(ifaces[1]) == golden(
        f"<interface type='bridge'><mac address='{bridged.mac_address}'/>"
        f"<source bridge='br-vm'/><target dev='tap{str(bridged.id)[:11]}'/>"
        "<model type='virtio'/></interface>"
    )
    assert canon(dom.find("devices/serial")) == golden(
        f"<serial type='pty'><log file='{tmp_path / 'console.log'}' append='on'/>"
        "<target port='0'/></serial>"
    )


def test_the_test_driver_accepts_the_whole_definition(tmp_path: Path) -> None:
    request = spawn(flavor=DEDICATED, ports=(port(),)).model_copy(update={"claim": CLAIM})
    xml = build_domain_xml(request, "cmp1", domain_type="test", instance_dir=tmp_path)
    conn = libvirt.open("test:///default")
    try:
        dom = conn.defineXML(xml)
        try:
            defined = ET.fromstring(dom.XMLDesc(0))
            assert len(defined.findall("cputune/vcpupin")) == 4
            assert len(defined.findall("cpu/numa/cell")) == 2
            assert defined.find("devices/hostdev/source/address").get("bus") == "0x81"  # type: ignore[union-attr]
            assert defined.find("memoryBacking/hugepages/page").get("size") == "2048"  # type: ignore[union-attr]
        finally:
            dom.undefine()
    finally:
        conn.close()


def test_config_drive_contents() -> None:
    instance = uuid4()
    data = ConfigDriveData(
        hostname="web-1",
        availability_zone="az1",
        public_keys={"mykey": "ssh-ed25519 AAAA"},
        metadata={"role": "web"},
        user_data="#!/bin/sh\necho hi\n",
    )
    meta = meta_data(instance, "web", data)
    assert meta["uuid"] == str(instance) and meta["hostname"] == "web-1"
    assert meta["public_keys"] == {"mykey": "ssh-ed25519 AAAA"}
    assert meta["meta"] == {"role": "web"} and meta["availability_zone"] == "az1"
    vif = port(3).model_copy(
        update={"fixed_ips": (FixedIp(subnet_id=uuid4(), ip_address="10.0.0.5"),)}
    )
    net = network_data((vif,))
    assert net["links"][0]["ethernet_mac_address"] == vif.mac_address
    assert net["networks"][0]["ip_address"] == "10.0.0.5"
    assert net["networks"][0]["link"] == net["links"][0]["id"]
