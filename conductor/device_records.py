"""Volume, attachment and port rows as contracts (schemas models), and the RBD
coordinates of a volume on the storage backend.

The backend is one Ceph pool, `volumes`, holding image `volume-<id>` per volume, as
Cinder's RBD driver names them. Its monitors and cephx secret come from deployment
configuration once a real Ceph backend is wired; until then the fake storage driver
needs none, so connections carry a placeholder monitor and no authentication.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from conductor.records import model_from_row
from schemas.messages.agent_storage import RbdImage
from schemas.network import Port
from schemas.storage import RbdConnection, Volume, VolumeAttachment

POOL = "volumes"
MONITORS = ("127.0.0.1:6789",)


def rbd_image(volume_id: UUID) -> RbdImage:
    return RbdImage(pool=POOL, image=f"volume-{volume_id}")


def rbd_connection(volume: Mapping[str, Any]) -> RbdConnection:
    """How a compute host reaches the volume (Cinder's connection_info for RBD)."""
    image = rbd_image(volume["id"])
    return RbdConnection(pool=image.pool, image=image.image, monitors=MONITORS, auth_enabled=False)


def attachment_from_row(row: Mapping[str, Any]) -> VolumeAttachment:
    info = row.get("connection_info") or None
    return model_from_row(
        VolumeAttachment,
        row,
        host=row.get("attached_host"),
        mode=row.get("attach_mode", "rw"),
        connection=RbdConnection.model_validate(info) if info else None,
    )


def volume_from_row(
    row: Mapping[str, Any], attachments: Iterable[Mapping[str, Any]] = ()
) -> Volume:
    return model_from_row(
        Volume, row, attachments=tuple(attachment_from_row(a) for a in attachments)
    )


def port_from_row(row: Mapping[str, Any]) -> Port:
    return model_from_row(Port, row)
