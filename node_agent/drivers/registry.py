"""Driver names -> factories, per area: an explicit map, never discovery.

`skymesh agent --hypervisor test` looks up HYPERVISORS["test"]; "qemu" joins when the
libvirt driver boots real guests (integration tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from node_agent.drivers.dvr.base import DvrDriver
from node_agent.drivers.dvr.fake import FakeDvr
from node_agent.drivers.hypervisor.base import HypervisorDriver
from node_agent.drivers.hypervisor.fake import FakeHypervisor
from node_agent.drivers.hypervisor.libvirt import LibvirtHypervisor
from node_agent.drivers.hypervisor.sim_node import SimulatedNode
from node_agent.drivers.network.base import NetworkDriver
from node_agent.drivers.network.fake import FakeNetwork
from node_agent.drivers.pci.base import PciDriver
from node_agent.drivers.pci.fake import FakePci
from node_agent.drivers.real_options import RealOptions
from node_agent.drivers.storage.base import StorageDriver
from node_agent.drivers.storage.fake import FakeStorage

T = TypeVar("T")


@dataclass(frozen=True)
class DriverContext:
    """What a driver factory may use: the host, its state dir, and driver options."""

    host: str
    state_dir: Path
    libvirt_uri: str | None = None  # None: a simulated node of this agent's own
    node: SimulatedNode = field(default_factory=SimulatedNode)
    real: RealOptions = field(default_factory=RealOptions)


def _libvirt_test(ctx: DriverContext) -> LibvirtHypervisor:
    if ctx.libvirt_uri:
        return LibvirtHypervisor(ctx.host, ctx.state_dir, ctx.libvirt_uri, domain_type="test")
    return LibvirtHypervisor.simulated(ctx.host, ctx.state_dir, ctx.node)


HYPERVISORS: dict[str, Callable[[DriverContext], HypervisorDriver]] = {
    "fake": lambda ctx: FakeHypervisor(ctx.host, ctx.state_dir),
    "test": _libvirt_test,
}
NETWORKS: dict[str, Callable[[DriverContext], NetworkDriver]] = {
    "fake": lambda ctx: FakeNetwork(ctx.state_dir),
}
STORAGES: dict[str, Callable[[DriverContext], StorageDriver]] = {
    "fake": lambda ctx: FakeStorage(ctx.state_dir),
}
DVRS: dict[str, Callable[[DriverContext], DvrDriver]] = {
    "fake": lambda ctx: FakeDvr(ctx.state_dir),
}
PCIS: dict[str, Callable[[DriverContext], PciDriver]] = {
    "fake": lambda ctx: FakePci(ctx.state_dir),
}


def pick(registry: dict[str, Callable[[DriverContext], T]], name: str, ctx: DriverContext) -> T:
    try:
        factory = registry[name]
    except KeyError:
        raise ValueError(
            f"unknown driver {name!r} (known: {', '.join(sorted(registry))})"
        ) from None
    return factory(ctx)


@dataclass
class Drivers:
    """The drivers of one agent; an area its roles do not need is None."""

    hypervisor: HypervisorDriver | None = None
    pci: PciDriver | None = None
    dvr: DvrDriver | None = None
    network: NetworkDriver | None = None
    storage: StorageDriver | None = None


@dataclass(frozen=True)
class DriverChoice:
    hypervisor: str = "fake"
    network: str = "fake"
    storage: str = "fake"
    dvr: str = "fake"
    pci: str = "fake"


def make_drivers(roles: frozenset[str], choice: DriverChoice, ctx: DriverContext) -> Drivers:
    compute, network = "compute" in roles, "network" in roles
    return Drivers(
        hypervisor=pick(HYPERVISORS, choice.hypervisor, ctx) if compute else None,
        pci=pick(PCIS, choice.pci, ctx) if compute else None,
        dvr=pick(DVRS, choice.dvr, ctx) if compute or network else None,
        network=pick(NETWORKS, choice.network, ctx) if network else None,
        storage=pick(STORAGES, choice.storage, ctx) if "storage" in roles else None,
    )
