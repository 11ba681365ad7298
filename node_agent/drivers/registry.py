"""Driver names -> factories, per area: an explicit map, never discovery.

`skymesh agent --hypervisor test` looks up HYPERVISORS["test"]; "qemu" boots real
guests on qemu:///system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from node_agent.drivers.dvr.base import DvrDriver
from node_agent.drivers.dvr.fake import FakeDvr
from node_agent.drivers.dvr.namespaces import NamespaceDvr
from node_agent.drivers.dvr.options import DvrOptions
from node_agent.drivers.hypervisor.base import HypervisorDriver
from node_agent.drivers.hypervisor.fake import FakeHypervisor
from node_agent.drivers.hypervisor.libvirt import LibvirtHypervisor
from node_agent.drivers.hypervisor.qemu import QemuHypervisor, default_guest_dir
from node_agent.drivers.hypervisor.sim_node import SimulatedNode
from node_agent.drivers.network.base import NetworkDriver
from node_agent.drivers.network.dvr import DvrNetwork
from node_agent.drivers.network.fake import FakeNetwork
from node_agent.drivers.network.ovn import OvnNetwork
from node_agent.drivers.pci.base import PciDriver
from node_agent.drivers.pci.fake import FakePci
from node_agent.drivers.pci.udev import udev_pci
from node_agent.drivers.real_options import RealOptions
from node_agent.drivers.storage.base import StorageDriver
from node_agent.drivers.storage.fake import FakeStorage
from node_agent.drivers.storage.rbd import RbdStorage
from node_agent.drivers.vif.base import VifDriver
from node_agent.drivers.vif.fake import FakeVif
from node_agent.drivers.vif.linux_bridge import LinuxBridgeVif
from node_agent.drivers.vif.ovn_binding import SbPortBindingWatcher
from node_agent.drivers.vif.ovs import OvsVif

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


def _libvirt_qemu(ctx: DriverContext) -> QemuHypervisor:
    """Real QEMU guests (TCG) on qemu:///system unless --libvirt-uri names another; the
    VIF driver is handed over by make_drivers."""
    return QemuHypervisor(
        ctx.host,
        ctx.state_dir,
        ctx.libvirt_uri or "qemu:///system",
        linux_bridge=ctx.real.vif_bridge,
        ovs_bridge=ctx.real.ovn.integration_bridge,
        ceph_conf=ctx.real.ceph.conf,
        ceph_user=ctx.real.ceph.user,
        guest_dir=default_guest_dir(),
    )


HYPERVISORS: dict[str, Callable[[DriverContext], HypervisorDriver]] = {
    "fake": lambda ctx: FakeHypervisor(ctx.host, ctx.state_dir),
    "test": _libvirt_test,
    "qemu": _libvirt_qemu,
}
NETWORKS: dict[str, Callable[[DriverContext], NetworkDriver]] = {
    "fake": lambda ctx: FakeNetwork(ctx.state_dir),
    "ovn": lambda ctx: OvnNetwork.from_options(ctx.real.ovn, ctx.host),
    "dvr": lambda ctx: DvrNetwork(ctx.state_dir),
}
STORAGES: dict[str, Callable[[DriverContext], StorageDriver]] = {
    "fake": lambda ctx: FakeStorage(ctx.state_dir),
    "rbd": lambda ctx: RbdStorage.from_options(ctx.real.ceph),
}
DVRS: dict[str, Callable[[DriverContext], DvrDriver]] = {
    "fake": lambda ctx: FakeDvr(ctx.state_dir),
    "namespaces": lambda ctx: NamespaceDvr(DvrOptions.load(ctx.state_dir, ctx.host), ctx.state_dir),
}
PCIS: dict[str, Callable[[DriverContext], PciDriver]] = {
    "fake": lambda ctx: FakePci(ctx.state_dir),
    "udev": lambda ctx: udev_pci(ctx.state_dir, ctx.real.pci_spec),
}


def _ovs_vif(ctx: DriverContext) -> OvsVif:
    ovn = ctx.real.ovn
    watcher = SbPortBindingWatcher(ovn.sb, ovn.chassis or ctx.host) if ovn.sb else None
    ovs_db = ovn.ovs_db or "unix:/run/openvswitch/db.sock"
    return OvsVif(ovs_db, ovn.integration_bridge, host_netns=ovn.ovs_netns, watcher=watcher)


VIFS: dict[str, Callable[[DriverContext], VifDriver]] = {
    "fake": lambda ctx: FakeVif(ctx.state_dir, ctx.real.ovn.integration_bridge),
    "ovs": _ovs_vif,
    "linux_bridge": lambda ctx: LinuxBridgeVif(
        ctx.real.vif_bridge or "br-skymesh", ctx.state_dir, host_netns=ctx.real.ovn.ovs_netns
    ),
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
    vif: VifDriver | None = None


@dataclass(frozen=True)
class DriverChoice:
    hypervisor: str = "fake"
    network: str = "fake"
    storage: str = "fake"
    dvr: str = "fake"
    pci: str = "fake"
    vif: str = "fake"


def make_drivers(roles: frozenset[str], choice: DriverChoice, ctx: DriverContext) -> Drivers:
    compute, network = "compute" in roles, "network" in roles
    drivers = Drivers(
        hypervisor=pick(HYPERVISORS, choice.hypervisor, ctx) if compute else None,
        pci=pick(PCIS, choice.pci, ctx) if compute else None,
        dvr=pick(DVRS, choice.dvr, ctx) if compute or network else None,
        network=pick(NETWORKS, choice.network, ctx) if network else None,
        storage=pick(STORAGES, choice.storage, ctx) if "storage" in roles else None,
        vif=pick(VIFS, choice.vif, ctx) if compute else None,
    )
    if isinstance(drivers.hypervisor, QemuHypervisor):
        drivers.hypervisor.vif = drivers.vif  # it plugs the taps of hot-plugged ports
    return drivers
