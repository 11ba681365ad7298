"""The OVN network driver (node_agent/drivers/network/ovn.py) on a real two-chassis OVN.

Everything logical is written through the driver, never ovn-nbctl (which only inspects, or
makes drift by hand); namespace guests are plugged into br-int with `iface-id` = port id,
as the compute role plugs a VM. One stack per module: chassis 1 is the gateway chassis, both
chassis have a bridge-mapped uplink (physnet1) into an "external" namespace.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from corebus.envelope import RequestContext
from node_agent.drivers.network.ovn import OvnNetwork
from node_agent.services.network import NetworkService
from schemas.messages.agent_network import (
    EnsureFloatingIp,
    EnsureNetwork,
    EnsurePort,
    EnsureRouter,
    EnsureSecurityGroup,
    SyncNetwork,
)
from schemas.network import VnicType
from schemas.security_group import Direction
from tests.integration.network import netbuild as build
from tests.integration.network.test_ovn_stack import underlay_tx_packets
from tests.integration.ovn_stack import (
    Chassis,
    External,
    Guest,
    OvnStack,
    attach_external,
    list_netns,
    plug_guest,
    running_stack,
)

pytestmark = pytest.mark.integration

Request = EnsureNetwork | EnsurePort | EnsureSecurityGroup | EnsureRouter | EnsureFloatingIp


@pytest.fixture(scope="module")
def stack() -> Iterator[OvnStack]:
    with running_stack(chassis=2) as stack:
        yield stack


@pytest.fixture(scope="module")
def external(stack: OvnStack) -> Iterator[External]:
    ext = attach_external(stack)
    try:
        yield ext
    finally:
        ext.remove()


@pytest.fixture(scope="module")
def driver(stack: OvnStack) -> Iterator[OvnNetwork]:
    driver = OvnNetwork.connect(stack.nb_db, gateway_chassis=(stack.chassis[0].name,))
    try:
        yield driver
    finally:
        driver.close()


class Lab:
    """What one test builds through the driver, torn down (guests, then NB) at the end."""

    def __init__(self, stack: OvnStack, driver: OvnNetwork) -> None:
        self.stack, self.driver = stack, driver
        self.requests: list[Request] = []
        self.guests: list[Guest] = []

    async def ensure(self, *requests: Request) -> None:
        for req in requests:
            self.requests.append(req)
            match req:
                case EnsureNetwork():
                    await self.driver.ensure_network(req)
                case EnsurePort():
                    await self.driver.ensure_port(req)
                case EnsureSecurityGroup():
                    await self.driver.ensure_security_group(req)
                case EnsureRouter():
                    await self.driver.ensure_router(req)
                case EnsureFloatingIp():
                    await self.driver.ensure_floating_ip(req)

    async def guest(self, port: EnsurePort, chassis: Chassis, static: bool = True) -> Guest:
        ip = port.port.fixed_ips[0].ip_address
        prefix = "24"
        guest = plug_guest(
            self.stack, chassis, str(port.port.id), port.port.mac_address,
            f"{ip}/{prefix}" if static else None,
        )  # fmt: skip
        self.guests.append(guest)
        assert await self.driver.wait_port_up(port.port.id, timeout=20), "port never came up"
        return guest

    async def teardown(self) -> None:
        for guest in reversed(self.guests):
            guest.remove()
        for req in reversed(self.requests):
            match req:
                case EnsureNetwork():
                    await self.driver.delete_network(req.network.id)
                case EnsurePort():
                    await self.driver.delete_port(req.port.id)
                case EnsureSecurityGroup():
                    await self.driver.delete_security_group(req.security_group.id)
                case EnsureRouter():
                    await self.driver.delete_router(req.router.id)
                case EnsureFloatingIp():
                    await self.driver.delete_floating_ip(req.floating_ip.id)


@pytest.fixture
async def lab(stack: OvnStack, driver: OvnNetwork) -> AsyncIterator[Lab]:
    lab = Lab(stack, driver)
    try:
        yield lab
    finally:
        await lab.teardown()


def add_default_route(guest: Guest, gateway: str) -> None:
    guest.exec("ip", "route", "replace", "default", "via", gateway)


async def test_two_guests_on_one_network_ping(lab: Lab, stack: OvnStack) -> None:
    chassis = stack.chassis[0]
    net = build.network("10.50.0.0/24")
    port_a = build.port(net, "10.50.0.10", chassis.name, security=False)
    port_b = build.port(net, "10.50.0.11", chassis.name, security=False)
    await lab.ensure(net, port_a, port_b)
    assert (
        stack.nbctl(
            "get", "Logical_Switch_Port", str(port_a.port.id), "options:requested-chassis"
        ).strip()
        == chassis.name
    )

    guest_a = await lab.guest(port_a, chassis)
    guest_b = await lab.guest(port_b, chassis)
    assert stack.bound_chassis(str(port_a.port.id)) == chassis.name
    assert guest_a.ping("10.50.0.11", attempts=3)
    assert guest_b.ping("10.50.0.10", count=2)
    ports = {p.port_id: p for p in await lab.driver.list_ports()}
    assert ports[port_a.port.id].status.value == "ACTIVE"
    assert ports[port_a.port.id].chassis == chassis.name
    # ensure again: reports it up now, and writes nothing
    info = await lab.driver.ensure_port(port_a)
    assert info.status.value == "ACTIVE"


class Facts:
    """Stands in for the agent's FactPublisher: keeps what the service publishes."""

    def __init__(self) -> None:
        self.published: list[object] = []

    def make(self, model: type, resource_id: object, **fields: object) -> object:
        return (model.__name__, resource_id, fields)

    async def publish(self, fact: object) -> None:
        self.published.append(fact)


