"""`skymesh up --network ovn`: a private Open vSwitch + OVN for the demo, or an existing one.

Private (the default): `scripts/stack/ovn.sh up $SKYMESH_HOME/stack/ovn --chassis 3`
starts the NB and SB databases, ovn-northd and three chassis (each its own OVS and
ovn-controller in a network namespace, joined by a Geneve underlay), one per compute
agent of the default `skymesh up`. Chassis n gets `external_ids:hostname=compute-<n>`,
so the logical ports the network agent binds to host `compute-<n>`
(`options:requested-chassis`) are claimed by that chassis. Compute agents plug VIFs into
their chassis's br-int (`--vif ovs --ovs-db ... --ovs-netns ...`) and watch its SB
Port_Binding rows (`--ovn-sb --chassis`); the network agent writes the northbound
(`--ovn-nb --ovn-sb`). `skymesh down` runs `ovn.sh down`. Compute agents beyond the
third get no chassis of their own and share the last one's OVS (their ports do not bind).

Existing deployment: with `OVN_NB_DB` and `OVN_SB_DB` set (the variables ovn-nbctl and
ovn-sbctl read too), nothing is started; agents get those addresses, compute agents the
local OVS database (`OVS_DB`, default unix:/run/openvswitch/db.sock) and their host name
as chassis name (see docs/network-plumbing.md).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from corebus import up_stacks

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "stack" / "ovn.sh"
CHASSIS = 3
MAX_DIR = 64  # ovn.sh: unix socket paths under DIR must stay short
DEFAULT_OVS_DB = "unix:/run/openvswitch/db.sock"


def stack_dir(home: Path) -> Path:
    """$SKYMESH_HOME/stack/ovn, or a short /tmp path when that is too long for sockets."""
    wanted = (home / "stack" / "ovn").resolve()
    if len(str(wanted)) <= MAX_DIR:
        return wanted
    return Path("/tmp") / f"skm-ovn-{hashlib.sha1(str(wanted).encode()).hexdigest()[:8]}"


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isupper():
            env[key] = value
    return env


class OvnStack:
    name = "OVN"

    def __init__(self) -> None:
        self._env: dict[str, str] = {}
        self._existing = bool(os.environ.get("OVN_NB_DB") and os.environ.get("OVN_SB_DB"))

    async def up(self, home: Path) -> None:
        if self._existing:
            return
        if os.geteuid() != 0:
            raise up_stacks.StackError(
                "a private OVN needs root (namespaces, ovs-vswitchd); or set "
                "OVN_NB_DB and OVN_SB_DB to use an existing deployment"
            )
        directory = stack_dir(home)
        directory.parent.mkdir(parents=True, exist_ok=True)
        await up_stacks.run_script(SCRIPT, "up", str(directory), "--chassis", str(CHASSIS))
        self._env = read_env(directory / "env")
        for n in range(1, CHASSIS + 1):
            await up_stacks.run_command(
                "ovs-vsctl",
                f"--db={self._env[f'OVN_CHASSIS_{n}_OVS_DB']}",
                "--timeout=20",
                "set",
                "Open_vSwitch",
                ".",
                f"external_ids:hostname=compute-{n}",
            )

    def _loaded(self) -> dict[str, str]:
        if not self._env:
            home = Path(os.environ.get("SKYMESH_HOME", Path.home() / ".skymesh"))
            env_file = stack_dir(home) / "env"
            if env_file.exists():
                self._env = read_env(env_file)
        return self._env

    def agent_args(self, role: str, host: str) -> tuple[str, ...]:
        if self._existing:
            return self._existing_args(role)
        env = self._loaded()
        central = ("--ovn-nb", env["OVN_NB_DB"], "--ovn-sb", env["OVN_SB_DB"])
        if role != "compute":
            return central
        number = host.rpartition("-")[2]
        n = min(int(number), CHASSIS) if number.isdigit() else 1
        return (
            *central,
            *("--vif", "ovs", "--chassis", env[f"OVN_CHASSIS_{n}_NAME"]),
            *("--ovs-db", env[f"OVN_CHASSIS_{n}_OVS_DB"]),
            *("--ovs-netns", env[f"OVN_CHASSIS_{n}_NETNS"]),
        )

    def _existing_args(self, role: str) -> tuple[str, ...]:
        central = ("--ovn-nb", os.environ["OVN_NB_DB"], "--ovn-sb", os.environ["OVN_SB_DB"])
        if role != "compute":
            return central
        return (*central, "--vif", "ovs", "--ovs-db", os.environ.get("OVS_DB", DEFAULT_OVS_DB))

    async def down(self, home: Path) -> None:
        if self._existing:
            return
        directory = stack_dir(home)
        if directory.exists():
            await up_stacks.run_script(SCRIPT, "down", str(directory))
