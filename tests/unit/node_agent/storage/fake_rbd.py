"""An in-memory Ceph: the part of the `rados`/`rbd` bindings' surface that
node_agent/drivers/storage/rbd_client.py uses, with librbd's rules as observed on Ceph 16
(scripts/stack/ceph.sh): a read-write open registers a watcher, a read-only one does not;
removing a watched image raises ImageBusy; a clone needs a protected snapshot and an
unprotect refuses while clones exist; images with snapshots cannot be removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from node_agent.drivers.storage.rbd_client import RbdApi


class Error(Exception):
    pass


class ObjectNotFound(Error):
    pass


class ImageNotFound(Error):
    pass


class ImageExists(Error):
    pass


class ImageBusy(Error):
    pass


class ImageHasSnapshots(Error):
    pass


class InvalidArgument(Error):
    pass


@dataclass
class Snap:
    data: bytes
    size: int
    protected: bool = False


@dataclass
class Stored:
    """An image; `data` holds only the bytes up to the last one written (sparse)."""

    size: int
    data: bytearray
    snaps: dict[str, Snap] = field(default_factory=dict)
    parent: tuple[str, str, str] | None = None
    watchers: set[int] = field(default_factory=set)


class FakeCeph:
    """The cluster: pools of images, shared by every `Rados` made from this fake."""

    def __init__(self, pools: tuple[str, ...] = ("rbd", "volumes", "images")) -> None:
        self.pools: dict[str, dict[str, Stored]] = {p: {} for p in pools}
        self.reachable = True
        self.connects = 0
        self._next_handle = 0
        self.api = RbdApi(
            rados=SimpleNamespace(Rados=self._rados, Error=Error, ObjectNotFound=ObjectNotFound),
            rbd=SimpleNamespace(
                RBD=lambda: _Rbd(self),
                Image=lambda ioctx, name, snapshot=None, read_only=False: _Image(
                    self, ioctx.pool, name, snapshot, read_only
                ),
                RBD_FEATURE_LAYERING=1,
                Error=Error,
                ImageNotFound=ImageNotFound,
                ImageExists=ImageExists,
                ImageBusy=ImageBusy,
                ImageHasSnapshots=ImageHasSnapshots,
            ),
        )

    def handle(self) -> int:
        self._next_handle += 1
        return self._next_handle

    def get(self, pool: str, name: str) -> Stored:
        try:
            return self.pools[pool][name]
        except KeyError:
            raise ImageNotFound(f"{pool}/{name}") from None

    def children_of(self, pool: str, name: str, snap: str | None) -> list[dict[str, str]]:
        return [
            {"pool": p, "pool_namespace": "", "image": n}
            for p, images in self.pools.items()
            for n, image in images.items()
            if image.parent is not None
            and image.parent[:2] == (pool, name)
            and (snap is None or image.parent[2] == snap)
        ]

    def _rados(self, conffile: str, rados_id: str) -> _Rados:
        return _Rados(self)


class _Rados:
    def __init__(self, ceph: FakeCeph) -> None:
        self.ceph = ceph

    def connect(self, timeout: int = 0) -> None:
        if not self.ceph.reachable:
            raise Error("connection timed out")
        self.ceph.connects += 1

    def open_ioctx(self, pool: str) -> SimpleNamespace:
        if pool not in self.ceph.pools:
            raise ObjectNotFound(pool)
        return SimpleNamespace(pool=pool, close=lambda: None)

    def shutdown(self) -> None:
        pass


class _Rbd:
    def __init__(self, ceph: FakeCeph) -> None:
        self.ceph = ceph

    def list(self, ioctx: Any) -> list[str]:
        return list(self.ceph.pools[ioctx.pool])

    def create(self, ioctx: Any, name: str, size: int, features: int = 0) -> None:
        images = self.ceph.pools[ioctx.pool]
        if name in images:
            raise ImageExists(name)
        images[name] = Stored(size, bytearray())

    def clone(
        self, p_ioctx: Any, p_name: str, p_snap: str, c_ioctx: Any, c_name: str, features: int = 0
    ) -> None:
        snap = self.ceph.get(p_ioctx.pool, p_name).snaps.get(p_snap)
        if snap is None:
            raise ImageNotFound(f"{p_name}@{p_snap}")
        if not snap.protected:
            raise InvalidArgument("parent snapshot must be protected")
        images = self.ceph.pools[c_ioctx.pool]
        if c_name in images:
            raise ImageExists(c_name)
        images[c_name] = Stored(
            snap.size, bytearray(snap.data), parent=(p_ioctx.pool, p_name, p_snap)
        )

    def remove(self, ioctx: Any, name: str) -> None:
        image = self.ceph.get(ioctx.pool, name)
        if image.watchers:
            raise ImageBusy(name)
        if image.snaps:
            raise ImageHasSnapshots(name)
        del self.ceph.pools[ioctx.pool][name]

    def rename(self, ioctx: Any, old: str, new: str) -> None:
        images = self.ceph.pools[ioctx.pool]
        if new in images:
            raise ImageExists(new)
        images[new] = images.pop(old)
        for image in (i for p in self.ceph.pools.values() for i in p.values()):
            if image.parent is not None and image.parent[:2] == (ioctx.pool, old):
                image.parent = (ioctx.pool, new, image.parent[2])


class _Image:
    def __init__(
        self, ceph: FakeCeph, pool: str, name: str, snapshot: str | None, read_only: bool
    ) -> None:
        self.ceph, self.pool, self.name = ceph, pool, name
        self.stored = ceph.get(pool, name)
        if snapshot is not None and snapshot not in self.stored.snaps:
            raise ImageNotFound(f"{name}@{snapshot}")
        self.snap = snapshot
        self.read_only = read_only
        self.handle = ceph.handle()
        if not read_only:
            self.stored.watchers.add(self.handle)

    def __enter__(self) -> _Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stored.watchers.discard(self.handle)

    def size(self) -> int:
        return self.stored.snaps[self.snap].size if self.snap else self.stored.size

    def resize(self, size: int) -> None:
        del self.stored.data[size:]
        self.stored.size = size

    def read(self, offset: int, length: int) -> bytes:
        data = self.stored.snaps[self.snap].data if self.snap else self.stored.data
        length = max(0, min(length, self.size() - offset))
        got = bytes(data[offset : offset + length])
        return got + bytes(length - len(got))

    def write(self, data: bytes, offset: int) -> int:
        if self.read_only or self.snap:
            raise Error("read-only")
        if offset + len(data) > self.stored.size:
            raise InvalidArgument("write past the end of the image")
        stored = self.stored.data
        if len(stored) < offset:
            stored.extend(bytes(offset - len(stored)))
        stored[offset : offset + len(data)] = data
        return len(data)

    def list_snaps(self) -> list[dict[str, Any]]:
        return [{"name": n, "size": s.size} for n, s in self.stored.snaps.items()]

    def create_snap(self, name: str) -> None:
        if name in self.stored.snaps:
            raise ImageExists(name)
        self.stored.snaps[name] = Snap(bytes(self.stored.data), self.stored.size)

    def protect_snap(self, name: str) -> None:
        self.stored.snaps[name].protected = True

    def is_protected_snap(self, name: str) -> bool:
        return self.stored.snaps[name].protected

    def unprotect_snap(self, name: str) -> None:
        if self.ceph.children_of(self.pool, self.name, name):
            raise ImageBusy(f"{self.name}@{name} has clones")
        self.stored.snaps[name].protected = False

    def remove_snap(self, name: str) -> None:
        if self.stored.snaps[name].protected:
            raise ImageBusy(f"{self.name}@{name} is protected")
        del self.stored.snaps[name]

    def set_snap(self, name: str | None) -> None:
        self.snap = name

    def list_children2(self) -> list[dict[str, str]]:
        return self.ceph.children_of(self.pool, self.name, self.snap)

    def watchers_list(self) -> list[dict[str, Any]]:
        return [{"addr": f"127.0.0.1:0/{h}", "id": h} for h in sorted(self.stored.watchers)]

    def parent_info(self) -> tuple[str, str, str]:
        if self.stored.parent is None:
            raise ImageNotFound("no parent")
        return self.stored.parent

    def copy(self, dest_ioctx: Any, dest_name: str) -> None:
        images = self.ceph.pools[dest_ioctx.pool]
        if dest_name in images:
            raise ImageExists(dest_name)
        data = self.stored.snaps[self.snap].data if self.snap else self.stored.data
        images[dest_name] = Stored(self.size(), bytearray(data))