async def test_the_service_reports_a_port_active_only_once_ovn_has_it_up(
    lab: Lab, stack: OvnStack
) -> None:
    chassis = stack.chassis[0]
    facts = Facts()
    service = NetworkService("network", lab.driver, facts)  # type: ignore[arg-type]
    net = build.network("10.58.0.0/24")
    port = build.port(net, "10.58.0.10", chassis.name, security=False)
    await lab.ensure(net, port)
    await service.ensure_port(RequestContext(), port)  # not plugged: no binding yet
    assert facts.published == []
    await lab.guest(port, chassis)
    await service.ensure_port(RequestContext(), port)
    assert facts.published == [("PortActive", port.port.id, {"chassis": chassis.name})]


async def test_ovn_dhcp_gives_guest_its_fixed_ip(lab: Lab, stack: OvnStack, tmp_path: Path) -> None:
    if shutil.which("busybox") is None:
        pytest.fail("busybox is missing: run scripts/stack/ovn.sh install")
    chassis = stack.chassis[0]
    net = build.network("10.51.0.0/24")
    port = build.port(net, "10.51.0.23", chassis.name)  # with port security, no group: DHCP only
    await lab.ensure(net, port)
    guest = await lab.guest(port, chassis, static=False)
    assert guest.addresses() == []
    assert guest.udhcpc(tmp_path) == [
        "ip=10.51.0.23",
        "mask=24",
        "router=10.51.0.1",
        "serverid=10.51.0.1",
        "lease=43200",
    ]
    assert guest.addresses() == ["10.51.0.23/24"]


async def test_security_group_blocks_tcp_until_a_rule_allows_it(lab: Lab, stack: OvnStack) -> None:
    chassis = stack.chassis[0]
    client_sg, server_sg = uuid4(), uuid4()
    net = build.network("10.52.0.0/24")
    client = build.port(net, "10.52.0.10", chassis.name, groups=(client_sg,))
    server = build.port(net, "10.52.0.11", chassis.name, groups=(server_sg,))
    egress_any = [build.rule(g, Direction.EGRESS) for g in (client_sg, server_sg)]
    ping_in = build.rule(server_sg, Direction.INGRESS, "icmp")
    await lab.ensure(
        net,
        build.security_group(client_sg, egress_any[0]),
        build.security_group(server_sg, egress_any[1], ping_in),
        client,
        server,
    )
    guest_c = await lab.guest(client, chassis)
    guest_s = await lab.guest(server, chassis)
    assert guest_c.ping("10.52.0.11", attempts=5)  # icmp is allowed in
    assert not guest_s.ping("10.52.0.10")  # the client's group lets nothing in
    assert tcp_reply(server=guest_s, client=guest_c, ip="10.52.0.11", deadline=3) == ""

    tcp_in = build.rule(server_sg, Direction.INGRESS, "tcp", (7000, 7000), remote_group=client_sg)
    await lab.ensure(build.security_group(server_sg, egress_any[1], ping_in, tcp_in))
    assert tcp_reply(server=guest_s, client=guest_c, ip="10.52.0.11") == "hello"
    acls = stack.nbctl("--bare", "--columns=match", "find", "ACL", "priority=1002")
    assert f"$pg_{str(client_sg).replace('-', '_')}_ip4" in acls


