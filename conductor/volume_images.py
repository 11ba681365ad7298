"""Volumes made from images, shared by the Block Storage API
(conductor/storage_api_volumes.py) and the boot from volume (conductor/boot_volumes.py).

The storage agent clones such a volume from the image's RBD snapshot
`images/<image id>@snap` (Glance's RBD store layout).
"""

from __future__ import annotations

import math
from uuid import UUID

from conductor.db.queries import image_api
from conductor.db.types import Connection
from schemas.errors import InvalidInput
from schemas.messages import agent_storage as storage

GIB = 1 << 30
IMAGE_POOL = "images"
IMAGE_SNAPSHOT = "snap"


def image_source(image_id: UUID) -> storage.RbdImage:
    """Where the storage agent clones a volume of `image_id` from."""
    return storage.RbdImage(pool=IMAGE_POOL, image=str(image_id), snapshot=IMAGE_SNAPSHOT)


async def check_image(conn: Connection, image_id: UUID, size_gb: int, scope: UUID | None) -> None:
    """The image exists for the caller (every image for scope None), is active and fits
    in a volume of `size_gb`."""
    image = await image_api.visible_image(conn, image_id, scope)
    if image is None:
        raise InvalidInput("Invalid image identifier or unable to access requested image.")
    if image["status"] != "active":
        raise InvalidInput(f"Image {image_id} is not active.")
    needed = max(math.ceil((image["size"] or 0) / GIB), image["min_disk"])
    if needed > size_gb:
        raise InvalidInput(
            f"Image {image_id} needs a volume of at least {needed} GB (requested {size_gb} GB)."
        )
