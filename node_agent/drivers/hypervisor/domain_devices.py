"""The `<devices>` entries of a domain, one builder each, shared by the definition and by
hot-plug (`attachDeviceFlags` takes the same element as a string).

- root disk: a qcow2 overlay file (`serial` `root`, so the guest finds it by name), or an
  RBD network disk;
- volumes: RBD network disks whose `<serial>` is the volume id (the guest sees its first
  20 characters), with the monitors, the ceph.conf (`<config file>`; without it QEMU reads
  /etc/ceph/ceph.conf) and, with cephx, the libvirt `ceph` secret;
- config drive: a read-only cdrom holding the ISO (label `config-2`);
- interfaces: a tap the VIF driver made and plugged (`type='ethernet'`, `managed='no'`),
  else a tap libvirt makes on a Linux bridge (`type='bridge'`), else on OVS `br-int` with
  the port id as `iface-id` (`<virtualport type='openvswitch'>`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from uuid import UUID

from schemas.messages.agent_compute import VolumeConnection
from schemas.network import Port
from schemas.storage import RbdConnection

ROOT_SERIAL = "root"
CONFIG_DRIVE_TARGET = "hdd"  # IDE secondary slave, where Nova puts it on i440fx machines


def tap_name(port_id: UUID) -> str:
    """The tap device of a port (Nova's and Neutron's naming)."""
    return f"tap{str(port_id)[:11]}"


def file_disk(path: Path, target: str, fmt: str = "qcow2", serial: str | None = None) -> ET.Element:
    disk = ET.Element("disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type=fmt)
    ET.SubElement(disk, "source", file=str(path))
    ET.SubElement(disk, "target", dev=target, bus="virtio")
    if serial:
        ET.SubElement(disk, "serial").text = serial
    return disk


def rbd_source(disk: ET.Element, rbd: RbdConnection, ceph_conf: Path | None) -> ET.Element:
    """The RBD source. With the agent's own ceph.conf, QEMU takes the monitors from it
    (the cluster the agent was pointed at is the truth, as with Nova's rbd settings);
    the monitors in the connection are used only by an agent without one."""
    source = ET.SubElement(disk, "source", protocol="rbd", name=f"{rbd.pool}/{rbd.image}")
    if ceph_conf is not None:
        ET.SubElement(source, "config", file=str(ceph_conf))
        return _rbd_auth(disk, rbd, source)
    for monitor in rbd.monitors:
        name, _, port = monitor.rpartition(":") if ":" in monitor else (monitor, "", "6789")
        ET.SubElement(source, "host", name=name or monitor, port=port or "6789")
    return _rbd_auth(disk, rbd, source)


def _rbd_auth(disk: ET.Element, rbd: RbdConnection, source: ET.Element) -> ET.Element:
    if rbd.auth_enabled and rbd.secret_uuid is not None:
        auth = ET.SubElement(disk, "auth", username=rbd.user)
        ET.SubElement(auth, "secret", type="ceph", uuid=str(rbd.secret_uuid))
    return source


def rbd_disk(volume: VolumeConnection, device: str, ceph_conf: Path | None = None) -> ET.Element:
    disk = ET.Element("disk", type="network", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="raw", cache="none")
    rbd_source(disk, volume.rbd, ceph_conf)
    ET.SubElement(disk, "target", dev=device.removeprefix("/dev/"), bus=volume.disk_bus)
    ET.SubElement(disk, "serial").text = str(volume.volume_id)
    if volume.read_only:
        ET.SubElement(disk, "readonly")
    if volume.shareable:
        ET.SubElement(disk, "shareable")
    return disk


def config_drive_disk(path: Path) -> ET.Element:
    disk = ET.Element("disk", type="file", device="cdrom")
    ET.SubElement(disk, "driver", name="qemu", type="raw")
    ET.SubElement(disk, "source", file=str(path))
    ET.SubElement(disk, "target", dev=CONFIG_DRIVE_TARGET, bus="ide")
    ET.SubElement(disk, "readonly")
    return disk


def interface(
    port: Port, *, tap: str | None = None, linux_bridge: str | None = None, ovs: str = "br-int"
) -> ET.Element:
    """The NIC of `port`: on the VIF driver's tap when given, else on a tap libvirt makes
    on `linux_bridge`, else on OVS bridge `ovs` with the port id as iface-id."""
    if tap is not None:
        iface = ET.Element("interface", type="ethernet")
        ET.SubElement(iface, "mac", address=str(port.mac_address))
        ET.SubElement(iface, "target", dev=tap, managed="no")
    else:
        iface = ET.Element("interface", type="bridge")
        ET.SubElement(iface, "mac", address=str(port.mac_address))
        ET.SubElement(iface, "source", bridge=linux_bridge or ovs)
        if linux_bridge is None:
            virtualport = ET.SubElement(iface, "virtualport", type="openvswitch")
            ET.SubElement(virtualport, "parameters", interfaceid=str(port.id))
        ET.SubElement(iface, "target", dev=tap_name(port.id))
    ET.SubElement(iface, "model", type="virtio")
    return iface


def serial_console(log_file: Path, *, pty: bool) -> list[ET.Element]:
    """A serial port logged to `log_file`: a pty (so `openConsole` works too) whose output
    virtlogd appends to the file, or (libvirt's test driver) a plain file."""
    if not pty:
        serial = ET.Element("serial", type="file")
        ET.SubElement(serial, "source", path=str(log_file))
        ET.SubElement(serial, "target", port="0")
        return [serial]
    serial = ET.Element("serial", type="pty")
    ET.SubElement(serial, "log", file=str(log_file), append="on")
    ET.SubElement(serial, "target", port="0")
    console = ET.Element("console", type="pty")
    ET.SubElement(console, "target", type="serial", port="0")
    return [serial, console]


def to_string(element: ET.Element) -> str:
    ET.indent(element)
    return ET.tostring(element, encoding="unicode")
