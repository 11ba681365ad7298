"""Node agent RPC, compute role: volumes, interfaces, resize and migration.

Resize and cold migration run in steps: `resize_instance` on the source (power off, ship
the disks), `finish_resize` on the destination (spawn with the new claim), then
`confirm_resize` (source drops its copy) or `revert_resize` (destination destroys its
copy) then `finish_revert_resize` (source restarts with the old flavor). Same-host
resizes use the same steps on one host. Each step is reported as `fact.instance.resized`
with its `step`, or `fact.instance.action_failed` with the command's name as `action`.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from schemas.claims import Claim
from schemas.compute import Flavor, Image, ImageLocation
from schemas.messages.agent_compute import InstanceCommand, VolumeConnection
from schemas.network import Port
from schemas.types import HostName, Name


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
    """On the destination: define and start the domain with the new flavor and claim
    (`image` and `image_location` locate the root disk's base; None when booted from
    volume). Started only when `power_on` (a stopped instance stays stopped)."""

    message_name = "node_agent.compute.finish_resize"
    message_version = 2

    migration_id: UUID
    source_host: HostName
    name: Name
    new_flavor: Flavor
    claim: Claim
    image: Image | None = None
    image_location: ImageLocation | None = None
    ports: tuple[Port, ...] = ()
    volumes: tuple[VolumeConnection, ...] = ()
    power_on: bool = True


class ConfirmResize(InstanceCommand):
    """On the source: drop the old domain and disks."""

    message_name = "node_agent.compute.confirm_resize"
    message_version = 1

    migration_id: UUID


class RevertResize(InstanceCommand):
    """On the destination: destroy its copy (unplug the ports, disconnect the volumes)."""

    message_name = "node_agent.compute.revert_resize"
    message_version = 2

    migration_id: UUID
    ports: tuple[Port, ...] = ()
    volumes: tuple[VolumeConnection, ...] = ()


class FinishRevertResize(InstanceCommand):
    """On the source, after the destination destroyed its copy: the domain with the old
    flavor, started when `power_on`."""

    message_name = "node_agent.compute.finish_revert_resize"
    message_version = 1

    migration_id: UUID
    old_flavor: Flavor
    ports: tuple[Port, ...] = ()
    volumes: tuple[VolumeConnection, ...] = ()
    power_on: bool = True
