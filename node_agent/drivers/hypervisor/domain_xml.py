"""Domain XML from a Spawn message, and the skymesh metadata that marks who owns a domain.

The `<metadata>` element carries `<skymesh:instance>` with the owning host, so two agents
sharing one libvirtd never list, report or touch each other's domains.
"""

from __future__ import annotations

import string
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from node_agent.drivers.hypervisor.domain_devices import (
    ROOT_SERIAL,
    config_drive_disk,
    file_disk,
    interface,
    rbd_disk,
    rbd_source,
    serial_console,
)
from node_agent.drivers.hypervisor.domain_devices import tap_name as tap_name
from node_agent.drivers.hypervisor.domain_guest import (
    DirectBoot,
    add_direct_boot,
    add_numa,
    hostdev_element,
)
from schemas.compute import ImageLocationKind
from schemas.messages.agent_compute import Spawn, VolumeConnection
from schemas.storage import RbdConnection

NS = "https://skymesh.dev/xmlns/instance/1"
ET.register_namespace("skymesh", NS)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


@dataclass(frozen=True)
class DomainOwner:
    """What the metadata element says: who owns the domain and what is plugged into it."""

    host: str
    name: str
    port_ids: tuple[UUID, ...] = ()
    volumes: tuple[tuple[UUID, str], ...] = ()  # (volume id, device)


def domain_name(instance_id: UUID) -> str:
    return f"instance-{instance_id}"


def volume_devices(request: Spawn) -> list[tuple[VolumeConnection, str]]:
    """Each volume with its guest device: the one asked for, else vda for the boot
    volume and the next free vdX for the others (vda is the image disk when there is one)."""
    taken = {v.device_name.removeprefix("/dev/") for v in request.volumes if v.device_name}
    boots_from_image = not any(v.boot_index == 0 for v in request.volumes)
    if boots_from_image:
        taken.add("vda")
    free = (f"vd{c}" for c in string.ascii_lowercase if f"vd{c}" not in taken)
    ordered = sorted(request.volumes, key=lambda v: (v.boot_index is None, v.boot_index or 0))
    devices = []
    for volume in ordered:
        if volume.device_name:
            device = volume.device_name.removeprefix("/dev/")
        elif volume.boot_index == 0 and "vda" not in taken:
            device = "vda"
            taken.add(device)
        else:
            device = next(free)
        devices.append((volume, f"/dev/{device}"))
    return devices


def owner_element(request: Spawn, host: str) -> ET.Element:
    return owner_from(
        DomainOwner(
            host=host,
            name=request.name,
            port_ids=tuple(port.id for port in request.ports),
            volumes=tuple((v.volume_id, device) for v, device in volume_devices(request)),
        ),
        flavor=(request.flavor.id, request.flavor.name),
    )


def owner_from(owner: DomainOwner, flavor: tuple[UUID, str] | None = None) -> ET.Element:
    """The metadata element for `owner` (what `setMetadata` takes after a hot-plug or a
    change of host)."""
    root = ET.Element(_q("instance"))
    ET.SubElement(root, _q("host")).text = owner.host
    ET.SubElement(root, _q("name")).text = owner.name
    if flavor is not None:
        ET.SubElement(root, _q("flavor"), id=str(flavor[0])).text = flavor[1]
    ports = ET.SubElement(root, _q("ports"))
    for port_id in owner.port_ids:
        ET.SubElement(ports, _q("port"), id=str(port_id))
    volumes = ET.SubElement(root, _q("volumes"))
    for volume_id, device in owner.volumes:
        ET.SubElement(volumes, _q("volume"), id=str(volume_id), device=device)
    return root


def parse_owner(metadata_xml: str) -> DomainOwner:
    """Read the element returned by virDomainGetMetadata for our namespace."""
    root = ET.fromstring(metadata_xml)

    # libvirt returns the element without our namespace prefix: match on local names.
    def find(parent: ET.Element, tag: str) -> ET.Element | None:
        return next((el for el in parent if el.tag.rsplit("}", 1)[-1] == tag), None)

    def children(parent: ET.Element | None, tag: str) -> list[ET.Element]:
        return [
            el
            for el in ([] if parent is None else list(parent))
            if el.tag.rsplit("}", 1)[-1] == tag
        ]

    host, name = find(root, "host"), find(root, "name")
    return DomainOwner(
        host=(host.text or "") if host is not None else "",
        name=(name.text or "") if name is not None else "",
        port_ids=tuple(UUID(el.get("id", "")) for el in children(find(root, "ports"), "port")),
        volumes=tuple(
            (UUID(el.get("id", "")), el.get("device", ""))
            for el in children(find(root, "volumes"), "volume")
        ),
    )


