"""A private OVS + OVN stack (scripts/stack/ovn.sh) and namespace "guests" plugged into it.

The stack is real: NB and SB ovsdb-servers, ovn-northd and one ovn-controller per chassis,
each chassis's Open vSwitch in its own network namespace. A guest is a network namespace whose
`eth0` is one end of a veth pair; the other end is a port of the chassis's br-int with
`external_ids:iface-id` naming the logical switch port, which is how ovn-controller binds it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OVN_SH = REPO / "scripts" / "stack" / "ovn.sh"
CTL_TIMEOUT = 20  # seconds an ovs-vsctl / ovn-nbctl call may wait (wait-until included)


def run(*args: str | Path, timeout: float = 30) -> str:
    """Run a command; return its stdout; raise with its stderr when it fails."""
    proc = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr.strip()}"
        )
    return proc.stdout


def read_env(path: Path) -> dict[str, str]:
    """The KEY=VALUE lines of the env file `ovn.sh up` writes."""
    env = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.replace("_", "").isalnum() and key.isupper():
            env[key] = value
    return env


@dataclass(frozen=True)
class Chassis:
    index: int
    name: str  # system-id, the SB Chassis name
    netns: str  # where its ovsdb-server, ovs-vswitchd and ovn-controller run
    ovs_db: str
    encap_ip: str
    pids: tuple[int, ...]

    def vsctl(self, *args: str) -> str:
        return run("ovs-vsctl", f"--db={self.ovs_db}", f"--timeout={CTL_TIMEOUT}", *args)


@dataclass(frozen=True)
class OvnStack:
    dir: Path
    prefix: str  # every namespace of the run starts with it
    suffix: str  # every link of the run in the caller's namespace starts with "sm" + it
    nb_db: str
    sb_db: str
    central_pids: tuple[int, ...]
    chassis: tuple[Chassis, ...]

    @classmethod
    def from_dir(cls, directory: Path) -> OvnStack:
        env = read_env(directory / "env")
        chassis = tuple(
            Chassis(
                index=n,
                name=env[f"OVN_CHASSIS_{n}_NAME"],
                netns=env[f"OVN_CHASSIS_{n}_NETNS"],
                ovs_db=env[f"OVN_CHASSIS_{n}_OVS_DB"],
                encap_ip=env[f"OVN_CHASSIS_{n}_ENCAP_IP"],
                pids=tuple(
                    int(env[f"OVN_CHASSIS_{n}_{d}_PID"])
                    for d in ("OVSDB", "VSWITCHD", "CONTROLLER")
                ),
            )
            for n in range(1, int(env["OVN_CHASSIS_COUNT"]) + 1)
        )
        return cls(
            dir=directory,
            prefix=env["OVN_STACK_PREFIX"],
            suffix=env["OVN_STACK_SUFFIX"],
            nb_db=env["OVN_NB_DB"],
            sb_db=env["OVN_SB_DB"],
            central_pids=tuple(int(env[f"OVN_{d}_PID"]) for d in ("NB", "SB", "NORTHD")),
            chassis=chassis,
        )

    @property
    def pids(self) -> tuple[int, ...]:
        return self.central_pids + tuple(p for c in self.chassis for p in c.pids)

    def nbctl(self, *args: str) -> str:
        return run("ovn-nbctl", f"--db={self.nb_db}", f"--timeout={CTL_TIMEOUT}", *args)

    def sbctl(self, *args: str) -> str:
        return run("ovn-sbctl", f"--db={self.sb_db}", f"--timeout={CTL_TIMEOUT}", *args)

    def bound_chassis(self, lsp: str) -> str:
        """The name of the SB Chassis the logical port is bound to ('' when unbound)."""
        uuid = self.sbctl(
            "--bare", "--columns=chassis", "find", "Port_Binding", f"logical_port={lsp}"
        ).strip()
        return (
            self.sbctl("--bare", "--columns=name", "list", "Chassis", uuid).strip() if uuid else ""
        )


def stack_up(directory: Path, chassis: int = 1) -> OvnStack:
    run("bash", OVN_SH, "up", directory, "--chassis", str(chassis), timeout=90)
    return OvnStack.from_dir(directory)


def stack_down(directory: Path) -> None:
    run("bash", OVN_SH, "down", directory, timeout=90)


@contextmanager
def running_stack(chassis: int = 1) -> Iterator[OvnStack]:
    """A stack in a fresh directory, stopped and removed at the end whatever happens."""
    # short and under /tmp: unix socket paths must stay under 108 bytes
    directory = Path(tempfile.mkdtemp(prefix="skm-ovn-", dir="/tmp"))
    try:
        yield stack_up(directory, chassis)
    finally:
        try:
            stack_down(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class Guest:
    """A network namespace plugged into a chassis's br-int as logical switch port `lsp`."""

    netns: str
    lsp: str
    mac: str
    chassis: Chassis
    ovs_port: str  # the veth end on br-int, inside the chassis namespace

    def exec(self, *args: str, timeout: float = 30) -> str:
        return run("ip", "netns", "exec", self.netns, *args, timeout=timeout)

    def ping(self, ip: str, attempts: int = 1, count: int = 1) -> bool:
        """True once `count` pings in a row get through, trying up to `attempts` times."""
        for _ in range(attempts):
            try:
                self.exec("ping", "-c", str(count), "-i", "0.2", "-W", "1", ip)
                return True
            except RuntimeError:
                continue
        return False

    def addresses(self) -> list[str]:
        """The IPv4 addresses (with prefix length) on eth0."""
        out = run("ip", "-n", self.netns, "-4", "-o", "addr", "show", "dev", "eth0")
        return [line.split()[3] for line in out.splitlines()]

    def udhcpc(self, workdir: Path) -> list[str]:
        """Ask DHCP for eth0's address with busybox udhcpc (failing when no lease comes;
        quitting once bound) and configure it; the lease as `key=value` words."""
        lease = workdir / "lease"
        script = workdir / "udhcpc.sh"
        script.write_text(
            "#!/bin/sh\n"
            '[ "$1" = bound ] || exit 0\n'
            f'echo "ip=$ip mask=$mask router=$router serverid=$serverid lease=$lease" > {lease}\n'
            'ip addr add "$ip/$mask" dev "$interface"\n'
        )
        script.chmod(0o755)
        udhcpc = ("busybox", "udhcpc", "-i", "eth0", "-f", "-n", "-q", "-t", "5", "-T", "1")
        self.exec(*udhcpc, "-s", str(script))
        return lease.read_text().split()

    def remove(self) -> None:
        self.chassis.vsctl("--if-exists", "del-port", "br-int", self.ovs_port)
        if self.netns in list_netns():
            run("ip", "netns", "delete", self.netns)


