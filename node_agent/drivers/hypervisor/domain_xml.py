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

from schemas.compute import ImageLocationKind
from schemas.messages.agent_compute import Spawn, VolumeConnection

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


def tap_name(port_id: UUID) -> str:
    """The tap device of a port on br-int (Nova's and Neutron's naming)."""
    return f"tap{str(port_id)[:11]}"


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
    root = ET.Element(_q("instance"))
    ET.SubElement(root, _q("host")).text = host
    ET.SubElement(root, _q("name")).text = request.name
    flavor = ET.SubElement(root, _q("flavor"), id=str(request.flavor.id))
    flavor.text = request.flavor.name
    ports = ET.SubElement(root, _q("ports"))
    for port in request.ports:
        ET.SubElement(ports, _q("port"), id=str(port.id))
    volumes = ET.SubElement(root, _q("volumes"))
    for volume, device in volume_devices(request):
        ET.SubElement(volumes, _q("volume"), id=str(volume.volume_id), device=device)
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


def build_domain_xml(
    request: Spawn,
    host: str,
    *,
    domain_type: str = "qemu",
    instance_dir: Path,
    bridge: str = "br-int",
) -> str:
    """A complete domain definition: CPUs, memory, the owner metadata, disks (the image
    disk and RBD volumes), one OVS interface per port, and a serial console logged to
    `instance_dir/console.log`."""
    dom = ET.Element("domain", type=domain_type)
    ET.SubElement(dom, "name").text = domain_name(request.instance_id)
    ET.SubElement(dom, "uuid").text = str(request.instance_id)
    ET.SubElement(dom, "title").text = request.name
    metadata = ET.SubElement(dom, "metadata")
    metadata.append(owner_element(request, host))
    ET.SubElement(dom, "memory", unit="MiB").text = str(request.flavor.memory_mb)
    ET.SubElement(dom, "vcpu").text = str(request.flavor.vcpus)
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type").text = "hvm"
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    devices = ET.SubElement(dom, "devices")
    _image_disk(devices, request, instance_dir)
    for volume, device in volume_devices(request):
        _rbd_disk(devices, volume, device)
    for port in request.ports:
        iface = ET.SubElement(devices, "interface", type="bridge")
        ET.SubElement(iface, "mac", address=port.mac_address)
        ET.SubElement(iface, "source", bridge=bridge)
        virtualport = ET.SubElement(iface, "virtualport", type="openvswitch")
        ET.SubElement(virtualport, "parameters", interfaceid=str(port.id))
        ET.SubElement(iface, "target", dev=tap_name(port.id))
        ET.SubElement(iface, "model", type="virtio")
    serial = ET.SubElement(devices, "serial", type="file")
    ET.SubElement(serial, "source", path=str(instance_dir / "console.log"))
    ET.SubElement(serial, "target", port="0")
    ET.indent(dom)
    return ET.tostring(dom, encoding="unicode")


def _image_disk(devices: ET.Element, request: Spawn, instance_dir: Path) -> None:
    location = request.image_location
    if location is None or any(v.boot_index == 0 for v in request.volumes):
        return
    if location.kind is ImageLocationKind.RBD:
        disk = ET.SubElement(devices, "disk", type="network", device="disk")
        ET.SubElement(disk, "driver", name="qemu", type="raw")
        ET.SubElement(
            disk, "source", protocol="rbd", name=f"{location.pool}/{request.instance_id}_disk"
        )
    else:
        disk = ET.SubElement(devices, "disk", type="file", device="disk")
        ET.SubElement(disk, "driver", name="qemu", type="qcow2")
        ET.SubElement(disk, "source", file=str(instance_dir / "disk"))
    ET.SubElement(disk, "target", dev="vda", bus="virtio")


def _rbd_disk(devices: ET.Element, volume: VolumeConnection, device: str) -> None:
    disk = ET.SubElement(devices, "disk", type="network", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="raw", cache="none")
    rbd = volume.rbd
    source = ET.SubElement(disk, "source", protocol="rbd", name=f"{rbd.pool}/{rbd.image}")
    for monitor in rbd.monitors:
        name, _, port = monitor.rpartition(":") if ":" in monitor else (monitor, "", "6789")
        ET.SubElement(source, "host", name=name or monitor, port=port or "6789")
    if rbd.auth_enabled and rbd.secret_uuid is not None:
        auth = ET.SubElement(disk, "auth", username=rbd.user)
        ET.SubElement(auth, "secret", type="ceph", uuid=str(rbd.secret_uuid))
    ET.SubElement(disk, "target", dev=device.removeprefix("/dev/"), bus=volume.disk_bus)
    ET.SubElement(disk, "serial").text = str(volume.volume_id)
    if volume.read_only:
        ET.SubElement(disk, "readonly")
