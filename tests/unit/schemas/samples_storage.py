"""Samples of the storage area's conductor messages (merged into samples.MESSAGE_SAMPLES)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from schemas.base import Message
from schemas.compute import ContainerFormat, DiskFormat, ImageStatus, Visibility
from schemas.messages import conductor_storage_api as api
from schemas.storage import Volume, VolumeStatus

IMAGE = UUID("6b1e7a2c-7f3e-4d2a-9c1b-3a4f5e6d7c8b")
VOLUME = UUID("0f5c3d2e-1b4a-4c8d-9e7f-6a5b4c3d2e1f")
PROJECT = UUID("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA512 = "cf83e1357eefb8bd" * 8


def _image() -> api.StoredImage:
    return api.StoredImage(
        id=IMAGE,
        name="cirros",
        status=ImageStatus.ACTIVE,
        visibility=Visibility.PRIVATE,
        owner=PROJECT,
        disk_format=DiskFormat.RAW,
        container_format=ContainerFormat.BARE,
        size=0,
        checksum=MD5,
        os_hash_algo="sha512",
        os_hash_value=SHA512,
        tags=("base",),
        properties={"hw_disk_bus": "virtio"},
        location=f"/var/lib/skymesh/images/{IMAGE}",
        created_at=NOW,
        updated_at=NOW,
    )


def _volume() -> Volume:
    return Volume(id=VOLUME, project_id=PROJECT, size_gb=1, status=VolumeStatus.AVAILABLE)


def messages() -> list[Message]:
    usage = api.QuotaUsage(limit=10, in_use=1, reserved=0)
    return [
        api.ImageReply(image=_image()),
        api.CreateImage(name="cirros", disk_format=DiskFormat.RAW, tags=("base",)),
        api.GetImage(image_id=IMAGE),
        api.FindImages(ids=(IMAGE,), name="cirros", visibility="all", limit=10),
        api.FindImagesReply(images=(_image(),), more=True),
        api.UpdateImage(image_id=IMAGE, name="renamed", set_properties={"os_distro": "cirros"}),
        api.DeleteImage(image_id=IMAGE),
        api.StartImageUpload(image_id=IMAGE),
        api.FinishImageUpload(
            image_id=IMAGE,
            location=f"/var/lib/skymesh/images/{IMAGE}",
            size=0,
            checksum=MD5,
            os_hash_value=SHA512,
        ),
        api.AbortImageUpload(image_id=IMAGE),
        api.VolumeReply(volume=_volume()),
        api.CreateBlockVolume(size_gb=1, name="v1", image_id=IMAGE, volume_type="__DEFAULT__"),
        api.FindVolumes(name="v1", status=VolumeStatus.AVAILABLE, limit=10),
        api.FindVolumesReply(volumes=(_volume(),), more=False),
        api.UpdateVolume(volume_id=VOLUME, name="v2", metadata={"k": "v"}),
        api.ExtendVolume(volume_id=VOLUME, new_size_gb=2),
        api.ResetVolumeStatus(volume_id=VOLUME, status=VolumeStatus.AVAILABLE),
        api.GetVolumeQuotas(project_id=PROJECT, defaults=True),
        api.SetVolumeQuotas(project_id=PROJECT, limits={"volumes": 20}),
        api.VolumeQuotasReply(project_id=PROJECT, quotas={"volumes": usage}),
    ]