async def test_guest_on_chassis_a_reaches_guest_on_chassis_b(lab: Lab, stack: OvnStack) -> None:
    chassis_a, chassis_b = stack.chassis
    net = build.network("10.53.0.0/24")
    port_a = build.port(net, "10.53.0.10", chassis_a.name, security=False)
    port_b = build.port(net, "10.53.0.11", chassis_b.name, security=False)
    await lab.ensure(net, port_a, port_b)
    guest_a = await lab.guest(port_a, chassis_a)
    guest_b = await lab.guest(port_b, chassis_b)
    assert stack.bound_chassis(str(port_b.port.id)) == chassis_b.name
    sent = underlay_tx_packets(stack, chassis_a)
    assert guest_a.ping("10.53.0.11", attempts=5)
    assert guest_b.ping("10.53.0.10", count=2)
    assert underlay_tx_packets(stack, chassis_a) > sent


class Capture:
    """tcpdump in the external namespace on one interface, counting matching packets."""

    def __init__(self, ext: External, interface: str, bpf: str) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ext.netns, "tcpdump", "-l", "-n", "-i", interface, bpf],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        self.errors = ""
        while "listening on" not in self.errors:  # from then on it captures
            line = self.proc.stderr.readline()
            if not line:
                break
            self.errors += line

    def lines(self) -> list[str]:
        self.proc.terminate()
        out, errors = self.proc.communicate(timeout=10)
        self.errors += errors
        return [line for line in out.splitlines() if line.strip()]


async def test_floating_ip_enters_and_leaves_on_the_vms_chassis_and_snat_on_the_gateway(
    lab: Lab, stack: OvnStack, external: External
) -> None:
    gw_chassis, vm_chassis = stack.chassis  # chassis 1 is the gateway chassis
    ext_net = build.network("172.24.4.0/24", external=True, physnet=external.physnet, dhcp=False)
    net = build.network("10.54.0.0/24")
    with_fip = build.port(net, "10.54.0.10", vm_chassis.name, security=False)
    snat_only = build.port(net, "10.54.0.11", vm_chassis.name, security=False)
    router = build.router([net], ext_net, "172.24.4.10")
    fip = build.floating_ip(ext_net, "172.24.4.100", with_fip, router.router.id)
    await lab.ensure(ext_net, net, with_fip, snat_only, router, fip)
    guest_fip = await lab.guest(with_fip, vm_chassis)
    guest_snat = await lab.guest(snat_only, vm_chassis)
    add_default_route(guest_fip, "10.54.0.1")
    add_default_route(guest_snat, "10.54.0.1")
    gateway = router.router.external_gateway
    assert gateway is not None
    assert stack.bound_chassis(f"cr-lrp-{gateway.port_id}") == gw_chassis.name

    replies = "icmp[icmptype] == icmp-echoreply and src host 172.24.4.100"
    via_vm = Capture(external, external.uplink(vm_chassis), replies)
    via_gw = Capture(external, external.uplink(gw_chassis), replies)
    ok = ping_from(external, "172.24.4.100", attempts=8)
    from_vm, from_gw = via_vm.lines(), via_gw.lines()
    assert ok, "the floating IP does not answer"
    assert from_vm and not from_gw, (from_vm, from_gw, via_vm.errors, via_gw.errors)

    requests = "icmp and dst host 172.24.4.1"
    on_gw = Capture(external, external.uplink(gw_chassis), requests)
    on_vm = Capture(external, external.uplink(vm_chassis), requests)
    assert guest_snat.ping("172.24.4.1", attempts=8, count=3)
    seen, elsewhere = on_gw.lines(), on_vm.lines()
    assert seen and all(" 172.24.4.10 > 172.24.4.1: ICMP echo request" in x for x in seen), (
        seen,
        on_gw.errors,
    )
    assert elsewhere == []


