"""The API status derived from (vm_state, task_state), as Nova shows it."""

from __future__ import annotations

import pytest

from schemas.instance_state import (
    ApiStatus,
    PowerState,
    TaskState,
    VmState,
    api_status,
    states_for_status,
)
from tests.unit.schemas.samples import INSTANCE

CASES = [
    ("active", None, "ACTIVE"),
    ("active", "rebooting", "REBOOT"),
    ("active", "reboot_started", "REBOOT"),
    ("active", "rebooting_hard", "HARD_REBOOT"),
    ("active", "reboot_pending_hard", "HARD_REBOOT"),
    ("active", "rebuilding", "REBUILD"),
    ("active", "rebuild_spawning", "REBUILD"),
    ("active", "resize_prep", "RESIZE"),
    ("active", "resize_migrating", "RESIZE"),
    ("active", "resize_finish", "RESIZE"),
    ("active", "migrating", "MIGRATING"),
    ("active", "updating_password", "PASSWORD"),
    ("active", "powering-off", "ACTIVE"),
    ("active", "pausing", "ACTIVE"),
    ("active", "deleting", "ACTIVE"),
    ("building", "scheduling", "BUILD"),
    ("building", "networking", "BUILD"),
    ("building", "block_device_mapping", "BUILD"),
    ("building", "spawning", "BUILD"),
    ("building", "deleting", "BUILD"),
    ("stopped", None, "SHUTOFF"),
    ("stopped", "powering-on", "SHUTOFF"),
    ("stopped", "resize_prep", "RESIZE"),
    ("stopped", "rebuilding", "REBUILD"),
    ("stopped", "migrating", "SHUTOFF"),
    ("paused", None, "PAUSED"),
    ("paused", "unpausing", "PAUSED"),
    ("paused", "migrating", "MIGRATING"),
    ("suspended", "resuming", "SUSPENDED"),
    ("rescued", None, "RESCUE"),
    ("resized", None, "VERIFY_RESIZE"),
    ("resized", "resize_confirming", "VERIFY_RESIZE"),
    ("resized", "resize_reverting", "REVERT_RESIZE"),
    ("error", None, "ERROR"),
    ("error", "rebuilding", "REBUILD"),
    ("error", "deleting", "ERROR"),
    ("deleted", None, "DELETED"),
    ("soft-delete", None, "SOFT_DELETED"),
    ("shelved", None, "SHELVED"),
    ("shelved_offloaded", "unshelving", "SHELVED_OFFLOADED"),
]


@pytest.mark.parametrize(("vm_state", "task_state", "status"), CASES)
def test_api_status(vm_state: str, task_state: str | None, status: str) -> None:
    assert api_status(vm_state, task_state) == status
    assert api_status(
        VmState(vm_state), TaskState(task_state) if task_state else None
    ) is ApiStatus(status)


def test_unknown_states() -> None:
    assert api_status("melted") is ApiStatus.UNKNOWN
    assert api_status("active", "dancing") is ApiStatus.ACTIVE


def test_every_vm_state_has_a_status() -> None:
    for vm_state in VmState:
        assert api_status(vm_state) is not ApiStatus.UNKNOWN


@pytest.mark.parametrize("status", [s for s in ApiStatus if s is not ApiStatus.UNKNOWN])
def test_states_for_status_inverts_api_status(status: ApiStatus) -> None:
    pairs = states_for_status(status)
    assert pairs, status
    for vm_state, task_state in pairs:
        assert api_status(vm_state, task_state) is status
    assert states_for_status(status.value.lower()) == pairs


def test_power_state_values_match_nova() -> None:
    assert {state.name: state.value for state in PowerState} == {
        "NOSTATE": 0,
        "RUNNING": 1,
        "PAUSED": 3,
        "SHUTDOWN": 4,
        "CRASHED": 6,
        "SUSPENDED": 7,
    }


def test_instance_status_is_derived_not_serialised() -> None:
    assert INSTANCE.status is ApiStatus.BUILD
    assert "status" not in INSTANCE.model_dump()
    active = INSTANCE.model_copy(update={"vm_state": VmState.ACTIVE, "task_state": None})
    assert active.status is ApiStatus.ACTIVE
