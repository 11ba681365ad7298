"""Compute catalogue: flavors (with extra specs) and images."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator

from schemas.base import Model, Resource
from schemas.types import Description, Name, NonNegInt, PositiveInt

_SPEC_KEY = re.compile(r"^[A-Za-z0-9_\-.:]{1,255}$")
_ALIAS_LIST = re.compile(r"^[A-Za-z0-9_\-.]+(:[1-9][0-9]*)?(,[A-Za-z0-9_\-.]+(:[1-9][0-9]*)?)*$")

KNOWN_SPECS: dict[str, re.Pattern[str]] = {
    "hw:cpu_policy": re.compile(r"^(shared|dedicated)$"),
    "hw:numa_nodes": re.compile(r"^[1-9][0-9]?$"),
    "hw:pci_numa_affinity_policy": re.compile(r"^(required|preferred|legacy|socket)$"),
    "pci_passthrough:alias": _ALIAS_LIST,
    "hw:mem_page_size": re.compile(r"^(small|large|any|[1-9][0-9]*(KB|MB|GB)?)$"),
    "hw:cpu_thread_policy": re.compile(r"^(prefer|isolate|require)$"),
    "hw_rng:allowed": re.compile(r"^(true|false|True|False)$"),
    "quota:disk_read_bytes_sec": re.compile(r"^[0-9]+$"),
    "quota:disk_write_bytes_sec": re.compile(r"^[0-9]+$"),
}
"""Extra specs whose values skymesh understands and validates; other keys pass through."""
_NUMA_CELL_SPEC = re.compile(r"^hw:numa_(cpus|mem)\.[0-9]+$")
_TRAIT_SPEC = re.compile(r"^trait:[A-Z][A-Z0-9_]*$")


def _extra_specs(specs: dict[str, str]) -> dict[str, str]:
    for key, value in specs.items():
        if not _SPEC_KEY.match(key):
            raise ValueError(f"invalid extra spec key {key!r}")
        pattern = KNOWN_SPECS.get(key)
        if pattern is not None and not pattern.match(value):
            raise ValueError(f"invalid value {value!r} for extra spec {key!r}")
        if _TRAIT_SPEC.match(key) and value not in ("required", "forbidden"):
            raise ValueError(f"trait extra spec {key!r} must be 'required' or 'forbidden'")
        if _NUMA_CELL_SPEC.match(key) and not re.match(r"^[0-9,\-^]+$", value):
            raise ValueError(f"invalid value {value!r} for extra spec {key!r}")
    return specs


ExtraSpecs = Annotated[
    dict[
        Annotated[str, StringConstraints(max_length=255)],
        Annotated[str, StringConstraints(max_length=255)],
    ],
    AfterValidator(_extra_specs),
]


class Flavor(Resource):
    """A server size. Nova calls memory_mb `ram` and disk_gb `disk`; the gateway renames."""

    id: UUID
    name: Name
    vcpus: PositiveInt
    memory_mb: PositiveInt
    disk_gb: NonNegInt = 0
    ephemeral_gb: NonNegInt = 0
    swap_mb: NonNegInt = 0
    is_public: bool = True
    disabled: bool = False
    description: Description = ""
    extra_specs: ExtraSpecs = Field(default_factory=dict)


class ImageStatus(StrEnum):
    QUEUED = "queued"
    SAVING = "saving"
    UPLOADING = "uploading"
    IMPORTING = "importing"
    ACTIVE = "active"
    KILLED = "killed"
    DELETED = "deleted"
    PENDING_DELETE = "pending_delete"
    DEACTIVATED = "deactivated"


class DiskFormat(StrEnum):
    RAW = "raw"
    QCOW2 = "qcow2"
    VMDK = "vmdk"
    VDI = "vdi"
    VHD = "vhd"
    VHDX = "vhdx"
    ISO = "iso"
    PLOOP = "ploop"
    AMI = "ami"
    ARI = "ari"
    AKI = "aki"


class ContainerFormat(StrEnum):
    BARE = "bare"
    OVF = "ovf"
    OVA = "ova"
    AMI = "ami"
    ARI = "ari"
    AKI = "aki"
    DOCKER = "docker"
    COMPRESSED = "compressed"


class Visibility(StrEnum):
    PUBLIC = "public"
    COMMUNITY = "community"
    SHARED = "shared"
    PRIVATE = "private"


class Image(Resource):
    """A Glance-like image. `properties` holds hw_* hints (hw_disk_bus, hw_vif_model, ...)."""

    id: UUID
    name: Name
    status: ImageStatus = ImageStatus.QUEUED
    disk_format: DiskFormat | None = None
    container_format: ContainerFormat | None = None
    size: NonNegInt | None = None
    virtual_size: NonNegInt | None = None
    checksum: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    os_hash_algo: str | None = None
    os_hash_value: str | None = Field(None, pattern=r"^[0-9a-f]{32,128}$")
    min_disk: NonNegInt = 0
    min_ram: NonNegInt = 0
    visibility: Visibility = Visibility.SHARED
    protected: bool = False
    owner: UUID | None = None
    properties: dict[str, str] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class ImageLocationKind(StrEnum):
    FILE = "file"
    RBD = "rbd"


class ImageLocation(Model):
    """Where an image's bytes are: a file in the image store, or an RBD image snapshot."""

    kind: ImageLocationKind
    path: str | None = None
    pool: str | None = None
    image: str | None = None
    snapshot: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind is ImageLocationKind.FILE and not self.path:
            raise ValueError("a file image location needs a path")
        if self.kind is ImageLocationKind.RBD and not (self.pool and self.image):
            raise ValueError("an rbd image location needs pool and image")
        return self
