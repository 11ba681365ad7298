"""The session's libvirtd and test guest, for every integration test that boots one.

`libvirt_uri` makes sure libvirtd and virtlogd run for the session (scripts/stack/libvirt.sh);
`guest_artefacts` builds or reuses the busybox guest (scripts/stack/guest.sh) in a cache shared
by sessions ($SKYMESH_GUEST_CACHE, default .cache/guest in the repository).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.compute.guest import GuestArtefacts
from tests.integration.compute.libvirt_stack import REPO, build_guest, running_libvirtd


@pytest.fixture(scope="session")
def libvirt_uri() -> Iterator[str]:
    with running_libvirtd() as uri:
        yield uri


@pytest.fixture(scope="session")
def guest_artefacts() -> GuestArtefacts:
    cache = Path(os.environ.get("SKYMESH_GUEST_CACHE", REPO / ".cache" / "guest"))
    built = build_guest(cache)
    return GuestArtefacts(
        kernel=Path(built["kernel"]),
        initrd=Path(built["initrd"]),
        kernel_version=built["kernel_version"],
    )
