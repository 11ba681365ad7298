"""Host-level facts: inventory, heartbeat, and the agent's full snapshot.

For these facts `resource_id` is the host's id and `seq` the host's own sequence. The
snapshot also carries each resource's latest `seq`, so the conductor can tell whether a
fact it holds is newer than the snapshot entry.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from schemas.base import Model
from schemas.instance_state import PowerState
from schemas.messages.facts import Fact
from schemas.network import PortStatus
from schemas.pci import PciDevice
from schemas.placement import HostInventory, HostRole
from schemas.types import NonNegInt, PositiveInt, Seq


class InventoryReported(Fact):
    message_name = "fact.inventory"
    message_version = 1

    inventory: HostInventory


class HeartbeatReported(Fact):
    role = None
    message_name = "fact.heartbeat"
    message_version = 1

    roles: frozenset[HostRole]
    running_tasks: NonNegInt = 0


class DomainState(Model):
    instance_id: UUID
    power_state: PowerState
    seq: Seq
    name: str | None = None


class PortState(Model):
    """A port as this agent has it: a tap on br-int (compute) or a logical port (network)."""

    port_id: UUID
    status: PortStatus
    seq: Seq
    device: str | None = Field(None, max_length=64)
    instance_id: UUID | None = None


class VolumeState(Model):
    volume_id: UUID
    size_gb: PositiveInt
    seq: Seq


class AttachmentState(Model):
    instance_id: UUID
    volume_id: UUID
    device: str
    seq: Seq


class AgentSnapshot(Fact):
    """Everything the agent really has, published on start, on reconnect and on request.

    Sections the agent could not read are named in `failed_sections`; the conductor must
    not treat what is missing from them as gone.
    """

    role = None
    message_name = "fact.agent.snapshot"
    message_version = 1

    roles: frozenset[HostRole]
    domains: tuple[DomainState, ...] = ()
    ports: tuple[PortState, ...] = ()
    volumes: tuple[VolumeState, ...] = ()
    attachments: tuple[AttachmentState, ...] = ()
    pci_devices: tuple[PciDevice, ...] = ()
    namespaces: tuple[str, ...] = ()
    failed_sections: frozenset[str] = frozenset()
