"""End to end: a real TCG guest on OVN gets its port's fixed IP from OVN's DHCP and answers
on its floating IP from an "external" network.

Everything is the project's own code on real daemons: the OVN network driver
(node_agent/drivers/network/ovn.py) writes the network, its DHCP subnet, the port (fixed IP,
requested chassis), a router with an external gateway on physnet1 and a distributed floating
IP into a private NB; the QEMU hypervisor driver (node_agent/drivers/hypervisor/qemu.py)
spawns the busybox guest (scripts/stack/guest.sh) on qemu:///system from a Spawn carrying
the port, and its OVS VIF driver (node_agent/drivers/vif/ovs.py) makes the tap and plugs it
into the integration bridge with `iface-id` = port id; the southbound watcher
(node_agent/drivers/vif/ovn_binding.py) reports the port up.

Arrangement: the stack's own chassis (scripts/stack/ovn.sh) run their OVS in network
namespaces, but libvirtd opens a `managed='no'` tap by name in the root namespace and the
netdev datapath opens ports by name in ovs-vswitchd's namespace. So this test adds a chassis
whose OVS and ovn-controller run in the root namespace, as on a production compute host
(root_chassis.py), with uniquely named bridges (`ovn-bridge` instead of `br-int`) and a
provider bridge for physnet1 uplinked into a private "external" namespace. It is the
ports' requested chassis and the router's gateway chassis; the namespaced chassis 1 of the
stack hosts nothing. One guest: the test took 35-110 s on two cores shared with other
work (load average up to 19); TCG boot to the guest's first console line dominates.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from node_agent.drivers.hypervisor.qemu import QemuHypervisor, tap_exists
from node_agent.drivers.network.ovn import OvnNetwork
from node_agent.drivers.vif.base import PortState, tap_name
from node_agent.drivers.vif.ovn_binding import SbPortBindingWatcher
from node_agent.drivers.vif.ovs import OvsVif
from tests.integration.compute.agent_guests import (
    Events,
    marked_image,
    remove_domains_of,
    spawn_request,
    values,
    wait_for_console,
)
from tests.integration.compute.guest import GuestArtefacts
from tests.integration.e2e.root_chassis import RootChassis, start_root_chassis
from tests.integration.network import netbuild as build
from tests.integration.ovn_stack import running_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

FIXED_IP = "10.61.0.10"
FLOATING_IP = "172.24.4.100"
GATEWAY_IP = "172.24.4.10"
BOUND_WITHIN_S = 60.0  # the tap exists before the domain starts; QEMU opens it at once
DHCP_WITHIN_S = 180.0  # lease 10-15 s after spawn when idle; 104 s seen at load average 19


@pytest.fixture(scope="module")
def chassis() -> Iterator[RootChassis]:
    with running_stack(chassis=1) as stack:
        root = start_root_chassis(stack)
        try:
            yield root
        finally:
            root.stop()


class PortStates:
    """The PortStates the VIF driver reported, awaitable."""

    def __init__(self) -> None:
        self.seen: list[PortState] = []

    def __call__(self, state: PortState) -> None:
        self.seen.append(state)

    async def wait_for(self, wanted: PortState, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while wanted not in self.seen:
            assert time.monotonic() < deadline, f"no {wanted} in {timeout_s} s: {self.seen}"
            await asyncio.sleep(0.1)


def pings(chassis: RootChassis, ip: str, attempts: int) -> bool:
    """True once 3 pings from the external namespace get through, in `attempts` tries."""
    for _ in range(attempts):
        try:
            chassis.external_exec("ping", "-c", "3", "-i", "0.2", "-W", "1", ip)
            return True
        except RuntimeError:
            continue
    return False


async def test_qemu_guest_gets_its_fixed_ip_from_ovn_dhcp_and_answers_on_its_floating_ip(
    chassis: RootChassis, libvirt_uri: str, guest_artefacts: GuestArtefacts, tmp_path: Path
) -> None:
    stack = chassis.stack
    net = build.network("10.61.0.0/24")
    ext_net = build.network("172.24.4.0/24", external=True, physnet=chassis.physnet, dhcp=False)
    port = build.port(net, FIXED_IP, chassis.name, security=False)
    router = build.router([net], ext_net, GATEWAY_IP)
    fip = build.floating_ip(ext_net, FLOATING_IP, port, router.router.id)
    image, image_path = marked_image(tmp_path, guest_artefacts, "e2e")
    request = spawn_request(image, image_path, name="e2e-guest").model_copy(
        update={"ports": (port.port,)}
    )
    instance, tap = request.instance_id, tap_name(port.port.id)
    host = f"e2e-{uuid.uuid4().hex[:6]}"

    network = OvnNetwork.connect(stack.nb_db, gateway_chassis=(chassis.name,))
    states = PortStates()
    vif = OvsVif(
        chassis.ovs_db,
        chassis.integration_bridge,
        watcher=SbPortBindingWatcher(stack.sb_db, chassis.name),
    )
    hypervisor = QemuHypervisor(
        host, tmp_path / "agent", libvirt_uri, vif=vif, ovs_bridge=chassis.integration_bridge
    )
    try:
        await vif.start(states)
        await hypervisor.start(Events())
        await network.ensure_network(ext_net)
        await network.ensure_network(net)
        await network.ensure_port(port)
        await network.ensure_router(router)

        started = time.monotonic()
        await hypervisor.spawn(request)
        # the VIF driver's tap, on the root chassis's integration bridge, named for OVN
        assert tap in chassis.vsctl("list-ports", chassis.integration_bridge).split()
        ids = chassis.vsctl("get", "Interface", tap, "external_ids")
        assert f'iface-id="{port.port.id}"' in ids and f'vm-uuid="{instance}"' in ids
        # bound on this chassis and up: the southbound watcher and the LSP both say so
        await states.wait_for(PortState(port.port.id, True, chassis.name), BOUND_WITHIN_S)
        assert await network.wait_port_up(port.port.id, timeout=10)
        assert stack.bound_chassis(str(port.port.id)) == chassis.name

        await wait_for_console(
            lambda: hypervisor.console_output(instance),
            lambda m: any(x.startswith("SKYMESH-GUEST-BOOT") for x in m),
            timeout=DHCP_WITHIN_S,
            what="SKYMESH-GUEST-BOOT",
        )
        booted = time.monotonic() - started
        found = await wait_for_console(
            lambda: hypervisor.console_output(instance),
            lambda m: any(x.startswith(("SKYMESH-IP", "SKYMESH-DHCP-FAILED")) for x in m),
            timeout=DHCP_WITHIN_S,
            what="SKYMESH-IP",
        )
        assert values(found, "SKYMESH-IP") == [f"{FIXED_IP} eth0"], found
        leased = time.monotonic() - started

        # no floating IP yet: nothing answers on it (so the ping below proves the FIP)
        assert not await asyncio.to_thread(pings, chassis, FLOATING_IP, 1)
        await network.ensure_floating_ip(fip)
        answered = await asyncio.to_thread(pings, chassis, FLOATING_IP, 8)
        assert answered, "the floating IP does not answer"
        answered_at = time.monotonic() - started
        print(f"after spawn: init {booted:.1f} s, lease {leased:.1f} s, FIP {answered_at:.1f} s")
    finally:
        # the domain and the tap first (they live outside the stack), each step on its own
        for step in (
            lambda: hypervisor.destroy(instance),
            lambda: vif.unplug(port.port.id),
            hypervisor.close,
            vif.close,
            lambda: network.delete_floating_ip(fip.floating_ip.id),
            lambda: network.delete_router(router.router.id),
            lambda: network.delete_port(port.port.id),
            lambda: network.delete_network(net.network.id),
            lambda: network.delete_network(ext_net.network.id),
        ):
            with contextlib.suppress(Exception):
                await step()
        network.close()
        leftovers = remove_domains_of(libvirt_uri, {host})
        tap_left = tap_exists(tap)
        if tap_left:  # unplug failed: still remove it, then fail below
            delete = ["ip", "link", "delete", tap]
            await asyncio.to_thread(subprocess.run, delete, capture_output=True, check=False)
    assert leftovers == [], f"domains left behind: {leftovers}"
    assert not tap_left, f"tap {tap} left behind"
    assert tap not in chassis.vsctl("list-ports", chassis.integration_bridge).split()