def ping_from(ext: External, ip: str, attempts: int) -> bool:
    for _ in range(attempts):
        try:
            ext.exec("ping", "-c", "3", "-i", "0.2", "-W", "1", ip)
            return True
        except RuntimeError:
            continue
    return False


async def test_reconciliation_repairs_drift_both_ways(lab: Lab, stack: OvnStack) -> None:
    chassis = stack.chassis[0]
    net = build.network("10.55.0.0/24")
    port_a = build.port(net, "10.55.0.10", chassis.name, security=False)
    port_b = build.port(net, "10.55.0.11", chassis.name, security=False)
    await lab.ensure(net, port_a, port_b)
    intent = SyncNetwork(networks=(net,), ports=(port_a, port_b))
    clean = await lab.driver.reconcile(intent)
    foreign = [
        d for d in clean.drift if d.resource_id in {str(port_a.port.id), str(net.network.id)}
    ]
    assert foreign == []

    # drift by hand: a port deleted, a tagged switch nobody intends, an untagged one
    stack.nbctl("lsp-del", str(port_b.port.id))
    stack.nbctl("lsp-set-addresses", str(port_a.port.id), "02:00:00:00:00:99 10.55.0.99")
    orphan = str(uuid4())
    stack.nbctl(
        "create", "Logical_Switch", f"name=skymesh-{orphan}",
        f'external_ids:"skymesh:network_id"="{orphan}"', 'external_ids:"skymesh:owner"=network',
    )  # fmt: skip
    untagged = f"theirs-{uuid4().hex[:6]}"
    stack.nbctl("ls-add", untagged)
    try:
        report = await lab.driver.reconcile(intent)
        assert report.count("port", "created") == 1
        assert [d.resource_id for d in report.drift if d.action == "updated"] == [
            str(port_a.port.id)
        ]
        addresses = stack.nbctl("get", "Logical_Switch_Port", str(port_a.port.id), "addresses")
        assert addresses.strip() == '["fa:16:3e:37:00:0a 10.55.0.10"]'
        assert report.count("network", "removed") >= 1
        assert any(d.resource_id == orphan and d.action == "removed" for d in report.drift)
        switches = stack.nbctl("--bare", "--columns=name", "list", "Logical_Switch").split()
        assert f"skymesh-{orphan}" not in switches and untagged in switches
        assert str(port_b.port.id) in stack.nbctl("lsp-list", f"skymesh-{net.network.id}")
        again = await lab.driver.reconcile(intent)
        assert again.drift == ()
    finally:
        stack.nbctl("--if-exists", "ls-del", untagged)


NB_TABLES = (
    "Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port", "NAT",
    "ACL", "Port_Group", "DHCP_Options", "Gateway_Chassis", "Logical_Router_Static_Route",
    "HA_Chassis_Group", "HA_Chassis",
)  # fmt: skip


def nb_rows(stack: OvnStack) -> dict[str, str]:
    """Every row of skymesh's tables, all columns (a row re-created gets a new _uuid)."""
    stack.nbctl("--wait=sb", "sync")
    return {t: stack.nbctl("list", t) for t in NB_TABLES}


