"""Node agent RPC, compute role: volumes, interfaces, resize and migration.

Resize and cold migration run in steps: `resize_instance` on the source (power off, ship
the disks), `finish_resize` on the destination (spawn with the new claim), then
`confirm_resize` (source drops its copy) or `revert_resize` (destination destroys,
source restarts). Same-host resizes use the same steps on one host.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from schemas.claims import Claim
from schemas.compute import Flavor
from schemas.messages.agent_compute import InstanceCommand, VolumeConnection
from schemas.network import Port
from schemas.types import HostName


class AttachVolume(InstanceCommand):
    message_name = "node_agent.compute.attach_volume"
    message_version = 1

    volume: VolumeConnection


class DetachVolume(InstanceCommand):
    message_name = "node_agent.compute.detach_volume"
    message_version = 1

    volume: VolumeConnection


class AttachInterface(InstanceCommand):
    """Plug a port into the running domain (its PCI device, for SR-IOV, is in the port's
    binding_profile.pci_slot)."""

    message_name = "node_agent.compute.attach_interface"
    message_version = 1

    port: Port


class DetachInterface(InstanceCommand):
    message_name = "node_agent.compute.detach_interface"
    message_version = 1

    port: Port


class ResizeInstance(InstanceCommand):
    """On the source: power off and make the disks available to `dest_host`."""

    message_name = "node_agent.compute.resize_instance"
    message_version = 1

    migration_id: UUID
    dest_host: HostName
    new_flavor: Flavor
    timeout_s: int = Field(60, ge=0)


class FinishResize(InstanceCommand):
    """On the destination: define and start the domain with the new flavor and claim."""

    message_name = "node_agent.compute.finish_resize"
    message_version = 1

    migration_id: UUID
    source_host: HostName
    new_flavor: Flavor
    claim: Claim
    ports: tuple[Port, ...] = ()
    volumes: tuple[VolumeConnection, ...] = ()
    power_on: bool = True


class ConfirmResize(InstanceCommand):
    """On the source: drop the old domain and disks."""

    message_name = "node_agent.compute.confirm_resize"
    message_version = 1

    migration_id: UUID


class RevertResize(InstanceCommand):
    """On the destination (destroy) and then the source (restart with the old flavor)."""

    message_name = "node_agent.compute.revert_resize"
    message_version = 1

    migration_id: UUID
    old_flavor: Flavor
    ports: tuple[Port, ...] = ()
    volumes: tuple[VolumeConnection, ...] = ()
    power_on: bool = True
