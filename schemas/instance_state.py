"""Instance state sets (Nova's value sets) and the API `status` derived from them."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class VmState(StrEnum):
    """The stable state of an instance as the user sees it (nova.compute.vm_states)."""

    ACTIVE = "active"
    BUILDING = "building"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    STOPPED = "stopped"
    RESCUED = "rescued"
    RESIZED = "resized"
    SOFT_DELETED = "soft-delete"
    DELETED = "deleted"
    ERROR = "error"
    SHELVED = "shelved"
    SHELVED_OFFLOADED = "shelved_offloaded"


class TaskState(StrEnum):
    """What is happening to the instance right now (nova.compute.task_states)."""

    SCHEDULING = "scheduling"
    BLOCK_DEVICE_MAPPING = "block_device_mapping"
    NETWORKING = "networking"
    SPAWNING = "spawning"
    IMAGE_SNAPSHOT = "image_snapshot"
    IMAGE_SNAPSHOT_PENDING = "image_snapshot_pending"
    IMAGE_PENDING_UPLOAD = "image_pending_upload"
    IMAGE_UPLOADING = "image_uploading"
    IMAGE_BACKUP = "image_backup"
    UPDATING_PASSWORD = "updating_password"
    RESIZE_PREP = "resize_prep"
    RESIZE_MIGRATING = "resize_migrating"
    RESIZE_MIGRATED = "resize_migrated"
    RESIZE_FINISH = "resize_finish"
    RESIZE_REVERTING = "resize_reverting"
    RESIZE_CONFIRMING = "resize_confirming"
    REBOOTING = "rebooting"
    REBOOT_PENDING = "reboot_pending"
    REBOOT_STARTED = "reboot_started"
    REBOOTING_HARD = "rebooting_hard"
    REBOOT_PENDING_HARD = "reboot_pending_hard"
    REBOOT_STARTED_HARD = "reboot_started_hard"
    PAUSING = "pausing"
    UNPAUSING = "unpausing"
    SUSPENDING = "suspending"
    RESUMING = "resuming"
    POWERING_OFF = "powering-off"
    POWERING_ON = "powering-on"
    RESCUING = "rescuing"
    UNRESCUING = "unrescuing"
    REBUILDING = "rebuilding"
    REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
    REBUILD_SPAWNING = "rebuild_spawning"
    MIGRATING = "migrating"
    DELETING = "deleting"
    SOFT_DELETING = "soft-deleting"
    RESTORING = "restoring"
    SHELVING = "shelving"
    SHELVING_IMAGE_PENDING_UPLOAD = "shelving_image_pending_upload"
    SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
    SHELVING_OFFLOADING = "shelving_offloading"
    UNSHELVING = "unshelving"


class PowerState(IntEnum):
    """What the hypervisor reports (nova.compute.power_state); values match virDomainState."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


class ApiStatus(StrEnum):
    """The `status` field of a server in the compute API."""

    ACTIVE = "ACTIVE"
    BUILD = "BUILD"
    SHUTOFF = "SHUTOFF"
    PAUSED = "PAUSED"
    SUSPENDED = "SUSPENDED"
    RESCUE = "RESCUE"
    VERIFY_RESIZE = "VERIFY_RESIZE"
    REVERT_RESIZE = "REVERT_RESIZE"
    REBOOT = "REBOOT"
    HARD_REBOOT = "HARD_REBOOT"
    PASSWORD = "PASSWORD"
    RESIZE = "RESIZE"
    REBUILD = "REBUILD"
    MIGRATING = "MIGRATING"
    ERROR = "ERROR"
    DELETED = "DELETED"
    SOFT_DELETED = "SOFT_DELETED"
    SHELVED = "SHELVED"
    SHELVED_OFFLOADED = "SHELVED_OFFLOADED"
    UNKNOWN = "UNKNOWN"