async def test_ensures_are_idempotent_updates_converge_and_deletes_report_missing(
    lab: Lab, stack: OvnStack, external: External
) -> None:
    chassis = stack.chassis[1].name
    ext_net = build.network("172.24.4.0/24", external=True, physnet=external.physnet, dhcp=False)
    net = build.network("10.57.0.0/24")
    sg = uuid4()
    port = build.port(net, "10.57.0.10", chassis, groups=(sg,))
    sriov = build.port(net, "10.57.0.11", chassis)
    sriov = EnsurePort(port=sriov.port.model_copy(update={"vnic_type": VnicType.DIRECT}))
    group = build.security_group(sg, build.rule(sg, Direction.INGRESS, "tcp", (22, 22)))
    router = build.router([net], ext_net, "172.24.4.12")
    fip = build.floating_ip(ext_net, "172.24.4.102", port, router.router.id)
    everything: list[Request] = [ext_net, net, group, port, sriov, router, fip]
    await lab.ensure(*everything)
    assert (
        stack.nbctl("get", "Logical_Switch_Port", str(sriov.port.id), "type").strip() == "external"
    )
    localnet = f"provnet-{ext_net.network.id}"
    assert stack.nbctl("get", "Logical_Switch_Port", localnet, "options:network_name").strip() == (
        external.physnet
    )

    before = nb_rows(stack)
    for req in everything:  # the same requests again write nothing at all
        await lab.ensure(req)
    assert nb_rows(stack) == before
    intent = SyncNetwork(
        networks=(ext_net, net), security_groups=(group,), ports=(port, sriov),
        routers=(router,), floating_ips=(fip,),
    )  # fmt: skip
    assert (await lab.driver.reconcile(intent)).drift == ()

    # an update converges: the router loses its interface, its SNAT and the peer port
    bare = EnsureRouter(router=router.router.model_copy(update={"interfaces": ()}))
    await lab.ensure(bare)
    lrps = stack.nbctl("--bare", "--columns=name", "list", "Logical_Router_Port").split()
    assert lrps == [f"lrp-{router.router.external_gateway.port_id}"]  # type: ignore[union-attr]
    assert stack.nbctl("--bare", "--columns=_uuid", "find", "NAT", "type=snat").strip() == ""
    peer = str(router.router.interfaces[0].port_id)
    assert peer not in stack.nbctl("lsp-list", f"skymesh-{net.network.id}")

    assert await lab.driver.delete_floating_ip(fip.floating_ip.id) is True
    assert await lab.driver.delete_floating_ip(fip.floating_ip.id) is False
    assert await lab.driver.delete_port(port.port.id) is True
    assert await lab.driver.delete_port(port.port.id) is False
    assert await lab.driver.delete_security_group(sg) is True
    assert await lab.driver.delete_security_group(sg) is False
    assert await lab.driver.delete_router(router.router.id) is True
    assert await lab.driver.delete_router(router.router.id) is False
    assert await lab.driver.delete_network(net.network.id) is True
    assert await lab.driver.delete_network(net.network.id) is False


async def test_deleting_everything_leaves_nb_ovs_and_namespaces_empty(
    lab: Lab, stack: OvnStack, external: External
) -> None:
    ext_net = build.network("172.24.4.0/24", external=True, physnet=external.physnet, dhcp=False)
    net = build.network("10.56.0.0/24")
    sg = uuid4()
    port = build.port(net, "10.56.0.10", stack.chassis[1].name, groups=(sg,))
    router = build.router([net], ext_net, "172.24.4.11")
    fip = build.floating_ip(ext_net, "172.24.4.101", port, router.router.id)
    await lab.ensure(
        ext_net, net, build.security_group(sg, build.rule(sg, Direction.EGRESS)), port, router, fip
    )
    await lab.guest(port, stack.chassis[1])
    await lab.teardown()
    lab.requests.clear()
    lab.guests.clear()

    for table in NB_TABLES:
        assert stack.nbctl("--bare", "--columns=_uuid", "list", table).strip() == "", table
    for chassis in stack.chassis:
        ports = chassis.vsctl("list-ports", "br-int").split()
        assert [p for p in ports if not re.match(r"^(ovn-|patch-)", p)] == [], ports
    guests = {n for n in list_netns() if n.startswith(f"{stack.prefix}-g-")}
    assert guests == set()


def tcp_reply(server: Guest, client: Guest, ip: str, deadline: float = 10) -> str:
    """What a one-shot `busybox nc` server in `server` sends to `client` over TCP port 7000
    ('' when nothing comes back within `deadline` seconds)."""
    listener = subprocess.Popen(
        ["ip", "netns", "exec", server.netns, "timeout", str(deadline + 2), "busybox", "nc",
         "-l", "-p", "7000", "-e", "echo", "hello"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        end = time.monotonic() + deadline
        while time.monotonic() < end:  # until the listener is up
            try:
                return client.exec("busybox", "nc", "-w", "2", ip, "7000", timeout=5).strip()
            except (RuntimeError, subprocess.TimeoutExpired):
                time.sleep(0.1)
        return ""
    finally:
        listener.kill()
        listener.wait()
