"""Facts: what an agent observed, published on `skymesh.events` as `<role>.<host>.<fact>`.

Every fact carries the agent's sequence number for its resource, increasing with every
fact about that resource, so the conductor drops stale and duplicate facts: apply a fact
only when its `seq` is above the last one applied for (`host`, `resource_id`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from schemas.base import Message
from schemas.instance_state import PowerState
from schemas.types import HostName, PositiveInt, Seq

FACT_PREFIX = "fact."
FACTS: dict[str, type[Fact]] = {}


class Fact(Message):
    """A fact about one resource (an instance, port, volume, or for host facts the host)."""

    role: ClassVar[str | None] = "compute"

    host: HostName
    resource_id: UUID
    seq: Seq
    observed_at: AwareDatetime

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.__dict__.get("message_name")
        if name:
            if not name.startswith(FACT_PREFIX):
                raise TypeError(f"fact message names start with {FACT_PREFIX!r}: {name!r}")
            FACTS[name.removeprefix(FACT_PREFIX)] = cls

    @classmethod
    def fact_name(cls) -> str:
        """The fact part of the routing key, e.g. instance.power_state."""
        return cls.message_name.removeprefix(FACT_PREFIX)

    def routing_key(self, role: str | None = None) -> str:
        """`<role>.<host>.<fact>`; host facts (role None) need the publishing role."""
        chosen = role or self.role
        if not chosen:
            raise ValueError(f"{self.message_name} needs the publishing agent's role")
        return f"{chosen}.{self.host}.{self.fact_name()}"


def parse_routing_key(key: str) -> tuple[str, str, type[Fact]]:
    """(role, host, fact model) of an events routing key; host names may contain dots."""
    role, _, rest = key.partition(".")
    for name, model in sorted(FACTS.items(), key=lambda item: -len(item[0])):
        if rest.endswith("." + name) and len(rest) > len(name) + 1:
            return role, rest[: -len(name) - 1], model
    raise KeyError(f"no fact matches routing key {key!r}")


class InstancePowerStateChanged(Fact):
    message_name = "fact.instance.power_state"
    message_version = 1

    power_state: PowerState
    reason: str = Field("", max_length=255)


class InstanceSpawned(Fact):
    message_name = "fact.instance.spawned"
    message_version = 1

    power_state: PowerState = PowerState.RUNNING


class InstanceSpawnFailed(Fact):
    """`retryable`: another host may succeed (reschedule); else the instance goes ERROR."""

    message_name = "fact.instance.spawn_failed"
    message_version = 1

    reason: str = Field(min_length=1, max_length=2048)
    retryable: bool = True


class InstanceDeleted(Fact):
    message_name = "fact.instance.deleted"
    message_version = 1


class InstanceRebooted(Fact):
    message_name = "fact.instance.rebooted"
    message_version = 1

    hard: bool = False
    power_state: PowerState = PowerState.RUNNING


class InstanceActionFailed(Fact):
    """A command other than spawn failed (reboot, pause, attach, resize, ...)."""

    message_name = "fact.instance.action_failed"
    message_version = 1

    action: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2048)
    power_state: PowerState | None = None


class InstanceResized(Fact):
    """A step of a resize or cold migration done on this host: `migrated` (source: off,
    disks shipped), `finished` (destination: running with the new flavor), `confirmed`
    (source: old copy dropped), `reverted` (destination: copy dropped),
    `revert_finished` (source: back with the old flavor)."""

    message_name = "fact.instance.resized"
    message_version = 2

    migration_id: UUID
    step: Literal["migrated", "finished", "confirmed", "reverted", "revert_finished"]
    power_state: PowerState


class VolumeAttached(Fact):
    """resource_id is the volume; seen by the compute agent that attached it."""

    message_name = "fact.volume.attached"
    message_version = 1

    instance_id: UUID
    attachment_id: UUID
    device: str = Field(min_length=1, max_length=64)


class VolumeDetached(Fact):
    message_name = "fact.volume.detached"
    message_version = 1

    instance_id: UUID
    attachment_id: UUID


class PortActive(Fact):
    """The port's Port_Binding is up on `chassis` (OVN Logical_Switch_Port.up)."""

    role = "network"
    message_name = "fact.port.active"
    message_version = 1

    chassis: HostName | None = None


class PortDown(Fact):
    role = "network"
    message_name = "fact.port.down"
    message_version = 1

    chassis: HostName | None = None


class VolumeCreated(Fact):
    role = "storage"
    message_name = "fact.volume.created"
    message_version = 1

    size_gb: PositiveInt


class VolumeFailed(Fact):
    """A storage operation on the volume failed (create, clone, resize, delete, ...)."""

    role = "storage"
    message_name = "fact.volume.failed"
    message_version = 1

    operation: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2048)


class VolumeDeleted(Fact):
    role = "storage"
    message_name = "fact.volume.deleted"
    message_version = 1


class VolumeResized(Fact):
    role = "storage"
    message_name = "fact.volume.resized"
    message_version = 1

    size_gb: PositiveInt
