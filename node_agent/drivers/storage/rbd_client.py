"""Blocking calls to a Ceph cluster through Debian's `rados`/`rbd` bindings.

Everything here blocks (librados waits on the network): the RBD storage driver runs each
method in a thread (`asyncio.to_thread`). One `rados.Rados` connection per client, made
on first use; one I/O context per pool, kept open. The bindings are passed in (`RbdApi`)
so that unit tests run the same code against an in-memory fake of the same surface.

Inspection opens images read-only: a read-only open registers no watch, so
`watchers_list()` shows exactly the other clients (QEMU guests, `rbd map`) holding the
image open, which is what "attached" means here, as `rbd status` shows it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from node_agent.drivers.errors import InvalidStateError, NotFoundError, TransientError

GIB = 1 << 30
CONNECT_TIMEOUT_S = 10


class VolumeInUseError(InvalidStateError):
    """The RBD image is open by another client (a guest has it attached)."""


class VolumeHasClonesError(InvalidStateError):
    """Copy-on-write clones depend on a snapshot of the RBD image."""


@dataclass(frozen=True)
class RbdApi:
    """The two binding modules (`rados`, `rbd`), or fakes with the same surface."""

    rados: Any
    rbd: Any

    @classmethod
    def debian(cls) -> RbdApi:
        """Debian's modules, exposed to the venv by `scripts/stack/ceph.sh install`."""
        try:
            import rados
            import rbd
        except ImportError as exc:
            raise NotFoundError(
                "the rados/rbd bindings are not importable: run scripts/stack/ceph.sh install"
            ) from exc
        modules: tuple[ModuleType, ModuleType] = (rados, rbd)
        return cls(*modules)


@dataclass(frozen=True)
class ImageState:
    size: int
    snapshots: tuple[str, ...]
    parent: tuple[str, str, str] | None  # pool, image, snapshot


