"""Conductor RPC: the catalog a user picks from (flavors and images)."""

from __future__ import annotations

from pydantic import Field

from schemas.base import Message
from schemas.compute import Flavor, Image


class ListFlavors(Message):
    """Flavors the caller's project may use; `name` filters exactly."""

    message_name = "conductor.list_flavors"
    message_version = 1

    name: str | None = Field(None, min_length=1, max_length=255)


class ListFlavorsReply(Message):
    message_name = "conductor.list_flavors.reply"
    message_version = 1

    flavors: tuple[Flavor, ...] = ()


class ListImages(Message):
    """Images the caller's project may see; `name` filters exactly."""

    message_name = "conductor.list_images"
    message_version = 1

    name: str | None = Field(None, min_length=1, max_length=255)
    status: str | None = Field(None, max_length=32)


class ListImagesReply(Message):
    message_name = "conductor.list_images.reply"
    message_version = 1

    images: tuple[Image, ...] = ()
