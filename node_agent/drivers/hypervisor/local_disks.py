"""Local root disks: qcow2 overlays on base images cached in the agent's state dir.

`<state>/_base/<image id>` is a copy of the image file (the image store's file may go
away or change; the cache never does), made once and renamed into place atomically;
`<state>/instances/<id>/disk` is a qcow2 overlay whose backing file is that base
(`qemu-img create -b BASE -F raw|qcow2`). A base is in use while any overlay's qcow2
header names it; `prune_bases` deletes only the bases no overlay in the state dir names,
so there is no counter to get wrong: the overlays are the reference count.

Blocking: run these in threads.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import struct
import subprocess
from pathlib import Path
from uuid import UUID

from node_agent.drivers.errors import DriverError

QCOW2_MAGIC = b"QFI\xfb"


def _run(*cmd: str | Path) -> str:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DriverError(f"{cmd[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def base_dir(state_dir: Path) -> Path:
    return state_dir / "_base"


def image_format(path: Path) -> str:
    """`raw` or `qcow2`, from the file itself (never from what the image record says)."""
    info = json.loads(_run("qemu-img", "info", "--output=json", "-U", path))
    fmt = str(info["format"])
    if fmt not in ("raw", "qcow2"):
        raise DriverError(f"image {path} is {fmt}: only raw and qcow2 images boot here")
    return fmt


def virtual_size(path: Path) -> int:
    return int(json.loads(_run("qemu-img", "info", "--output=json", "-U", path))["virtual-size"])


def cached_base(state_dir: Path, image_id: UUID, source: Path) -> tuple[Path, str]:
    """The cached copy of the image (made now when missing) and its format."""
    bases = base_dir(state_dir)
    bases.mkdir(parents=True, exist_ok=True)
    base = bases / str(image_id)
    with open(bases / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not base.exists():
            if not source.is_file():
                raise DriverError(f"image file {source} is missing on this host")
            partial = bases / f".{image_id}.partial"
            shutil.copyfile(source, partial)
            partial.rename(base)
    return base, image_format(base)


def create_overlay(base: Path, fmt: str, overlay: Path, size_bytes: int = 0) -> None:
    """A qcow2 overlay on `base`, at least `size_bytes` big (the base's size when 0)."""
    overlay.parent.mkdir(parents=True, exist_ok=True)
    size = max(size_bytes, virtual_size(base))
    partial = overlay.with_name(overlay.name + ".partial")
    _run("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", fmt, partial, str(size))
    partial.rename(overlay)


def grow(overlay: Path, size_bytes: int) -> None:
    """Grow the overlay to `size_bytes` (never shrinks: a resize down keeps the disk)."""
    if size_bytes > virtual_size(overlay):
        _run("qemu-img", "resize", "-q", overlay, str(size_bytes))


def rebase(overlay: Path, base: Path, fmt: str) -> None:
    """Point the overlay at another copy of the same base (unsafe rebase: no data moves)."""
    _run("qemu-img", "rebase", "-u", "-f", "qcow2", "-b", base, "-F", fmt, overlay)


def backing_file(path: Path) -> Path | None:
    """The backing file a qcow2 header names (None for raw files or no backing file)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(20)
            if len(header) < 20 or header[:4] != QCOW2_MAGIC:
                return None
            offset, size = struct.unpack(">QI", header[8:20])
            if not offset or not size:
                return None
            handle.seek(offset)
            return Path(handle.read(size).decode())
    except OSError:
        return None


def bases_in_use(state_dir: Path) -> set[Path]:
    used = set()
    for disk in (state_dir / "instances").glob("*/disk"):
        backing = backing_file(disk)
        if backing is not None:
            used.add(backing.resolve())
    return used


def prune_bases(state_dir: Path) -> list[Path]:
    """Delete the cached bases no overlay uses; the ones deleted."""
    bases = base_dir(state_dir)
    if not bases.is_dir():
        return []
    removed = []
    with open(bases / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        used = bases_in_use(state_dir)
        for base in bases.iterdir():
            if base.name.startswith(".") or base.resolve() in used:
                continue
            base.unlink()
            removed.append(base)
    return removed
