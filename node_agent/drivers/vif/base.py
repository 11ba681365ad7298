"""VIF plugging on a compute host: the host side of a server's port, and the signal that
the network has it (Nova's os-vif plus the `network-vif-plugged` event).

A VIF is a host device named `tap_name(port.id)` ("tap" + the first 11 characters of the
port id, as Nova names them): a tap for a QEMU guest, or a veth whose peer lives in a
network namespace (the "guests" of the integration tests). `plug` attaches it to the
host's switch (OVS `br-int` with `external_ids:iface-id=<port id>`, `attached-mac`,
`vm-uuid`, or a Linux bridge); `unplug` removes it. Both are idempotent.

Once a plugged port is bound and up (OVN: the southbound Port_Binding of this chassis
has `up=true`), the driver tells the sink given to `start()`: `PortState(port_id,
up=True)`. The agent turns that into the `fact.port.active` fact and wakes a spawn
waiting for it (node_agent/drivers/vif/waiter.py); `up=False` when it goes away.

How a hypervisor driver uses it (the compute service does the plugging):
  - `ComputeService.spawn` calls `plug(instance_id, port)` for every port of the Spawn
    whose vnic_type is "normal", BEFORE `HypervisorDriver.spawn`, so the tap exists when
    the domain starts. The hypervisor driver only writes, per port,
        <interface type='ethernet'>
          <mac address='{port.mac_address}'/>
          <target dev='{tap_name(port.id)}' managed='no'/>
          <model type='virtio'/>
        </interface>
  - After the domain runs, the service waits (Spawn.vif_plug_timeout_s) for the ports'
    `up` state, then reports instance.spawned; on timeout the domain is destroyed and
    the spawn fails (Nova's vif_plugging_is_fatal=True), unless the agent was started
    with plugging not fatal.
  - `destroy` unplugs Destroy.port_ids after the domain is gone.
  - A hypervisor driver that hot-plugs an interface may call `plug` itself first (it
    is idempotent) and reference the same tap name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from schemas.network import Port

TAP_PREFIX = "tap"
NOVA_DEV_LEN = 14  # IFNAMSIZ - 2: "tap" + 11 characters of the port id


def tap_name(port_id: UUID | str) -> str:
    """The host device of a port: "tap" + its first 11 characters (Nova's name)."""
    return (TAP_PREFIX + str(port_id))[:NOVA_DEV_LEN]


def guest_name(port_id: UUID | str) -> str:
    """The namespace end of a veth VIF (renamed `eth0` inside the namespace)."""
    return ("gst" + str(port_id))[:NOVA_DEV_LEN]


class VifKind(StrEnum):
    TAP = "tap"  # a tap device a QEMU guest opens (managed='no')
    VETH = "veth"  # a veth pair, the peer in a namespace (a test "guest")


@dataclass(frozen=True)
class VifInfo:
    """A plugged VIF as the host has it."""

    port_id: UUID
    instance_id: UUID | None
    device: str  # the host-side device, tap_name(port_id)
    mac: str
    bridge: str  # the switch it is on (br-int, or the Linux bridge)
    kind: VifKind = VifKind.TAP
    netns: str | None = None  # VETH: the namespace holding the guest end


@dataclass(frozen=True)
class PortState:
    """The network's view of a plugged port: bound and up on this host, or not."""

    port_id: UUID
    up: bool
    chassis: str | None = None


PortStateSink = Callable[[PortState], None]


class PortStateSource(Protocol):
    async def start(self, sink: PortStateSink) -> None:
        """Begin reporting port states (called once, on the agent's event loop)."""

    async def close(self) -> None: ...


class VifDriver(PortStateSource, Protocol):
    async def plug(
        self,
        instance_id: UUID,
        port: Port,
        *,
        kind: VifKind = VifKind.TAP,
        netns: str | None = None,
    ) -> VifInfo:
        """Create the device if missing and put it on the switch; `netns` (VETH only) is
        the namespace for the peer, created when missing."""

    async def unplug(self, port_id: UUID) -> bool:
        """Take the device off the switch and delete it; False when it was not there."""

    async def list(self) -> tuple[VifInfo, ...]:
        """Every VIF this driver plugged on the host."""
