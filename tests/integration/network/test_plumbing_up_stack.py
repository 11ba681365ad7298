"""The OVN stack of `skymesh up --network ovn` (corebus/up_stack_ovn.py): three private
chassis named for the compute agents, the options each agent gets, and nothing left
after `down`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from corebus.up_stack_ovn import CHASSIS, OvnStack, read_env, stack_dir
from tests.integration.ovn_stack import list_netns, run

pytestmark = pytest.mark.integration


async def test_up_gives_each_compute_agent_its_own_chassis_and_down_removes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OVN_NB_DB", raising=False)
    monkeypatch.delenv("OVN_SB_DB", raising=False)
    home = Path(tempfile.mkdtemp(prefix="skm-up-", dir="/tmp"))
    stack = OvnStack()
    try:
        await stack.up(home)
        env = read_env(stack_dir(home) / "env")
        assert int(env["OVN_CHASSIS_COUNT"]) == CHASSIS
        hostnames = run(
            "ovn-sbctl",
            f"--db={env['OVN_SB_DB']}",
            "--bare",
            "--columns=hostname",
            "list",
            "Chassis",
        ).split()
        assert sorted(hostnames) == [f"compute-{n}" for n in range(1, CHASSIS + 1)]
        compute_2 = stack.agent_args("compute", "compute-2")
        assert compute_2[compute_2.index("--chassis") + 1] == env["OVN_CHASSIS_2_NAME"]
        assert compute_2[compute_2.index("--ovs-netns") + 1] == env["OVN_CHASSIS_2_NETNS"]
        assert compute_2[compute_2.index("--vif") + 1] == "ovs"
        network = stack.agent_args("network", "network-1")
        assert network == ("--ovn-nb", env["OVN_NB_DB"], "--ovn-sb", env["OVN_SB_DB"])
        await stack.up(home)  # idempotent
    finally:
        await stack.down(home)
        prefix = env["OVN_STACK_PREFIX"] if "env" in locals() else "-"
        run("rm", "-rf", str(home), str(stack_dir(home)))
    assert not any(ns.startswith(prefix) for ns in list_netns())
