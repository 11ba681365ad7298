"""Notification payloads, shaped after Nova's (and Cinder's, Neutron's) versioned payloads."""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, Field

from schemas.base import Model
from schemas.compute import Flavor
from schemas.instance import Instance, InstanceFault
from schemas.instance_state import PowerState, TaskState, VmState
from schemas.network import FixedIp, Port, PortStatus, VnicType
from schemas.storage import Volume, VolumeStatus
from schemas.types import HostName, MacAddress, Metadata, NonNegInt

POWER_STATE_NAMES: dict[PowerState, str] = {
    PowerState.NOSTATE: "pending",
    PowerState.RUNNING: "running",
    PowerState.PAUSED: "paused",
    PowerState.SHUTDOWN: "shutdown",
    PowerState.CRASHED: "crashed",
    PowerState.SUSPENDED: "suspended",
}
"""Power states by the names Nova's notifications use."""


class FlavorPayload(Model):
    flavor_id: UUID
    name: str
    vcpus: NonNegInt
    memory_mb: NonNegInt
    disk_gb: NonNegInt
    ephemeral_gb: NonNegInt = 0
    swap_mb: NonNegInt = 0
    extra_specs: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def of(cls, flavor: Flavor) -> FlavorPayload:
        return cls(
            flavor_id=flavor.id,
            name=flavor.name,
            vcpus=flavor.vcpus,
            memory_mb=flavor.memory_mb,
            disk_gb=flavor.disk_gb,
            ephemeral_gb=flavor.ephemeral_gb,
            swap_mb=flavor.swap_mb,
            extra_specs=dict(flavor.extra_specs),
        )


class FaultPayload(Model):
    exception: str = Field(min_length=1, max_length=255)
    exception_message: str = Field(max_length=2048)
    code: int = 500

    @classmethod
    def of(cls, fault: InstanceFault, exception: str = "InstanceFault") -> FaultPayload:
        return cls(exception=exception, exception_message=fault.message, code=fault.code)


class InstancePayload(Model):
    """Nova's InstanceActionPayload fields, with the action's subject when it has one."""

    uuid: UUID
    display_name: str
    state: VmState
    task_state: TaskState | None = None
    power_state: str
    host: HostName | None = None
    availability_zone: str | None = None
    flavor: FlavorPayload
    image_uuid: UUID | None = None
    tenant_id: UUID
    user_id: UUID
    metadata: Metadata = Field(default_factory=dict)
    locked: bool = False
    fault: FaultPayload | None = None
    created_at: AwareDatetime | None = None
    launched_at: AwareDatetime | None = None
    terminated_at: AwareDatetime | None = None
    volume_id: UUID | None = None
    port_id: UUID | None = None
    new_flavor: FlavorPayload | None = None

    @classmethod
    def of(cls, instance: Instance, **subject: object) -> InstancePayload:
        """The payload for `instance`; `subject` sets volume_id, port_id or new_flavor."""
        fault = FaultPayload.of(instance.fault) if instance.fault else None
        fields: dict[str, object] = dict(
            uuid=instance.id,
            display_name=instance.name,
            state=instance.vm_state,
            task_state=instance.task_state,
            power_state=POWER_STATE_NAMES[instance.power_state],
            host=instance.host,
            availability_zone=instance.availability_zone,
            flavor=FlavorPayload.of(instance.flavor),
            image_uuid=instance.image_id,
            tenant_id=instance.project_id,
            user_id=instance.user_id,
            metadata=dict(instance.metadata),
            locked=instance.locked,
            fault=fault,
            created_at=instance.created_at,
            launched_at=instance.launched_at,
            terminated_at=instance.terminated_at,
        )
        fields.update(subject)
        return cls.model_validate(fields)


class VolumePayload(Model):
    volume_id: UUID
    display_name: str = ""
    status: VolumeStatus
    size: NonNegInt
    tenant_id: UUID
    user_id: UUID | None = None
    availability_zone: str | None = None
    volume_type: str | None = None
    bootable: bool = False
    instance_ids: tuple[UUID, ...] = ()
    created_at: AwareDatetime | None = None

    @classmethod
    def of(cls, volume: Volume) -> VolumePayload:
        return cls(
            volume_id=volume.id,
            display_name=volume.name,
            status=volume.status,
            size=volume.size_gb,
            tenant_id=volume.project_id,
            user_id=volume.user_id,
            availability_zone=volume.availability_zone,
            volume_type=volume.volume_type,
            bootable=volume.bootable,
            instance_ids=tuple(a.instance_id for a in volume.attachments),
            created_at=volume.created_at,
        )


class PortPayload(Model):
    id: UUID
    name: str = ""
    network_id: UUID
    tenant_id: UUID
    mac_address: MacAddress
    fixed_ips: tuple[FixedIp, ...] = ()
    status: PortStatus
    device_id: str = ""
    device_owner: str = ""
    binding_host_id: HostName | None = None
    vnic_type: VnicType = VnicType.NORMAL

    @classmethod
    def of(cls, port: Port) -> PortPayload:
        return cls(
            id=port.id,
            name=port.name,
            network_id=port.network_id,
            tenant_id=port.project_id,
            mac_address=port.mac_address,
            fixed_ips=port.fixed_ips,
            status=port.status,
            device_id=port.device_id,
            device_owner=port.device_owner,
            binding_host_id=port.binding_host,
            vnic_type=port.vnic_type,
        )
