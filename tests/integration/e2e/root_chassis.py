"""An OVN chassis whose Open vSwitch runs in the root network namespace, for a QEMU guest.

scripts/stack/ovn.sh runs every chassis's ovsdb-server, ovs-vswitchd and ovn-controller in
a namespace of its own. A QEMU guest cannot use such a chassis: libvirtd (root namespace)
opens the guest's tap by name in its own namespace (`<target dev=... managed='no'/>`), and
the netdev datapath opens a port by name in ovs-vswitchd's namespace, so tap and OVS must
share one namespace, as on a production compute host. This module adds one more chassis
to a running stack, in the caller's (root) namespace, joined to the stack's SB database.

Everything carries the stack's suffix, so parallel runs and the machine's own bridges never
clash: the integration bridge `sm<sfx>bi` (`external_ids:ovn-bridge`; `br-int` would
collide with any other OVS in the root namespace), the provider bridge `sm<sfx>bx`
(`ovn-bridge-mappings physnet:sm<sfx>bx`) and its uplink veth `sm<sfx>xr`, whose peer `r`
sits on the Linux bridge `br0` of an "external" namespace `<prefix>-rx` holding the
upstream router's address. The chassis's files live in `<stack dir>/c0` with the layout
ovn.sh uses for its own chassis, so `ovn.sh down` also stops it should `stop()` not run;
`ovn.sh down` deletes `<prefix>-*` namespaces and `sm<sfx>*` links too.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.ovn_stack import CTL_TIMEOUT, OvnStack, list_netns, run

VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
ENCAP_IP = "127.0.0.2"  # unique in the stack's SB (its namespaced chassis 1 has 127.0.0.1)
DAEMONS = ("ovn-controller", "ovs-vswitchd", "ovsdb-server")  # in stopping order


def _daemon(directory: Path, *args: str) -> None:
    """Start a daemon detached, its pidfile and log in `directory`."""
    env = os.environ | {
        name: str(directory)
        for name in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVN_RUNDIR", "OVN_LOGDIR")
    }
    daemon = args[0]
    cmd = [
        *args,
        f"--pidfile={directory / daemon}.pid",
        f"--log-file={directory / daemon}.log",
        "--detach",
        "--no-chdir",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{daemon} did not start: {proc.stderr.strip()}")


def _stop(pidfile: Path) -> None:
    """SIGTERM the daemon by its PID; wait (5 s, then SIGKILL) for its pidfile to vanish
    (an exited daemon may linger as a zombie, so the pidfile is the signal)."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        return
    deadline = time.monotonic() + 5
    while pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if pidfile.exists():
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        pidfile.unlink(missing_ok=True)


@dataclass(frozen=True)
class RootChassis:
    stack: OvnStack
    name: str  # system-id and hostname: the SB Chassis name, the ports' requested chassis
    dir: Path
    ovs_db: str
    integration_bridge: str
    provider_bridge: str
    uplink: str  # the veth on the provider bridge
    physnet: str
    external_netns: str
    external_cidr: str

    def vsctl(self, *args: str) -> str:
        return run("ovs-vsctl", f"--db={self.ovs_db}", f"--timeout={CTL_TIMEOUT}", *args)

    def external_exec(self, *args: str, timeout: float = 30) -> str:
        return run("ip", "netns", "exec", self.external_netns, *args, timeout=timeout)

    def stop(self) -> None:
        """ovn-controller first (it would re-create the bridges), then the bridges (netdev
        bridges are tap devices that outlive ovs-vswitchd), the daemons, the uplink and the
        external namespace."""
        _stop(self.dir / "ovn-controller.pid")
        if (self.dir / "ovs-vswitchd.pid").exists():
            for bridge in (self.integration_bridge, self.provider_bridge):
                try:
                    self.vsctl("--if-exists", "del-br", bridge)
                except RuntimeError:
                    pass  # deleted with the links below
        _stop(self.dir / "ovs-vswitchd.pid")
        _stop(self.dir / "ovsdb-server.pid")
        for link in (self.uplink, self.integration_bridge, self.provider_bridge):
            subprocess.run(["ip", "link", "delete", link], capture_output=True, check=False)
        if self.external_netns in list_netns():
            run("ip", "netns", "delete", self.external_netns)


