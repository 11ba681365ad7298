"""Node agent RPC, compute role: instance lifecycle on one host.

Routed as `node_agent.<host>.<method>`. Commands are idempotent casts: the outcome is
reported as facts (instance.spawned, instance.power_state, ...), never as a reply.
"""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import Message, Model
from schemas.claims import Claim
from schemas.compute import Flavor, Image, ImageLocation
from schemas.network import Port
from schemas.storage import RbdConnection
from schemas.types import HostName, Metadata, Name, NonNegInt


class VolumeConnection(Model):
    """A volume to attach to a domain: its attachment and how libvirt reaches it."""

    volume_id: UUID
    attachment_id: UUID
    device_name: str | None = Field(None, pattern=r"^/dev/[a-z]+[a-z0-9]*$")
    boot_index: int | None = Field(None, ge=0)
    disk_bus: str = Field("virtio", pattern=r"^(virtio|scsi|ide|usb|sata)$")
    read_only: bool = False
    shareable: bool = False  # a multiattach volume: several guests may have it open
    rbd: RbdConnection


class ConfigDriveData(Model):
    """What goes onto the config drive (openstack/latest/meta_data.json and user_data)."""

    hostname: str = Field(min_length=1, max_length=63)
    availability_zone: str | None = None
    public_keys: dict[str, str] = Field(default_factory=dict)
    metadata: Metadata = Field(default_factory=dict)
    user_data: str | None = None


class InstanceCommand(Message):
    """A command about one instance of this host (abstract)."""

    instance_id: UUID


class Spawn(InstanceCommand):
    """Create and start a domain: define it paused, plug the ports, wait (bounded) for
    network.port.active, resume, report instance.spawned or instance.spawn_failed."""

    message_name = "node_agent.compute.spawn"
    message_version = 1

    name: Name
    flavor: Flavor
    claim: Claim
    image: Image | None = None
    image_location: ImageLocation | None = None
    ports: tuple[Port, ...] = ()
    volumes: tuple[VolumeConnection, ...] = ()
    config_drive: ConfigDriveData | None = None
    vif_plug_timeout_s: Annotated[float, Field(ge=0)] = 300.0

    @model_validator(mode="after")
    def _root_disk(self) -> Self:
        boots_from_volume = any(volume.boot_index == 0 for volume in self.volumes)
        if not boots_from_volume and (self.image is None or self.image_location is None):
            raise ValueError("give image and image_location, or a volume with boot_index 0")
        return self


class Rebuild(Spawn):
    """Destroy the domain and its local disks, then spawn it again from `image` (same
    host, same claim); reported as instance.spawned, or instance.action_failed with
    action `rebuild`."""

    message_name = "node_agent.compute.rebuild"
    message_version = 1

    preserve_ephemeral: bool = False


class Destroy(InstanceCommand):
    """Stop and undefine the domain, unplug ports, disconnect volumes, drop local disks."""

    message_name = "node_agent.compute.destroy"
    message_version = 1

    port_ids: tuple[UUID, ...] = ()
    volumes: tuple[VolumeConnection, ...] = ()
    keep_local_disks: bool = False


class Reboot(InstanceCommand):
    message_name = "node_agent.compute.reboot"
    message_version = 1

    hard: bool = False


class PowerOff(InstanceCommand):
    """ACPI shutdown for up to `timeout_s`, then destroy (0: immediately)."""

    message_name = "node_agent.compute.power_off"
    message_version = 1

    timeout_s: NonNegInt = 60


class PowerOn(InstanceCommand):
    message_name = "node_agent.compute.power_on"
    message_version = 1


class Pause(InstanceCommand):
    message_name = "node_agent.compute.pause"
    message_version = 1


class Unpause(InstanceCommand):
    message_name = "node_agent.compute.unpause"
    message_version = 1


class Suspend(InstanceCommand):
    message_name = "node_agent.compute.suspend"
    message_version = 1


class Resume(InstanceCommand):
    message_name = "node_agent.compute.resume"
    message_version = 1


class GetConsoleOutput(InstanceCommand):
    """A call: the last `length` lines of the serial console (all when None)."""

    message_name = "node_agent.compute.get_console_output"
    message_version = 1

    length: Annotated[int, Field(ge=1, le=10000)] | None = None


class ConsoleOutput(Message):
    message_name = "node_agent.compute.get_console_output.reply"
    message_version = 1

    output: str


class RequestSnapshot(Message):
    """Ask an agent to publish an agent.snapshot fact of everything it really has."""

    message_name = "node_agent.request_snapshot"
    message_version = 1

    host: HostName
    reason: str = Field("", max_length=255)
