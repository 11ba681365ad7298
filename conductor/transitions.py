"""What an observed power state means for an instance, given the task in progress.

Facts are states, not commands: the conductor applies the newest one it has, so a
RUNNING seen during `spawning` completes the build even when the `spawned` fact itself
arrived late (and was dropped as stale).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.instance_state import PowerState


@dataclass(frozen=True)
class Outcome:
    vm_state: str
    event: str | None  # the notification that the change completes, if any


# (task in progress, observed power state) -> the instance's new state
COMPLETES: dict[tuple[str | None, PowerState], Outcome] = {
    ("spawning", PowerState.RUNNING): Outcome("active", "instance.create.end"),
    ("powering-off", PowerState.SHUTDOWN): Outcome("stopped", "instance.power_off.end"),
    ("powering-on", PowerState.RUNNING): Outcome("active", "instance.power_on.end"),
    ("rebooting", PowerState.RUNNING): Outcome("active", "instance.reboot.end"),
    ("reboot_started", PowerState.RUNNING): Outcome("active", "instance.reboot.end"),
    ("rebooting_hard", PowerState.RUNNING): Outcome("active", "instance.reboot.end"),
    ("reboot_started_hard", PowerState.RUNNING): Outcome("active", "instance.reboot.end"),
    ("pausing", PowerState.PAUSED): Outcome("paused", "instance.pause.end"),
    ("unpausing", PowerState.RUNNING): Outcome("active", "instance.unpause.end"),
    ("suspending", PowerState.SUSPENDED): Outcome("suspended", "instance.suspend.end"),
    ("resuming", PowerState.RUNNING): Outcome("active", "instance.resume.end"),
    ("rebuilding", PowerState.RUNNING): Outcome("active", "instance.rebuild.end"),
}

# With no task in progress, a change seen on the host (someone ran `virsh destroy`, the
# guest shut itself down) is adopted as it is, like Nova's power-state sync.
OBSERVED: dict[PowerState, Outcome] = {
    PowerState.RUNNING: Outcome("active", "instance.power_on.end"),
    PowerState.SHUTDOWN: Outcome("stopped", "instance.power_off.end"),
    PowerState.CRASHED: Outcome("stopped", "instance.power_off.end"),
    PowerState.NOSTATE: Outcome("stopped", "instance.power_off.end"),
    PowerState.PAUSED: Outcome("paused", "instance.pause.end"),
    PowerState.SUSPENDED: Outcome("suspended", "instance.suspend.end"),
}

# vm states a settled instance may be in, for adopting observed power states
SETTLED = ("active", "stopped", "paused", "suspended")


def outcome(task_state: str | None, vm_state: str, seen: PowerState) -> Outcome | None:
    """The change `seen` makes, or None when it changes nothing (or must wait)."""
    if task_state is not None:
        return COMPLETES.get((task_state, seen))
    adopted = OBSERVED.get(seen)
    if adopted is None or vm_state not in SETTLED or adopted.vm_state == vm_state:
        return None
    return adopted
