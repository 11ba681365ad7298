"""`skymesh up --storage rbd`: which cluster the agents are pointed at."""

from __future__ import annotations

from pathlib import Path

import pytest

from corebus import up_stacks
from corebus.up_stack_rbd import RbdStack, parse_env
from corebus.up_stacks import Choice, StackError, stack_for


def test_the_storage_choice_rbd_has_a_stack() -> None:
    assert isinstance(stack_for(Choice("storage", "rbd")), RbdStack)


async def test_an_existing_cluster_named_in_the_environment_is_used_as_it_is(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "ceph.conf"
    conf.write_text("[global]\nmon_host = 10.0.0.1\n")
    env = {"SKYMESH_CEPH_CONF": str(conf), "SKYMESH_CEPH_USER": "cinder"}
    stack = RbdStack(env)
    await stack.up(tmp_path)  # starts nothing
    args = ("--ceph-conf", str(conf), "--ceph-pool", "volumes", "--ceph-user", "cinder")
    assert stack.agent_args("storage", "storage-1") == args
    assert stack.agent_args("compute", "compute-1") == args
    assert stack.agent_args("network", "network-1") == ()
    await stack.down(tmp_path)  # stops nothing
    assert conf.exists()


async def test_a_missing_conf_is_refused_with_the_reason(tmp_path: Path) -> None:
    stack = RbdStack({"SKYMESH_CEPH_CONF": str(tmp_path / "nope.conf")})
    with pytest.raises(up_stacks.StackError, match="does not exist"):
        await stack.up(tmp_path)
    assert StackError is up_stacks.StackError


def test_the_env_lines_of_ceph_sh_are_parsed() -> None:
    out = "noise\nCEPH_CONF=/x/ceph.conf\nCEPH_USER=\nOTHER=1\n"
    assert parse_env(out) == {"CEPH_CONF": "/x/ceph.conf", "CEPH_USER": ""}
