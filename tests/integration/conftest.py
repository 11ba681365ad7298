"""Integration tier: real OVS/OVN daemons and network namespaces, driven as root.

`ovn_stack` (one chassis) and `ovn_stack_2` (two chassis joined by a Geneve underlay) are
started once per session (per xdist worker) by scripts/stack/ovn.sh in their own directory
and stopped completely at the end, even when a test fails. `ovn_scratch` gives a test its
logical switches, DHCP options and namespace guests, and removes all of them afterwards, so
tests sharing a stack never see each other's leftovers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.ceph_stack import ceph_cluster, ceph_cluster_cephx  # noqa: F401
from tests.integration.guest_fixtures import guest_artefacts, libvirt_uri  # noqa: F401
from tests.integration.ovn_scratch import OvnScratch
from tests.integration.ovn_stack import OvnStack, running_stack


@pytest.fixture(scope="session")
def ovn_stack() -> Iterator[OvnStack]:
    with running_stack(chassis=1) as stack:
        yield stack


@pytest.fixture(scope="session")
def ovn_stack_2() -> Iterator[OvnStack]:
    with running_stack(chassis=2) as stack:
        yield stack


@pytest.fixture
def ovn_scratch() -> Iterator[OvnScratch]:
    scratch = OvnScratch()
    try:
        yield scratch
    finally:
        scratch.cleanup()