class RbdClient:
    """One cluster: its ceph.conf and the cephx user (None: client.admin, auth none)."""

    def __init__(self, conf: Path | None, user: str | None, api: RbdApi) -> None:
        self.conf, self.user, self.api = conf, user, api
        self._cluster: Any = None
        self._ioctxs: dict[str, Any] = {}
        self._lock = threading.Lock()

    # connection

    def ioctx(self, pool: str) -> Any:
        with self._lock:
            if self._cluster is None:
                cluster = self.api.rados.Rados(
                    conffile=str(self.conf) if self.conf else "", rados_id=self.user or "admin"
                )
                try:
                    cluster.connect(timeout=CONNECT_TIMEOUT_S)
                except self.api.rados.Error as exc:
                    cluster.shutdown()
                    raise TransientError(f"cannot reach the Ceph cluster: {exc}") from exc
                self._cluster = cluster
            if pool not in self._ioctxs:
                try:
                    self._ioctxs[pool] = self._cluster.open_ioctx(pool)
                except self.api.rados.ObjectNotFound as exc:
                    raise NotFoundError(f"no Ceph pool {pool!r}") from exc
            return self._ioctxs[pool]

    def close(self) -> None:
        with self._lock:
            for ioctx in self._ioctxs.values():
                ioctx.close()
            self._ioctxs.clear()
            if self._cluster is not None:
                self._cluster.shutdown()
                self._cluster = None

    # reading

    def exists(self, pool: str, name: str) -> bool:
        return name in self.api.rbd.RBD().list(self.ioctx(pool))

    def names(self, pool: str) -> list[str]:
        return list(self.api.rbd.RBD().list(self.ioctx(pool)))

    def state(self, pool: str, name: str) -> ImageState | None:
        """Size, snapshots and parent of an image; None when it does not exist."""
        try:
            with self._open(pool, name, read_only=True) as image:
                try:
                    parent = tuple(image.parent_info())
                except self.api.rbd.ImageNotFound:
                    parent = None
                snaps = tuple(s["name"] for s in image.list_snaps())
                return ImageState(image.size(), snaps, parent)
        except NotFoundError:
            return None

    def watchers(self, pool: str, name: str) -> list[str]:
        """The other clients that hold the image open, as `rbd status` lists them."""
        with self._open(pool, name, read_only=True) as image:
            return [str(w["addr"]) for w in image.watchers_list()]

    def children(self, pool: str, name: str) -> list[str]:
        """`pool/image` of every copy-on-write clone of any snapshot of the image."""
        with self._open(pool, name, read_only=True) as image:
            return [f"{c['pool']}/{c['image']}" for c in image.list_children2()]

    def read(self, pool: str, name: str, offset: int, length: int) -> bytes:
        with self._open(pool, name, read_only=True) as image:
            data: bytes = image.read(offset, length)
            return data

    # writing

    def create(self, pool: str, name: str, size: int) -> None:
        """An empty image with layering only: no exclusive lock, so that several guests
        may attach a multi-attach volume (the conductor decides who may)."""
        rbd = self.api.rbd
        rbd.RBD().create(self.ioctx(pool), name, size, features=rbd.RBD_FEATURE_LAYERING)

    def clone(self, source: tuple[str, str, str], pool: str, name: str) -> None:
        """A copy-on-write clone of `source` (pool, image, snapshot), protecting the
        snapshot first when it is not."""
        src_pool, src_name, snap = source
        with self._open(src_pool, src_name) as image:
            if snap not in {s["name"] for s in image.list_snaps()}:
                raise NotFoundError(f"no RBD snapshot {src_pool}/{src_name}@{snap}")
            if not image.is_protected_snap(snap):
                image.protect_snap(snap)
        rbd = self.api.rbd
        rbd.RBD().clone(
            self.ioctx(src_pool),
            src_name,
            snap,
            self.ioctx(pool),
            name,
            features=rbd.RBD_FEATURE_LAYERING,
        )

    def copy(self, source: tuple[str, str, str | None], pool: str, name: str) -> None:
        """A full, independent copy of an image (at a snapshot when one is named)."""
        src_pool, src_name, snap = source
        with self._open(src_pool, src_name, snapshot=snap, read_only=True) as image:
            image.copy(self.ioctx(pool), name)

    def resize(self, pool: str, name: str, size: int) -> None:
        with self._open(pool, name) as image:
            image.resize(size)

    def write(self, pool: str, name: str, data: bytes, offset: int = 0) -> None:
        with self._open(pool, name) as image:
            image.write(data, offset)

    def snapshot(self, pool: str, name: str, snap: str, *, protect: bool = True) -> None:
        """Create (if missing) and protect a snapshot, so it can be cloned."""
        with self._open(pool, name) as image:
            if snap not in {s["name"] for s in image.list_snaps()}:
                image.create_snap(snap)
            if protect and not image.is_protected_snap(snap):
                image.protect_snap(snap)

    def remove_snapshot(self, pool: str, name: str, snap: str) -> bool:
        """Unprotect and remove a snapshot; refuse while clones depend on it."""
        try:
            with self._open(pool, name) as image:
                if snap not in {s["name"] for s in image.list_snaps()}:
                    return False
                image.set_snap(snap)
                clones = [f"{c['pool']}/{c['image']}" for c in image.list_children2()]
                image.set_snap(None)
                if clones:
                    raise VolumeHasClonesError(
                        f"{pool}/{name}@{snap} has clones: {', '.join(clones)}"
                    )
                if image.is_protected_snap(snap):
                    image.unprotect_snap(snap)
                image.remove_snap(snap)
                return True
        except NotFoundError:
            return False

    def remove(self, pool: str, name: str) -> bool:
        """Remove an image; refuse (clearly) while it is open elsewhere, has clones or
        has snapshots. False when it does not exist."""
        state = self.state(pool, name)
        if state is None:
            return False
        watchers = self.watchers(pool, name)
        if watchers:
            raise VolumeInUseError(
                f"{pool}/{name} is attached (open by {', '.join(watchers)}); detach it first"
            )
        clones = self.children(pool, name)
        if clones:
            raise VolumeHasClonesError(f"{pool}/{name} has clones: {', '.join(clones)}")
        if state.snapshots:
            raise InvalidStateError(
                f"{pool}/{name} has snapshots: {', '.join(state.snapshots)}; delete them first"
            )
        rbd = self.api.rbd
        try:
            rbd.RBD().remove(self.ioctx(pool), name)
        except rbd.ImageNotFound:
            return False
        except rbd.ImageBusy as exc:  # opened between the check and the removal
            raise VolumeInUseError(f"{pool}/{name} is attached: {exc}") from exc
        except rbd.ImageHasSnapshots as exc:
            raise InvalidStateError(f"{pool}/{name} has snapshots: {exc}") from exc
        return True

    def rename(self, pool: str, old: str, new: str) -> None:
        self.api.rbd.RBD().rename(self.ioctx(pool), old, new)

    def _open(
        self, pool: str, name: str, *, snapshot: str | None = None, read_only: bool = False
    ) -> Any:
        rbd = self.api.rbd
        try:
            return rbd.Image(self.ioctx(pool), name, snapshot=snapshot, read_only=read_only)
        except rbd.ImageNotFound as exc:
            at = f"@{snapshot}" if snapshot else ""
            raise NotFoundError(f"no RBD image {pool}/{name}{at}") from exc
