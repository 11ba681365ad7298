"""Images in Glance v2's JSON: the image document (core attributes plus extra
properties as top-level keys), the list envelope with its `next` link, and the JSON
schemas Glance publishes under /v2/schemas."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from gateway.http import iso
from schemas.compute import ContainerFormat, DiskFormat, ImageStatus, Visibility
from schemas.messages.conductor_storage_api import StoredImage

# attributes the API computes: a create or patch naming them is refused (403)
READ_ONLY = frozenset(
    {
        "id",
        "status",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "size",
        "virtual_size",
        "owner",
        "created_at",
        "updated_at",
        "self",
        "file",
        "schema",
        "direct_url",
        "locations",
        "location",
        "deleted",
        "deleted_at",
        "stores",
    }
)
# attributes a user sets (the rest of a create body are extra properties)
WRITABLE = frozenset(
    {
        "name",
        "visibility",
        "disk_format",
        "container_format",
        "min_disk",
        "min_ram",
        "protected",
        "tags",
        "os_hidden",
    }
)
CORE = READ_ONLY | WRITABLE


def image_view(image: StoredImage) -> dict[str, Any]:
    has_data = image.checksum is not None or image.size is not None
    body: dict[str, Any] = dict(image.properties)
    body.update(
        {
            "id": str(image.id),
            "name": image.name or None,
            "status": image.status.value,
            "visibility": image.visibility.value,
            "owner": str(image.owner) if image.owner else None,
            "protected": image.protected,
            "os_hidden": False,
            "checksum": image.checksum,
            "os_hash_algo": image.os_hash_algo if has_data else None,
            "os_hash_value": image.os_hash_value,
            "size": image.size,
            "virtual_size": image.virtual_size,
            "min_disk": image.min_disk,
            "min_ram": image.min_ram,
            "disk_format": image.disk_format.value if image.disk_format else None,
            "container_format": image.container_format.value if image.container_format else None,
            "tags": list(image.tags),
            "created_at": iso(image.created_at),
            "updated_at": iso(image.updated_at),
            "self": f"/v2/images/{image.id}",
            "file": f"/v2/images/{image.id}/file",
            "schema": "/v2/schemas/image",
        }
    )
    return body


def image_list_view(
    images: tuple[StoredImage, ...], more: bool, query: dict[str, str]
) -> dict[str, Any]:
    """The list envelope; `next` repeats the query with the last image as marker."""
    body: dict[str, Any] = {
        "images": [image_view(image) for image in images],
        "first": "/v2/images" + (f"?{urlencode(query)}" if query else ""),
        "schema": "/v2/schemas/images",
    }
    if more and images:
        following = {k: v for k, v in query.items() if k != "marker"}
        following["marker"] = str(images[-1].id)
        body["next"] = "/v2/images?" + urlencode(following)
    return body


def _nullable_enum(values: list[str]) -> dict[str, Any]:
    return {"type": ["null", "string"], "enum": [None, *values]}


def image_schema() -> dict[str, Any]:
    """Glance's image schema (what osc and the SDK read to know the attributes)."""
    uuid = {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"}
    stamp = {"type": "string", "readOnly": True}
    return {
        "name": "image",
        "properties": {
            "id": {**uuid, "description": "An identifier for the image"},
            "name": {"type": ["null", "string"], "maxLength": 255},
            "status": {"type": "string", "readOnly": True, "enum": [s.value for s in ImageStatus]},
            "visibility": {"type": "string", "enum": [v.value for v in Visibility]},
            "protected": {"type": "boolean"},
            "os_hidden": {"type": "boolean"},
            "checksum": {"type": ["null", "string"], "readOnly": True, "maxLength": 32},
            "os_hash_algo": {"type": ["null", "string"], "readOnly": True, "maxLength": 64},
            "os_hash_value": {"type": ["null", "string"], "readOnly": True, "maxLength": 128},
            "owner": {"type": ["null", "string"], "maxLength": 255},
            "size": {"type": ["null", "integer"], "readOnly": True},
            "virtual_size": {"type": ["null", "integer"], "readOnly": True},
            "container_format": _nullable_enum([c.value for c in ContainerFormat]),
            "disk_format": _nullable_enum([d.value for d in DiskFormat]),
            "created_at": stamp,
            "updated_at": stamp,
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "min_ram": {"type": "integer"},
            "min_disk": {"type": "integer"},
            "self": {"type": "string", "readOnly": True},
            "file": {"type": "string", "readOnly": True},
            "schema": {"type": "string", "readOnly": True},
        },
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def images_schema() -> dict[str, Any]:
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_schema()},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }
