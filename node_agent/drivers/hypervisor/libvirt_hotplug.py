"""Live device changes of an owned domain (blocking; run in threads): RBD volumes and
interfaces attached and detached with `attachDeviceFlags` / `detachDeviceFlags`, on the
running domain and its persistent definition alike, and the owner metadata
(`<skymesh:ports>`, `<skymesh:volumes>`) rewritten to match, so a restarted agent
reports the same devices.

A detach asks the guest to let go (ACPI PCI hot-unplug); libvirt removes the device
once the guest did, so `detach` waits (bounded) until the live definition has lost it.
"""

from __future__ import annotations

import string
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from uuid import UUID

import libvirt

from node_agent.drivers.errors import DriverError
from node_agent.drivers.hypervisor.domain_devices import rbd_disk, tap_name, to_string
from node_agent.drivers.hypervisor.domain_xml import NS, DomainOwner, owner_from
from schemas.messages.agent_compute import VolumeConnection

DETACH_WAIT_S = 20.0


def _flags(dom: Any) -> int:
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if dom.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    return flags


def set_owner(dom: Any, owner: DomainOwner) -> None:
    """Rewrite the metadata element; libvirt puts it into our namespace itself (an
    element that declares the namespace already is refused)."""
    element = owner_from(owner)
    for el in element.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
    xml = ET.tostring(element, encoding="unicode")
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, xml, "skymesh", NS, _flags(dom))


def _devices(dom: Any) -> ET.Element:
    devices = ET.fromstring(dom.XMLDesc(0)).find("devices")
    return devices if devices is not None else ET.Element("devices")


def free_disk_target(dom: Any) -> str:
    taken = {t.get("dev") for t in _devices(dom).iterfind("disk/target")}
    for letter in string.ascii_lowercase[1:]:
        if f"vd{letter}" not in taken:
            return f"/dev/vd{letter}"
    raise DriverError("no free virtio disk name left")


def attach_volume(
    dom: Any, owner: DomainOwner, volume: VolumeConnection, ceph_conf: Path | None
) -> str:
    for volume_id, device in owner.volumes:
        if volume_id == volume.volume_id:
            return device
    device = volume.device_name or free_disk_target(dom)
    dom.attachDeviceFlags(to_string(rbd_disk(volume, device, ceph_conf)), _flags(dom))
    set_owner(
        dom,
        DomainOwner(
            owner.host, owner.name, owner.port_ids, (*owner.volumes, (volume.volume_id, device))
        ),
    )
    return device


def _find(dom: Any, path: str, match: str, value: str) -> ET.Element | None:
    for element in _devices(dom).iterfind(path):
        child = element.find(match)
        if child is not None and (child.text == value or child.get("dev") == value):
            return element
    return None


def _detach(dom: Any, path: str, match: str, value: str) -> bool:
    element = _find(dom, path, match, value)
    if element is None:
        return False
    dom.detachDeviceFlags(ET.tostring(element, encoding="unicode"), _flags(dom))
    deadline = time.monotonic() + DETACH_WAIT_S
    while dom.isActive() and _find(dom, path, match, value) is not None:
        if time.monotonic() > deadline:
            raise DriverError(f"the guest did not release {value} within {DETACH_WAIT_S:.0f} s")
        time.sleep(0.1)
    return True


def detach_volume(dom: Any, owner: DomainOwner, volume_id: UUID) -> bool:
    found = _detach(dom, "disk", "serial", str(volume_id))
    volumes = tuple((vid, dev) for vid, dev in owner.volumes if vid != volume_id)
    if volumes != owner.volumes:
        set_owner(dom, DomainOwner(owner.host, owner.name, owner.port_ids, volumes))
    return found


def attach_interface(dom: Any, owner: DomainOwner, port_id: UUID, iface: ET.Element) -> None:
    if port_id in owner.port_ids or _find(dom, "interface", "target", tap_name(port_id)):
        return
    dom.attachDeviceFlags(to_string(iface), _flags(dom))
    set_owner(dom, DomainOwner(owner.host, owner.name, (*owner.port_ids, port_id), owner.volumes))


def detach_interface(dom: Any, owner: DomainOwner, port_id: UUID) -> bool:
    found = _detach(dom, "interface", "target", tap_name(port_id))
    ports = tuple(p for p in owner.port_ids if p != port_id)
    if ports != owner.port_ids:
        set_owner(dom, DomainOwner(owner.host, owner.name, ports, owner.volumes))
    return found