T, S = TaskState, ApiStatus
_REBOOT = {T.REBOOTING: S.REBOOT, T.REBOOT_PENDING: S.REBOOT, T.REBOOT_STARTED: S.REBOOT}
_HARD_REBOOT = {
    T.REBOOTING_HARD: S.HARD_REBOOT,
    T.REBOOT_PENDING_HARD: S.HARD_REBOOT,
    T.REBOOT_STARTED_HARD: S.HARD_REBOOT,
}
_REBUILD = {
    T.REBUILDING: S.REBUILD,
    T.REBUILD_BLOCK_DEVICE_MAPPING: S.REBUILD,
    T.REBUILD_SPAWNING: S.REBUILD,
}
_RESIZE = {
    T.RESIZE_PREP: S.RESIZE,
    T.RESIZE_MIGRATING: S.RESIZE,
    T.RESIZE_MIGRATED: S.RESIZE,
    T.RESIZE_FINISH: S.RESIZE,
}

# vm_state -> (default status, {task_state: status}); the table of nova/api/openstack/common.py
STATUS_MAP: dict[VmState, tuple[ApiStatus, dict[TaskState, ApiStatus]]] = {
    VmState.ACTIVE: (
        S.ACTIVE,
        {
            **_REBOOT,
            **_HARD_REBOOT,
            **_REBUILD,
            **_RESIZE,
            T.UPDATING_PASSWORD: S.PASSWORD,
            T.MIGRATING: S.MIGRATING,
        },
    ),
    VmState.BUILDING: (S.BUILD, {}),
    VmState.STOPPED: (S.SHUTOFF, {**_RESIZE, **_REBUILD}),
    VmState.RESIZED: (S.VERIFY_RESIZE, {T.RESIZE_REVERTING: S.REVERT_RESIZE}),
    VmState.PAUSED: (S.PAUSED, {T.MIGRATING: S.MIGRATING}),
    VmState.SUSPENDED: (S.SUSPENDED, {}),
    VmState.RESCUED: (S.RESCUE, {}),
    VmState.ERROR: (S.ERROR, {**_REBUILD}),
    VmState.DELETED: (S.DELETED, {}),
    VmState.SOFT_DELETED: (S.SOFT_DELETED, {}),
    VmState.SHELVED: (S.SHELVED, {}),
    VmState.SHELVED_OFFLOADED: (S.SHELVED_OFFLOADED, {}),
}
del T, S


def api_status(vm_state: VmState | str, task_state: TaskState | str | None = None) -> ApiStatus:
    """The API status of an instance, exactly as Nova derives it; UNKNOWN for unknown states."""
    try:
        default, by_task = STATUS_MAP[VmState(vm_state)]
    except ValueError:
        return ApiStatus.UNKNOWN
    if task_state is None:
        return default
    try:
        return by_task.get(TaskState(task_state), default)
    except ValueError:
        return default


def states_for_status(status: ApiStatus | str) -> list[tuple[VmState, TaskState | None]]:
    """The (vm_state, task_state) pairs shown as `status`; task None means "any task state".

    Used to turn a `?status=` list filter into a query: a pair with a task state matches
    exactly; a pair (vm_state, None) matches that vm_state unless its task state maps to
    another status (see `api_status`).
    """
    wanted = ApiStatus(status.upper() if isinstance(status, str) else status)
    pairs: list[tuple[VmState, TaskState | None]] = []
    for vm_state, (default, by_task) in STATUS_MAP.items():
        if default is wanted:
            pairs.append((vm_state, None))
        pairs.extend((vm_state, task) for task, shown in by_task.items() if shown is wanted)
    return pairs


TERMINAL_VM_STATES = frozenset({VmState.DELETED, VmState.SOFT_DELETED})
STEADY_POWER = {
    VmState.ACTIVE: PowerState.RUNNING,
    VmState.PAUSED: PowerState.PAUSED,
    VmState.SUSPENDED: PowerState.SUSPENDED,
    VmState.STOPPED: PowerState.SHUTDOWN,
    VmState.RESIZED: PowerState.RUNNING,
}
"""The power state a hypervisor should report for an instance in a settled vm_state."""
