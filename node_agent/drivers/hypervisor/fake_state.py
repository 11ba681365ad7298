"""The fake hypervisor's domains as kept in its JSON state file, and the state changes
that happen to them (by the agent, or out of band), each with the lifecycle event libvirt
would emit for it. Pure functions over plain dicts, shared by the driver and the
out-of-band tool."""

from __future__ import annotations

import string
from typing import Any
from uuid import UUID

from node_agent.drivers.errors import InvalidStateError, NotFoundError
from node_agent.drivers.hypervisor.base import (
    DomainEvent,
    DomainInfo,
    LifecycleEvent,
    VolumeAttachmentInfo,
)
from schemas.instance_state import PowerState

Domains = dict[str, dict[str, Any]]
STATE_FILE = "fake-hypervisor.json"
OUT_OF_BAND_OPS = ("destroy", "crash", "pause", "resume", "start", "undefine")


def info(instance_id: str, record: dict[str, Any]) -> DomainInfo:
    return DomainInfo(
        instance_id=UUID(instance_id),
        name=record["name"],
        power_state=PowerState(record["power_state"]),
        vcpus=record["vcpus"],
        memory_mb=record["memory_mb"],
        port_ids=tuple(UUID(p) for p in record.get("port_ids", ())),
        volumes=tuple(
            VolumeAttachmentInfo(UUID(v["volume_id"]), v["device"])
            for v in record.get("volumes", ())
        ),
    )


def transition_event(old: PowerState, new: PowerState, cause: str) -> DomainEvent | None:
    """The lifecycle event for old -> new (instance id filled in by the caller)."""
    if old == new:
        return None
    nil = UUID(int=0)
    if new is PowerState.RUNNING:
        if old is PowerState.PAUSED:
            return DomainEvent(nil, LifecycleEvent.RESUMED, new, "unpaused")
        detail = "restored" if old is PowerState.SUSPENDED else "booted"
        return DomainEvent(nil, LifecycleEvent.STARTED, new, detail)
    if new is PowerState.PAUSED:
        return DomainEvent(nil, LifecycleEvent.SUSPENDED, new, "paused")
    if new is PowerState.SUSPENDED:
        return DomainEvent(nil, LifecycleEvent.STOPPED, new, "saved")
    if new is PowerState.CRASHED:
        return DomainEvent(nil, LifecycleEvent.CRASHED, new, "panicked")
    return DomainEvent(nil, LifecycleEvent.STOPPED, new, cause)


def set_power(
    domains: Domains, instance_id: str, new: PowerState, cause: str
) -> DomainEvent | None:
    record = domains.get(instance_id)
    if record is None:
        raise NotFoundError(f"no domain {instance_id}")
    old = PowerState(record["power_state"])
    record["power_state"] = int(new)
    event = transition_event(old, new, cause)
    if event is None:
        return None
    record.setdefault("console", []).append(f"[{event.event.value}: {event.detail}]")
    return DomainEvent(UUID(instance_id), event.event, event.power_state, event.detail)


def undefine(domains: Domains, instance_id: str) -> list[DomainEvent]:
    """Stop (if running) and remove the domain; no events when it was not there."""
    if instance_id not in domains:
        return []
    events = []
    if PowerState(domains[instance_id]["power_state"]) is not PowerState.SHUTDOWN:
        stopped = set_power(domains, instance_id, PowerState.SHUTDOWN, "destroyed")
        if stopped is not None:
            events.append(stopped)
    del domains[instance_id]
    events.append(DomainEvent(UUID(instance_id), LifecycleEvent.UNDEFINED, None, "removed"))
    return events


def out_of_band(domains: Domains, op: str, instance_id: str) -> list[DomainEvent]:
    """What an operator or the guest does behind the agent's back (`virsh destroy`, a
    guest panic, ...)."""
    targets = {
        "destroy": PowerState.SHUTDOWN,
        "crash": PowerState.CRASHED,
        "pause": PowerState.PAUSED,
        "resume": PowerState.RUNNING,
        "start": PowerState.RUNNING,
    }
    if op == "undefine":
        if instance_id not in domains:
            raise NotFoundError(f"no domain {instance_id}")
        return undefine(domains, instance_id)
    if op not in targets:
        raise InvalidStateError(f"unknown out-of-band operation {op!r} ({OUT_OF_BAND_OPS})")
    event = set_power(domains, instance_id, targets[op], "destroyed")
    return [event] if event else []


def attach_disk(record: dict[str, Any], volume_id: str, wanted: str | None) -> str:
    """Add a volume's disk to a domain record: its device, the one asked for or the next
    free /dev/vdX (vda is always the root disk); the same device when already there."""
    disks: list[dict[str, str]] = record.setdefault("volumes", [])
    for disk in disks:
        if disk["volume_id"] == volume_id:
            return disk["device"]
    taken = {disk["device"] for disk in disks} | {"/dev/vda"}
    if wanted is not None and wanted in taken:
        raise InvalidStateError(f"device {wanted} is in use")
    free = (f"/dev/vd{c}" for c in string.ascii_lowercase if f"/dev/vd{c}" not in taken)
    device = wanted or next(free, None)
    if device is None:
        raise InvalidStateError("no free disk device is left")
    disks.append({"volume_id": volume_id, "device": device})
    return device
