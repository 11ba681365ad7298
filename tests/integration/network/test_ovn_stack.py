"""Real OVN (scripts/stack/ovn.sh) carrying traffic between namespace guests.

Logical topology is written with ovn-nbctl directly: these tests prove the stack and the
plumbing the network driver will build on, not the driver.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.ovn_scratch import OvnScratch
from tests.integration.ovn_stack import (
    Chassis,
    Guest,
    OvnStack,
    list_netns,
    plug_guest,
    run,
    stack_down,
    stack_up,
)

pytestmark = pytest.mark.integration

MAC_A, MAC_B = "02:00:00:0a:00:0a", "02:00:00:0a:00:0b"


def lsp_up(stack: OvnStack, lsp: str) -> bool:
    return stack.nbctl("lsp-get-up", lsp).strip() == "up"


def wait_lsp_up(stack: OvnStack, lsp: str) -> None:
    stack.nbctl("wait-until", "Logical_Switch_Port", lsp, "up=true")


def underlay_tx_packets(stack: OvnStack, chassis: Chassis) -> int:
    """Packets chassis has sent on its underlay veth (kernel counters, always current)."""
    link = f"sm{stack.suffix}u{chassis.index}"
    out = run("ip", "-n", chassis.netns, "-s", "-j", "link", "show", "dev", link)
    count: int = json.loads(out)[0]["stats64"]["tx"]["packets"]
    return count


def test_two_guests_on_one_switch_reach_each_other(
    ovn_stack: OvnStack, ovn_scratch: OvnScratch
) -> None:
    chassis = ovn_stack.chassis[0]
    switch = ovn_scratch.switch(ovn_stack)
    lsp_a = ovn_scratch.port(ovn_stack, switch, MAC_A, "10.10.0.10")
    lsp_b = ovn_scratch.port(ovn_stack, switch, MAC_B, "10.10.0.11")
    assert not lsp_up(ovn_stack, lsp_a) and not lsp_up(ovn_stack, lsp_b)

    guest_a = ovn_scratch.guest(ovn_stack, chassis, lsp_a, MAC_A, "10.10.0.10/24")
    guest_b = ovn_scratch.guest(ovn_stack, chassis, lsp_b, MAC_B, "10.10.0.11/24")
    wait_lsp_up(ovn_stack, lsp_a)
    wait_lsp_up(ovn_stack, lsp_b)

    assert ovn_stack.bound_chassis(lsp_a) == chassis.name
    assert ovn_stack.bound_chassis(lsp_b) == chassis.name
    assert guest_a.ping("10.10.0.11", attempts=3)
    assert guest_b.ping("10.10.0.10", count=3)
    # TCP too: it hangs, while ping works, if eth0's tx checksum offload is left on
    assert tcp_reply(server=guest_b, client=guest_a, ip="10.10.0.11") == "hello"


def tcp_reply(server: Guest, client: Guest, ip: str) -> str:
    """What a one-shot `busybox nc` server in `server` sends to `client` over TCP."""
    listener = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            server.netns,
            *"timeout 10 busybox nc -l -p 7000 -e echo hello".split(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the listener is up
            try:
                return client.exec("busybox", "nc", "-w", "2", ip, "7000", timeout=5).strip()
            except (RuntimeError, subprocess.TimeoutExpired):
                time.sleep(0.1)
        return ""
    finally:
        listener.kill()
        listener.wait()


def test_native_dhcp_gives_guest_its_fixed_ip(
    ovn_stack: OvnStack, ovn_scratch: OvnScratch, tmp_path: Path
) -> None:
    if shutil.which("busybox") is None:
        pytest.fail("busybox is missing: run scripts/stack/ovn.sh install")
    chassis = ovn_stack.chassis[0]
    switch = ovn_scratch.switch(ovn_stack)
    lsp = ovn_scratch.port(ovn_stack, switch, MAC_A, "10.20.0.23")
    options = ovn_scratch.dhcp_options(
        ovn_stack,
        "10.20.0.0/24",
        lease_time="3600",
        router="10.20.0.1",
        server_id="10.20.0.1",
        server_mac="02:00:00:14:00:01",
    )
    ovn_stack.nbctl("lsp-set-dhcpv4-options", lsp, options)
    guest = ovn_scratch.guest(ovn_stack, chassis, lsp, MAC_A)  # no address: DHCP's job
    wait_lsp_up(ovn_stack, lsp)
    assert guest.addresses() == []

    assert guest.udhcpc(tmp_path) == [
        "ip=10.20.0.23",
        "mask=24",
        "router=10.20.0.1",
        "serverid=10.20.0.1",
        "lease=3600",
    ]
    assert guest.addresses() == ["10.20.0.23/24"]


def test_guests_on_two_chassis_reach_each_other_over_geneve(
    ovn_stack_2: OvnStack, ovn_scratch: OvnScratch
) -> None:
    stack = ovn_stack_2
    chassis_a, chassis_b = stack.chassis
    switch = ovn_scratch.switch(stack)
    lsp_a = ovn_scratch.port(stack, switch, MAC_A, "10.30.0.10")
    lsp_b = ovn_scratch.port(stack, switch, MAC_B, "10.30.0.11")
    guest_a = ovn_scratch.guest(stack, chassis_a, lsp_a, MAC_A, "10.30.0.10/24")
    guest_b = ovn_scratch.guest(stack, chassis_b, lsp_b, MAC_B, "10.30.0.11/24")
    wait_lsp_up(stack, lsp_a)
    wait_lsp_up(stack, lsp_b)
    assert stack.bound_chassis(lsp_a) == chassis_a.name
    assert stack.bound_chassis(lsp_b) == chassis_b.name

    sent_before = underlay_tx_packets(stack, chassis_a)
    # the first packet over a new tunnel is dropped while the underlay neighbour resolves
    assert guest_a.ping("10.30.0.11", attempts=5)
    assert guest_b.ping("10.30.0.10", count=3)
    assert underlay_tx_packets(stack, chassis_a) > sent_before


def live_pids(pids: tuple[int, ...]) -> list[int]:
    """The PIDs that name a running process (an exited daemon PID 1 has yet to reap is not)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{proc.name}: {cmdline}")
    return found