@dataclass(frozen=True)
class HostLayout:
    """What the driver prepared on the host before defining the domain: the root disk
    file (None: `instance_dir/disk`), a direct kernel boot, the config drive ISO, the VIF
    driver's taps by port id (None: libvirt makes the taps), the Linux bridge for taps
    libvirt makes (None: OVS `br-int`), the ceph.conf for RBD disks, and whether the serial
    console is a pty logged by virtlogd (QEMU) or a plain file (the test driver)."""

    root_disk: Path | None = None
    boot: DirectBoot | None = None
    config_drive: Path | None = None
    taps: dict[UUID, str] | None = None
    linux_bridge: str | None = None
    ceph_conf: Path | None = None
    pty_console: bool = False


def build_domain_xml(
    request: Spawn,
    host: str,
    *,
    domain_type: str = "qemu",
    instance_dir: Path,
    bridge: str = "br-int",
    layout: HostLayout | None = None,
) -> str:
    """A complete domain definition: CPUs, memory, NUMA/pinning/hugepages, the owner
    metadata, the root disk, RBD volumes, the config drive, one NIC per port, the claim's
    PCI devices, and a serial console logged to `instance_dir/console.log`."""
    layout = layout or HostLayout()
    dom = ET.Element("domain", type=domain_type)
    ET.SubElement(dom, "name").text = domain_name(request.instance_id)
    ET.SubElement(dom, "uuid").text = str(request.instance_id)
    ET.SubElement(dom, "title").text = request.name
    metadata = ET.SubElement(dom, "metadata")
    metadata.append(owner_element(request, host))
    ET.SubElement(dom, "memory", unit="MiB").text = str(request.flavor.memory_mb)
    ET.SubElement(dom, "vcpu").text = str(request.flavor.vcpus)
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type", arch="x86_64", machine="pc").text = "hvm"
    if layout.boot is not None:
        add_direct_boot(os_el, layout.boot)
    if domain_type != "test":
        features = ET.SubElement(dom, "features")
        ET.SubElement(features, "acpi")
        ET.SubElement(dom, "clock", offset="utc")
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    add_numa(dom, request.claim, request.flavor)
    devices = ET.SubElement(dom, "devices")
    _image_disk(devices, request, instance_dir, layout)
    for volume, device in volume_devices(request):
        devices.append(rbd_disk(volume, device, layout.ceph_conf))
    if layout.config_drive is not None:
        devices.append(config_drive_disk(layout.config_drive))
    for port in request.ports:
        tap = None if layout.taps is None else layout.taps.get(port.id)
        devices.append(interface(port, tap=tap, linux_bridge=layout.linux_bridge, ovs=bridge))
    for pci in sorted(request.claim.pci_devices, key=lambda claimed: claimed.address):
        devices.append(hostdev_element(pci))
    devices.extend(serial_console(instance_dir / "console.log", pty=layout.pty_console))
    if domain_type != "test":
        ET.SubElement(devices, "memballoon", model="none")
    ET.indent(dom)
    return ET.tostring(dom, encoding="unicode")


def _image_disk(
    devices: ET.Element, request: Spawn, instance_dir: Path, layout: HostLayout
) -> None:
    location = request.image_location
    if location is None or any(v.boot_index == 0 for v in request.volumes):
        return
    if location.kind is ImageLocationKind.RBD:
        disk = ET.SubElement(devices, "disk", type="network", device="disk")
        ET.SubElement(disk, "driver", name="qemu", type="raw")
        rbd = RbdConnection(
            pool=location.pool or "rbd",
            image=f"{request.instance_id}_disk",
            monitors=("127.0.0.1:6789",),
            auth_enabled=False,
        )
        rbd_source(disk, rbd, layout.ceph_conf)
        ET.SubElement(disk, "target", dev="vda", bus="virtio")
        ET.SubElement(disk, "serial").text = ROOT_SERIAL
    else:
        path = layout.root_disk or instance_dir / "disk"
        devices.append(file_disk(path, "vda", serial=ROOT_SERIAL))
