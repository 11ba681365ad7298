"""The image store: where image bytes live. The gateway streams uploads into it and
downloads out of it; only metadata (location, size, checksums) goes to the conductor.

`LocalImageStore` is a directory shared with the conductor and the compute agents
(the conductor's `image_dir`; conductor/build.py hands compute agents the file path
recorded as the image's location). A Ceph RBD store (an `images` pool with one RBD
image and a protected `snap` snapshot per image, as Glance's RBD store lays them out)
belongs to the real-storage work and is not implemented here.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol
from uuid import UUID

from corebus.config import GatewaySettings, default_home

CHUNK = 1 << 16


class ImageTooLarge(Exception):
    """The data passed the size cap; nothing was stored."""


@dataclass(frozen=True)
class StoredData:
    location: str
    size: int
    checksum: str  # md5, Glance's `checksum`
    os_hash_value: str  # sha512, Glance's multihash


class ImageStore(Protocol):
    async def put(
        self, image_id: UUID, chunks: AsyncIterable[bytes], *, limit: int
    ) -> StoredData: ...

    def read(self, location: str) -> AsyncIterator[bytes]: ...

    async def delete(self, location: str) -> None: ...

    def owns(self, location: str) -> bool: ...

    async def size_of(self, location: str) -> int: ...


class LocalImageStore:
    """Files named by image id in one directory; each upload is written to a temporary
    file, flushed to disk and renamed, so a reader never sees half an image."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()

    async def put(self, image_id: UUID, chunks: AsyncIterable[bytes], *, limit: int) -> StoredData:
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        final = self.directory / str(image_id)
        partial = self.directory / f".{image_id}.{uuid.uuid4().hex}.part"
        md5, sha512 = hashlib.md5(), hashlib.sha512()
        size = 0
        handle = await asyncio.to_thread(partial.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ImageTooLarge(f"image data exceeds the size cap of {limit} bytes")
                await asyncio.to_thread(_write, handle, chunk, md5, sha512)
            await asyncio.to_thread(_seal, handle, partial, final)
        except BaseException:
            await asyncio.to_thread(_discard, handle, partial)
            raise
        return StoredData(str(final), size, md5.hexdigest(), sha512.hexdigest())

    async def read(self, location: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self._path(location).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def delete(self, location: str) -> None:
        if self.owns(location):
            await asyncio.to_thread(self._path(location).unlink, missing_ok=True)

    def owns(self, location: str) -> bool:
        path = Path(location.removeprefix("file://"))
        return path.is_absolute() and path.resolve().parent == self.directory

    async def size_of(self, location: str) -> int:
        stat = await asyncio.to_thread(self._path(location).stat)
        return stat.st_size

    def _path(self, location: str) -> Path:
        if not self.owns(location):
            raise FileNotFoundError(f"{location} is not in the image store")
        return Path(location.removeprefix("file://")).resolve()


def _write(handle: IO[bytes], chunk: bytes, md5: hashlib._Hash, sha512: hashlib._Hash) -> None:
    handle.write(chunk)
    md5.update(chunk)
    sha512.update(chunk)


def _seal(handle: IO[bytes], partial: Path, final: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    partial.replace(final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _discard(handle: IO[bytes], partial: Path) -> None:
    handle.close()
    partial.unlink(missing_ok=True)


def image_store(settings: GatewaySettings) -> LocalImageStore:
    """The configured store: the gateway's `image_dir`, by default the same directory
    the conductor uses ($SKYMESH_HOME/images)."""
    directory = Path(settings.image_dir) if settings.image_dir else default_home() / "images"
    return LocalImageStore(directory)
