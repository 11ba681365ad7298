"""The config drive: an ISO 9660 image labelled `config-2` in the OpenStack layout, as
Nova writes it and cloud-init reads it.

    openstack/latest/meta_data.json     uuid, name, hostname, public_keys, meta,
                                        availability_zone, launch_index
    openstack/latest/user_data          when the server has user data
    openstack/latest/network_data.json  links (one per port, by MAC), networks, services

Built with genisoimage (Joliet + Rock Ridge, as Nova does). Blocking: run in a thread.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from node_agent.drivers.errors import DriverError
from schemas.messages.agent_compute import ConfigDriveData
from schemas.network import Port

LABEL = "config-2"


def meta_data(instance_id: UUID, name: str, data: ConfigDriveData) -> dict[str, Any]:
    return {
        "uuid": str(instance_id),
        "name": name,
        "hostname": data.hostname,
        "launch_index": 0,
        "availability_zone": data.availability_zone,
        "public_keys": dict(data.public_keys),
        "keys": [
            {"name": key_name, "type": "ssh", "data": key}
            for key_name, key in data.public_keys.items()
        ],
        "meta": dict(data.metadata),
        "devices": [],
    }


def network_data(ports: tuple[Port, ...]) -> dict[str, Any]:
    links, networks = [], []
    for index, port in enumerate(ports):
        link_id = f"tap{str(port.id)[:11]}"
        links.append(
            {
                "id": link_id,
                "vif_id": str(port.id),
                "type": "ovs",
                "ethernet_mac_address": str(port.mac_address),
                "mtu": port.mtu,
            }
        )
        for fixed in port.fixed_ips:
            address = str(fixed.ip_address)
            networks.append(
                {
                    "id": f"network{index}",
                    "type": "ipv6_dhcp" if ":" in address else "ipv4_dhcp",
                    "link": link_id,
                    "network_id": str(port.network_id),
                    "ip_address": address,
                }
            )
    return {"links": links, "networks": networks, "services": []}


def build_config_drive(
    path: Path, instance_id: UUID, name: str, data: ConfigDriveData, ports: tuple[Port, ...]
) -> Path:
    """Write the ISO to `path` (replacing it atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".config-drive.") as tmp:
        latest = Path(tmp) / "tree" / "openstack" / "latest"
        latest.mkdir(parents=True)
        (latest / "meta_data.json").write_text(json.dumps(meta_data(instance_id, name, data)))
        (latest / "network_data.json").write_text(json.dumps(network_data(ports)))
        if data.user_data is not None:
            (latest / "user_data").write_text(data.user_data)
        iso = Path(tmp) / "config.iso"
        tool = shutil.which("genisoimage") or shutil.which("mkisofs")
        if tool is None:
            raise DriverError("genisoimage is not installed (scripts/stack/libvirt.sh install)")
        proc = subprocess.run(
            [tool, "-quiet", "-o", str(iso), "-V", LABEL, "-J", "-R", str(Path(tmp) / "tree")],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise DriverError(f"genisoimage failed: {proc.stderr.strip()}")
        iso.rename(path)
    return path