def root_links() -> set[str]:
    return {link["ifname"] for link in json.loads(run("ip", "-j", "link", "show"))}


def test_down_leaves_no_process_namespace_or_link_behind() -> None:
    directory = Path(tempfile.mkdtemp(prefix="skm-ovn-", dir="/tmp"))
    try:
        check_down_leaves_nothing(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def check_down_leaves_nothing(directory: Path) -> None:
    links_before = root_links()
    try:
        stack = stack_up(directory, chassis=2)
        # a guest on each chassis the test does not remove: down must take them too
        for chassis in stack.chassis:
            plug_guest(stack, chassis, f"left-{chassis.index}", MAC_A, "10.40.0.1/24")
        assert len(live_pids(stack.pids)) == 9  # NB, SB, northd; 3 per chassis
        run_netns = {n for n in list_netns() if n.startswith(f"{stack.prefix}-")}
        assert len(run_netns) == 4  # two chassis, two guests
    finally:
        stack_down(directory)
    assert live_pids(stack.pids) == []
    assert processes_mentioning(str(directory)) == []
    assert {n for n in list_netns() if n.startswith(f"{stack.prefix}-")} == set()
    ours = ("sm" + stack.suffix, "tap", "br-int", "br-ul", "ovs-netdev", "genev_sys")
    assert {link for link in root_links() - links_before if link.startswith(ours)} == set()
    assert not list(directory.glob("**/*.pid")) and not list(directory.glob("**/*.sock"))
    stack_down(directory)  # idempotent: a second down finds nothing and succeeds
