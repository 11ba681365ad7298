"""Volumes, volume types and quotas in Cinder v3's JSON, shaped per microversion."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from aiohttp import web

from gateway.http import iso, url
from gateway.microversion import Version
from schemas.messages.conductor_storage_api import QuotaUsage
from schemas.storage import AttachStatus, Volume

# the one volume type: Cinder's default type (every volume is RBD backed here)
DEFAULT_TYPE = "__DEFAULT__"
DEFAULT_TYPE_ID = str(uuid5(NAMESPACE_URL, "skymesh:volume-type:__DEFAULT__"))


def volume_links(request: web.Request, volume_id: UUID) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": url(request, f"/volume/v3/volumes/{volume_id}")},
        {"rel": "bookmark", "href": url(request, f"/volume/volumes/{volume_id}")},
    ]


def volume_summary(request: web.Request, volume: Volume) -> dict[str, Any]:
    return {"id": str(volume.id), "name": volume.name, "links": volume_links(request, volume.id)}


def attachments_view(volume: Volume) -> list[dict[str, Any]]:
    """Cinder lists only attached attachments; its `id` is the volume's id."""
    return [
        {
            "id": str(volume.id),
            "attachment_id": str(a.id),
            "volume_id": str(volume.id),
            "server_id": str(a.instance_id),
            "host_name": a.host,
            "device": a.device,
            "attached_at": iso(a.attached_at),
        }
        for a in volume.attachments
        if a.status is AttachStatus.ATTACHED
    ]


def volume_detail(
    request: web.Request, volume: Volume, version: Version, *, admin: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(volume.id),
        "name": volume.name,
        "description": volume.description,
        "status": volume.status.value,
        "size": volume.size_gb,
        "availability_zone": volume.availability_zone,
        "created_at": iso(volume.created_at),
        "updated_at": iso(volume.updated_at),
        "attachments": attachments_view(volume),
        "bootable": "true" if volume.bootable else "false",
        "encrypted": volume.encrypted,
        "multiattach": volume.multiattach,
        "volume_type": volume.volume_type or DEFAULT_TYPE,
        "metadata": dict(volume.metadata),
        "user_id": str(volume.user_id) if volume.user_id else None,
        "os-vol-tenant-attr:tenant_id": str(volume.project_id),
        "snapshot_id": str(volume.snapshot_id) if volume.snapshot_id else None,
        "source_volid": str(volume.source_volume_id) if volume.source_volume_id else None,
        "consistencygroup_id": None,
        "replication_status": None,
        "migration_status": None,
        "links": volume_links(request, volume.id),
    }
    if volume.image_id is not None:
        body["volume_image_metadata"] = {"image_id": str(volume.image_id)}
    if admin:
        body["os-vol-mig-status-attr:migstat"] = None
        body["os-vol-mig-status-attr:name_id"] = None
    if version >= (3, 13):
        body["group_id"] = None
    if version >= (3, 48):
        body["shared_targets"] = False
        body["service_uuid"] = None
    return body


def volume_type_view() -> dict[str, Any]:
    return {
        "id": DEFAULT_TYPE_ID,
        "name": DEFAULT_TYPE,
        "description": "Default Volume Type",
        "is_public": True,
        "os-volume-type-access:is_public": True,
        "extra_specs": {},
        "qos_specs_id": None,
    }


def quota_set_view(
    project_id: UUID, quotas: dict[str, QuotaUsage], *, usage: bool
) -> dict[str, Any]:
    """Cinder's quota_set: limits, or {limit, in_use, reserved, allocated} with usage;
    the per-type keys repeat the totals for the one type."""
    body: dict[str, Any] = {"id": str(project_id)}
    for resource, found in quotas.items():
        value: Any = found.limit
        if usage:
            value = {
                "limit": found.limit,
                "in_use": found.in_use,
                "reserved": found.reserved,
                "allocated": 0,
            }
        body[resource] = value
        body[f"{resource}_{DEFAULT_TYPE}"] = value
    return body


def limits_view(quotas: dict[str, QuotaUsage]) -> dict[str, Any]:
    def get(name: str) -> QuotaUsage:
        return quotas.get(name, QuotaUsage(limit=-1))

    return {
        "limits": {
            "rate": [],
            "absolute": {
                "maxTotalVolumes": get("volumes").limit,
                "maxTotalSnapshots": get("snapshots").limit,
                "maxTotalVolumeGigabytes": get("gigabytes").limit,
                "totalVolumesUsed": get("volumes").in_use,
                "totalSnapshotsUsed": get("snapshots").in_use,
                "totalGigabytesUsed": get("gigabytes").in_use,
            },
        }
    }