def list_netns() -> set[str]:
    return {line.split()[0] for line in run("ip", "netns", "list").splitlines() if line}


def plug_guest(
    stack: OvnStack, chassis: Chassis, lsp: str, mac: str, cidr: str | None = None
) -> Guest:
    """Create a namespace guest for logical switch port `lsp` on `chassis`.

    `cidr` ("10.0.0.5/24") configures eth0 statically; without it the guest has no address
    (DHCP's job). tx checksum offload is switched off on eth0: the userspace datapath forwards
    the veth's partial checksums as they are, and TCP then hangs while ping works.
    """
    tag = hashlib.sha1(lsp.encode()).hexdigest()[:8]
    guest = Guest(
        netns=f"{stack.prefix}-g-{tag}", lsp=lsp, mac=mac, chassis=chassis, ovs_port=f"tap{tag}"
    )
    try:
        run("ip", "netns", "add", guest.netns)
        run(
            "ip",
            "link",
            "add",
            guest.ovs_port,
            "netns",
            chassis.netns,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            guest.netns,
        )
        run("ip", "-n", guest.netns, "link", "set", "lo", "up")
        run("ip", "-n", guest.netns, "link", "set", "eth0", "address", mac)
        if cidr:
            run("ip", "-n", guest.netns, "addr", "add", cidr, "dev", "eth0")
        run("ip", "-n", guest.netns, "link", "set", "eth0", "up")
        guest.exec("ethtool", "-K", "eth0", "tx", "off")
        run("ip", "-n", chassis.netns, "link", "set", guest.ovs_port, "up")
        chassis.vsctl(
            "--may-exist",
            "add-port",
            "br-int",
            guest.ovs_port,
            "--",
            "set",
            "Interface",
            guest.ovs_port,
            f"external_ids:iface-id={lsp}",
            f"external_ids:attached-mac={mac}",
            "external_ids:iface-status=active",
        )
    except BaseException:
        guest.remove()
        raise
    return guest


@dataclass(frozen=True)
class External:
    """An "external" network outside OVN: namespace `netns` with a Linux bridge `br0`
    holding `cidr` (the upstream router's address), and on each chassis a netdev `br-ex`
    (ovn-bridge-mappings `physnet:br-ex`) whose uplink veth ends in br0 as `c<N>`."""

    netns: str
    cidr: str
    physnet: str
    stack: OvnStack

    def exec(self, *args: str, timeout: float = 30) -> str:
        return run("ip", "netns", "exec", self.netns, *args, timeout=timeout)

    def uplink(self, chassis: Chassis) -> str:
        """The interface in `netns` that carries `chassis`'s external traffic."""
        return f"c{chassis.index}"

    def remove(self) -> None:
        for chassis in self.stack.chassis:
            chassis.vsctl("--if-exists", "del-br", "br-ex")
            chassis.vsctl("remove", "Open_vSwitch", ".", "external_ids", "ovn-bridge-mappings")
        if self.netns in list_netns():
            run("ip", "netns", "delete", self.netns)


def attach_external(
    stack: OvnStack, physnet: str = "physnet1", cidr: str = "172.24.4.1/24"
) -> External:
    """Give every chassis of `stack` a bridge-mapped uplink into one external namespace."""
    ext = External(netns=f"{stack.prefix}-ext", cidr=cidr, physnet=physnet, stack=stack)
    try:
        run("ip", "netns", "add", ext.netns)
        run("ip", "-n", ext.netns, "link", "set", "lo", "up")
        run("ip", "-n", ext.netns, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", ext.netns, "addr", "add", cidr, "dev", "br0")
        run("ip", "-n", ext.netns, "link", "set", "br0", "up")
        for chassis in stack.chassis:
            inside = f"sm{stack.suffix}x{chassis.index}"
            outside = ext.uplink(chassis)
            run(
                "ip", "link", "add", inside, "netns", chassis.netns, "type", "veth",
                "peer", "name", outside, "netns", ext.netns,
            )  # fmt: skip
            run("ip", "-n", ext.netns, "link", "set", outside, "master", "br0", "up")
            run("ip", "-n", chassis.netns, "link", "set", inside, "up")
            chassis.vsctl(
                "--may-exist", "add-br", "br-ex", "--", "set", "Bridge", "br-ex",
                "datapath_type=netdev", "--", "--may-exist", "add-port", "br-ex", inside,
            )  # fmt: skip
            run("ip", "-n", chassis.netns, "link", "set", "br-ex", "up")
            chassis.vsctl(
                "set", "Open_vSwitch", ".", f"external_ids:ovn-bridge-mappings={physnet}:br-ex"
            )
    except BaseException:
        ext.remove()
        raise
    return ext