def start_root_chassis(
    stack: OvnStack, physnet: str = "physnet1", external_cidr: str = "172.24.4.1/24"
) -> RootChassis:
    """Add a root-namespace chassis to `stack`, with a provider bridge for `physnet` whose
    uplink ends in an "external" namespace holding `external_cidr`; wait until it has
    registered in SB and made its integration bridge."""
    directory = stack.dir / "c0"
    sfx = stack.suffix
    chassis = RootChassis(
        stack=stack,
        name=f"{stack.prefix}-c0",
        dir=directory,
        ovs_db=f"unix:{directory}/db.sock",
        integration_bridge=f"sm{sfx}bi",
        provider_bridge=f"sm{sfx}bx",
        uplink=f"sm{sfx}xr",
        physnet=physnet,
        external_netns=f"{stack.prefix}-rx",
        external_cidr=external_cidr,
    )
    try:
        directory.mkdir(parents=True)
        run("ovsdb-tool", "create", directory / "conf.db", VSWITCH_SCHEMA)
        _daemon(
            directory,
            "ovsdb-server",
            str(directory / "conf.db"),
            f"--remote=punix:{directory}/db.sock",
            f"--unixctl={directory}/ovsdb-server.ctl",
        )
        chassis.vsctl("--no-wait", "init")
        chassis.vsctl(
            "--no-wait", "set", "Open_vSwitch", ".",
            f"external_ids:system-id={chassis.name}",
            f"external_ids:hostname={chassis.name}",
            f"external_ids:ovn-remote={stack.sb_db}",
            "external_ids:ovn-encap-type=geneve",
            f"external_ids:ovn-encap-ip={ENCAP_IP}",
            "external_ids:ovn-bridge-datapath-type=netdev",
            f"external_ids:ovn-bridge={chassis.integration_bridge}",
            f"external_ids:ovn-bridge-mappings={physnet}:{chassis.provider_bridge}",
        )  # fmt: skip
        unixctl = f"--unixctl={directory}/ovs-vswitchd.ctl"
        _daemon(directory, "ovs-vswitchd", chassis.ovs_db, unixctl)
        _external(chassis)
        _daemon(directory, "ovn-controller", chassis.ovs_db)
        stack.sbctl("wait-until", "Chassis", chassis.name)
        chassis.vsctl("wait-until", "Bridge", chassis.integration_bridge, "datapath_type=netdev")
    except BaseException:
        chassis.stop()
        raise
    return chassis


def _external(chassis: RootChassis) -> None:
    """The provider bridge, its uplink veth and the external namespace at its other end."""
    ns = chassis.external_netns
    run("ip", "netns", "add", ns)
    run("ip", "-n", ns, "link", "set", "lo", "up")
    run("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
    run("ip", "-n", ns, "addr", "add", chassis.external_cidr, "dev", "br0")
    run("ip", "-n", ns, "link", "set", "br0", "up")
    run("ip", "link", "add", chassis.uplink, "type", "veth", "peer", "name", "r", "netns", ns)
    run("ip", "-n", ns, "link", "set", "r", "master", "br0", "up")
    run("ip", "link", "set", chassis.uplink, "up")
    chassis.vsctl(
        "--may-exist", "add-br", chassis.provider_bridge,
        "--", "set", "Bridge", chassis.provider_bridge, "datapath_type=netdev",
        "--", "--may-exist", "add-port", chassis.provider_bridge, chassis.uplink,
    )  # fmt: skip
    run("ip", "link", "set", chassis.provider_bridge, "up")
