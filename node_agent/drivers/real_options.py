"""Where an agent's real drivers find the real components: OVN/OVS, Ceph, libvirt
bridges, the PCI device spec. The fake and test drivers ignore all of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OvnOptions:
    """An OVN deployment: the databases (ovsdb connection strings such as
    `tcp:127.0.0.1:6641` or `unix:/run/ovn/ovnnb_db.sock`) and this host's chassis."""

    nb: str | None = None
    sb: str | None = None
    ovs_db: str | None = None  # the local Open_vSwitch database
    integration_bridge: str = "br-int"
    bridge_mappings: str = ""  # "physnet1:br-ex,physnet2:br-vlan"
    chassis: str | None = None  # the chassis name (system-id); None: the host name
    ovs_netns: str | None = None  # where this host's OVS datapath lives; None: the root one


@dataclass(frozen=True)
class CephOptions:
    """A Ceph cluster: its ceph.conf (monitors, auth), the RBD pool, the cephx user
    (None with auth none)."""

    conf: Path | None = None
    pool: str = "rbd"
    user: str | None = None


@dataclass(frozen=True)
class RealOptions:
    ovn: OvnOptions = OvnOptions()
    ceph: CephOptions = CephOptions()
    vif_bridge: str | None = None  # Linux bridge for taps when the network is not OVN
    pci_spec: Path | None = None  # the device spec file: what PCI devices to offer
