"""What the agent asks of a hypervisor, and what a hypervisor tells the agent.

Every method is idempotent: spawning a domain that exists returns it, destroying a
missing domain reports False, a power action already in effect does nothing. Lifecycle
changes, whoever caused them (the agent, an operator, the guest), arrive as
`DomainEvent`s through the sink given to `start()`, in the order they happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from node_agent.drivers.errors import InvalidStateError
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import Spawn, VolumeConnection
from schemas.network import Port
from schemas.placement import HostInventory


class PowerAction(StrEnum):
    POWER_OFF = "power_off"
    POWER_ON = "power_on"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    SUSPEND = "suspend"
    RESUME = "resume"
    REBOOT = "reboot"
    HARD_REBOOT = "hard_reboot"


class LifecycleEvent(StrEnum):
    """libvirt's lifecycle event types (virDomainEventType)."""

    DEFINED = "defined"
    UNDEFINED = "undefined"
    STARTED = "started"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    STOPPED = "stopped"
    SHUTDOWN = "shutdown"
    PMSUSPENDED = "pmsuspended"
    CRASHED = "crashed"


@dataclass(frozen=True)
class VolumeAttachmentInfo:
    volume_id: UUID
    device: str


@dataclass(frozen=True)
class DomainInfo:
    """A domain this host's agent owns, as the hypervisor has it now."""

    instance_id: UUID
    name: str
    power_state: PowerState
    vcpus: int
    memory_mb: int
    port_ids: tuple[UUID, ...] = ()
    volumes: tuple[VolumeAttachmentInfo, ...] = ()


@dataclass(frozen=True)
class DomainEvent:
    """A lifecycle change; `power_state` is None when the domain is gone (undefined)."""

    instance_id: UUID
    event: LifecycleEvent
    power_state: PowerState | None
    detail: str = ""


DomainEventSink = Callable[[DomainEvent], None]


class HypervisorDriver(Protocol):
    async def start(self, on_event: DomainEventSink) -> None:
        """Connect and begin delivering lifecycle events to `on_event`."""

    async def close(self) -> None: ...

    async def inventory(self) -> HostInventory: ...

    async def list_domains(self) -> list[DomainInfo]:
        """The domains this host owns (never another agent's on a shared hypervisor)."""

    async def spawn(self, request: Spawn) -> DomainInfo:
        """Define and start the domain; a domain that exists is started if needed."""

    async def destroy(self, instance_id: UUID) -> bool:
        """Stop and undefine; False when there was no such domain."""

    async def power(
        self, instance_id: UUID, action: PowerAction, timeout_s: float = 0
    ) -> DomainInfo:
        """Apply `action`; raises NotFoundError or InvalidStateError."""

    async def console_output(self, instance_id: UUID, length: int | None = None) -> str: ...

    async def attach_volume(self, instance_id: UUID, volume: VolumeConnection) -> str:
        """Hot-plug the volume's disk; its guest device (the same again when attached)."""

    async def detach_volume(self, instance_id: UUID, volume_id: UUID) -> bool:
        """Unplug the volume's disk; False when it was not attached."""

    async def attach_interface(self, instance_id: UUID, port: Port) -> None:
        """Hot-plug a VIF for the port (iface-id = port id); nothing when plugged."""

    async def detach_interface(self, instance_id: UUID, port_id: UUID) -> bool:
        """Unplug the port's VIF; False when it was not plugged."""


def next_power_state(current: PowerState, action: PowerAction) -> PowerState:
    """The state after `action` (raising InvalidStateError when it is not allowed);
    the same state when the action is already in effect (idempotent)."""
    running, paused, off = PowerState.RUNNING, PowerState.PAUSED, PowerState.SHUTDOWN
    suspended, crashed = PowerState.SUSPENDED, PowerState.CRASHED
    allowed: dict[PowerAction, tuple[set[PowerState], set[PowerState], PowerState]] = {
        # action: (states it applies to, states where it is a no-op, result)
        PowerAction.POWER_OFF: ({running, paused, crashed, suspended}, {off}, off),
        PowerAction.POWER_ON: ({off, crashed, suspended}, {running}, running),
        PowerAction.PAUSE: ({running}, {paused}, paused),
        PowerAction.UNPAUSE: ({paused}, {running}, running),
        PowerAction.SUSPEND: ({running, paused}, {suspended}, suspended),
        PowerAction.RESUME: ({suspended}, {running}, running),
        PowerAction.REBOOT: ({running}, set(), running),
        PowerAction.HARD_REBOOT: ({running, paused, off, crashed, suspended}, set(), running),
    }
    applies, noop, result = allowed[action]
    if current in noop:
        return current
    if current not in applies:
        raise InvalidStateError(f"cannot {action.value} a domain that is {current.name}")
    return result
