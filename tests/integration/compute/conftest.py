"""Fixtures for real QEMU guests on qemu:///system.

`libvirt_uri` and `guest_artefacts` (libvirtd running, the busybox guest built) come from
tests/integration/guest_fixtures.py, shared with the storage and end-to-end tests; `guests` defines
and starts domains tagged in their <metadata> with the test's own id and, whatever happens,
destroys and undefines every domain carrying that tag afterwards, then checks none is left.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import libvirt
import pytest

from tests.integration.compute.guest import (
    TEST_XMLNS,
    GuestArtefacts,
    GuestSpec,
    domain_xml,
    wait_for_marker_async,
)
from tests.integration.compute.libvirt_stack import URI


@pytest.fixture
def libvirt_conn(libvirt_uri: str) -> Iterator[libvirt.virConnect]:
    conn = libvirt.open(libvirt_uri)
    try:
        yield conn
    finally:
        conn.close()


READY = "SKYMESH-GUEST-READY"


def domain_tag(dom: libvirt.virDomain) -> str | None:
    """The test id in a domain's <metadata>, or None for a domain no test tagged."""
    try:
        xml = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, TEST_XMLNS)
    except libvirt.libvirtError:
        return None
    return ElementTree.fromstring(xml).text  # <test xmlns="...">TAG</test>


def tagged_domains(conn: libvirt.virConnect, tag: str) -> list[libvirt.virDomain]:
    return [d for d in conn.listAllDomains() if domain_tag(d) == tag]


def remove_domain(dom: libvirt.virDomain) -> None:
    if dom.isActive():
        dom.destroy()
    dom.undefine()


class Guests:
    """Domains of one test: all tagged with `tag`, all removed by `cleanup`."""

    def __init__(self, conn: libvirt.virConnect, artefacts: GuestArtefacts, tmp: Path, tag: str):
        self.conn = conn
        self.artefacts = artefacts
        self.tmp = tmp
        self.tag = tag
        self._count = 0
        self._started: dict[str, float] = {}

    def spec(self, **kwargs: object) -> GuestSpec:
        """A spec with a unique name, this test's tag and a console log in the test's dir."""
        self._count += 1
        name = f"skymesh-test-{self.tag[-12:]}-{self._count}"
        defaults: dict[str, object] = {
            "name": name,
            "tag": self.tag,
            "artefacts": self.artefacts,
            "console_log": self.tmp / f"{name}.console.log",
        }
        return GuestSpec(**{**defaults, **kwargs})  # type: ignore[arg-type]

    def start(self, spec: GuestSpec) -> libvirt.virDomain:
        dom = self.conn.defineXML(domain_xml(spec))
        dom.create()
        self._started[spec.name] = time.monotonic()
        return dom

    async def wait_ready(self, spec: GuestSpec, timeout: float) -> list[str]:
        """Wait for the guest's ready marker; return its markers; print how long it took."""
        found = await wait_for_marker_async(spec.console_log, READY, timeout)
        print(f"{spec.name}: ready {time.monotonic() - self._started[spec.name]:.1f} s after start")
        return found

    def cleanup(self) -> None:
        try:
            domains = tagged_domains(self.conn, self.tag)
        except libvirt.libvirtError:  # the connection broke: clean up through a new one
            self.conn = libvirt.open(URI)
            domains = tagged_domains(self.conn, self.tag)
        for dom in domains:
            remove_domain(dom)


def virsh_names() -> list[str]:
    """Every domain name `virsh list --all` shows (running or not)."""
    out = subprocess.run(
        ["virsh", "-q", "-c", "qemu:///system", "list", "--all", "--name"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.fixture
def guests(
    request: pytest.FixtureRequest,
    libvirt_conn: libvirt.virConnect,
    guest_artefacts: GuestArtefacts,
    tmp_path: Path,
) -> Iterator[Guests]:
    tag = f"{request.node.nodeid}#{uuid.uuid4().hex}"
    manager = Guests(libvirt_conn, guest_artefacts, tmp_path, tag)
    try:
        yield manager
    finally:
        manager.cleanup()
    leftovers = [d.name() for d in tagged_domains(manager.conn, tag)]
    assert not leftovers, f"domains of {tag} left behind: {leftovers}"
