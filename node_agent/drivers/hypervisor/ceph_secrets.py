"""libvirt `ceph` secrets for cephx: QEMU reads the user's key from a secret whose UUID
the RBD disk names (`<auth username=...><secret type='ceph' uuid=.../>`).

The UUID comes with the volume's connection (RbdConnection.secret_uuid); the key from the
user's keyring, found through ceph.conf's `keyring` option (`$cluster`, `$name`
expanded) or `/etc/ceph/ceph.client.<user>.keyring`. A secret is defined when a disk needs
it and undefined once no domain on the connection (of any agent sharing the libvirtd)
names it. Blocking: run in threads.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from uuid import UUID

import libvirt

from node_agent.drivers.errors import DriverError


def keyring_paths(conf: Path | None, user: str) -> list[Path]:
    name = f"client.{user}"
    found: list[Path] = []
    if conf is not None and conf.is_file():
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read(conf)
        for section in (name, "client", "global"):
            if parser.has_option(section, "keyring"):
                for entry in parser.get(section, "keyring").split(","):
                    expanded = entry.strip().replace("$cluster", "ceph").replace("$name", name)
                    found.append(Path(expanded))
        found.append(conf.parent / f"ceph.{name}.keyring")
        found.append(conf.parent / f"{name}.keyring")
    found.append(Path(f"/etc/ceph/ceph.{name}.keyring"))
    return found


def read_key(conf: Path | None, user: str) -> str:
    """The base64 key of client.<user>."""
    name = f"client.{user}"
    for path in keyring_paths(conf, user):
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read(path)
        if parser.has_option(name, "key"):
            return parser.get(name, "key").strip()
    raise DriverError(f"no keyring with a key for {name} (ceph.conf {conf})")


def ensure_secret(conn: Any, uuid: UUID, user: str, key: str) -> None:
    """Define the secret (or reuse the one with that UUID) and set its value."""
    try:
        secret = conn.secretLookupByUUIDString(str(uuid))
    except libvirt.libvirtError:
        root = ET.Element("secret", ephemeral="no", private="yes")
        ET.SubElement(root, "uuid").text = str(uuid)
        ET.SubElement(root, "description").text = f"skymesh cephx key of client.{user}"
        usage = ET.SubElement(root, "usage", type="ceph")
        ET.SubElement(usage, "name").text = f"skymesh client.{user} {uuid}"
        secret = conn.secretDefineXML(ET.tostring(root, encoding="unicode"))
    secret.setValue(base64.b64decode(key))


def secrets_in_use(conn: Any) -> set[str]:
    used = set()
    for dom in conn.listAllDomains():
        with contextlib.suppress(libvirt.libvirtError):
            for el in ET.fromstring(dom.XMLDesc(0)).iterfind("devices/disk/auth/secret"):
                used.add(el.get("uuid", ""))
    return used


def remove_unused(conn: Any, uuids: set[UUID]) -> list[UUID]:
    """Undefine those of `uuids` that no domain names any more; the ones removed."""
    used = secrets_in_use(conn)
    removed = []
    for uuid in uuids:
        if str(uuid) in used:
            continue
        with contextlib.suppress(libvirt.libvirtError):
            conn.secretLookupByUUIDString(str(uuid)).undefine()
            removed.append(uuid)
    return removed
