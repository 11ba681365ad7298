"""The agent's `skymesh` subcommands: `agent` (run one) and `fake-hypervisor` (act on a
fake hypervisor's domains behind its agent's back)."""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path
from typing import Any

from corebus.config import Settings
from node_agent.drivers.hypervisor.fake_state import OUT_OF_BAND_OPS
from node_agent.drivers.hypervisor.sim_node import SimulatedNode
from node_agent.drivers.real_options import CephOptions, OvnOptions, RealOptions
from node_agent.drivers.registry import (
    DVRS,
    HYPERVISORS,
    NETWORKS,
    PCIS,
    STORAGES,
    VIFS,
    DriverChoice,
)
from schemas.placement import HostRole


def register(commands: Any) -> None:
    agent = commands.add_parser("agent", help="run a node agent")
    agent.add_argument("--host", default=socket.gethostname(), help="host name (default: this one)")
    agent.add_argument(
        "--roles", default="compute", help="comma-separated: compute,network,storage"
    )
    agent.add_argument("--hypervisor", default="fake", choices=sorted(HYPERVISORS))
    agent.add_argument("--network", default="fake", choices=sorted(NETWORKS))
    agent.add_argument("--storage", default="fake", choices=sorted(STORAGES))
    agent.add_argument("--dvr", default="fake", choices=sorted(DVRS))
    agent.add_argument("--pci", default="fake", choices=sorted(PCIS))
    agent.add_argument(
        "--vif", default="fake", choices=sorted(VIFS), help="how compute plugs VM ports"
    )
    agent.add_argument("--state-dir", type=Path, help="default: $SKYMESH_HOME/agents/<host>")
    agent.add_argument("--availability-zone")
    agent.add_argument("--max-concurrent-builds", type=int, default=10)
    agent.add_argument(
        "--libvirt-uri",
        help="test: default a simulated node in the state dir; qemu: default qemu:///system",
    )
    agent.add_argument("--vcpus", type=int, default=8, help="simulated node CPUs (test)")
    agent.add_argument("--memory-mb", type=int, default=16384, help="simulated node memory")
    agent.add_argument("--disk-gb", type=int, default=200, help="simulated node disk")
    agent.add_argument("--transport", default="amqp", choices=("amqp", "memory"))
    _real_options(agent)
    agent.set_defaults(func=run_agent_command)

    fleet = commands.add_parser(
        "agents", help="run several simulated hosts in one process (scale tests, benchmarks)"
    )
    fleet.add_argument("--count", type=int, required=True)
    fleet.add_argument("--first", type=int, default=1, help="number of the first host")
    fleet.add_argument("--prefix", default="sim", help="hosts are named <prefix>-<n>")
    fleet.add_argument("--roles", default="compute")
    fleet.add_argument("--hypervisor", default="fake", choices=sorted(HYPERVISORS))
    fleet.add_argument("--vcpus", type=int, default=8)
    fleet.add_argument("--memory-mb", type=int, default=16384)
    fleet.add_argument("--disk-gb", type=int, default=200)
    fleet.add_argument("--state-dir", type=Path, help="default: $SKYMESH_HOME/agents")
    fleet.set_defaults(func=run_fleet_command)

    oob = commands.add_parser(
        "fake-hypervisor", help="change a fake hypervisor's domain behind its agent's back"
    )
    oob.add_argument("op", choices=OUT_OF_BAND_OPS)
    oob.add_argument("instance_id")
    oob.add_argument("--host", default=socket.gethostname())
    oob.add_argument("--state-dir", type=Path, help="default: $SKYMESH_HOME/agents/<host>")
    oob.set_defaults(func=fake_hypervisor_command)


def _real_options(agent: Any) -> None:
    real = agent.add_argument_group("real components (the ovn, qemu, rbd and udev drivers)")
    real.add_argument("--ovn-nb", help="OVN northbound DB, e.g. tcp:127.0.0.1:6641")
    real.add_argument("--ovn-sb", help="OVN southbound DB, e.g. tcp:127.0.0.1:6642")
    real.add_argument("--ovs-db", help="local Open_vSwitch DB (unix:/run/openvswitch/db.sock)")
    real.add_argument("--integration-bridge", default="br-int")
    real.add_argument("--bridge-mappings", default="", help="physnet1:br-ex,...")
    real.add_argument("--chassis", help="OVN chassis name (default: the host name)")
    real.add_argument("--ovs-netns", help="network namespace of the host's OVS (default: root)")
    real.add_argument("--ceph-conf", type=Path, help="ceph.conf of the cluster")
    real.add_argument("--ceph-pool", default="rbd")
    real.add_argument("--ceph-user", help="cephx user (without client.); none: auth none")
    real.add_argument("--vif-bridge", help="Linux bridge for VM taps when not on OVN")
    real.add_argument("--pci-spec", type=Path, help="PCI device spec file (what to offer)")


def real_options(args: argparse.Namespace) -> RealOptions:
    return RealOptions(
        ovn=OvnOptions(
            nb=args.ovn_nb,
            sb=args.ovn_sb,
            ovs_db=args.ovs_db,
            integration_bridge=args.integration_bridge,
            bridge_mappings=args.bridge_mappings,
            chassis=args.chassis,
            ovs_netns=args.ovs_netns,
        ),
        ceph=CephOptions(conf=args.ceph_conf, pool=args.ceph_pool, user=args.ceph_user),
        vif_bridge=args.vif_bridge,
        pci_spec=args.pci_spec,
    )


def parse_roles(text: str) -> frozenset[HostRole]:
    try:
        return frozenset(HostRole(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise SystemExit(f"error: {exc} (roles: compute, network, storage)") from None


def agent_config(args: argparse.Namespace, settings: Settings) -> Any:
    from node_agent.config import AgentConfig

    return AgentConfig(
        host=args.host,
        roles=parse_roles(args.roles),
        state_dir=args.state_dir or settings.home / "agents" / args.host,
        drivers=DriverChoice(
            hypervisor=args.hypervisor,
            network=args.network,
            storage=args.storage,
            dvr=args.dvr,
            pci=args.pci,
            vif=args.vif,
        ),
        max_concurrent_builds=args.max_concurrent_builds,
        availability_zone=args.availability_zone,
        libvirt_uri=args.libvirt_uri,
        node=SimulatedNode(vcpus=args.vcpus, memory_mb=args.memory_mb, disk_gb=args.disk_gb),
        call_timeout_s=settings.amqp.call_timeout_s,
        real=real_options(args),
    )


def run_agent_command(args: argparse.Namespace, settings: Settings) -> int:
    from node_agent.main import run_agent

    asyncio.run(run_agent(settings, agent_config(args, settings), transport=args.transport))
    return 0


def fake_hypervisor_command(args: argparse.Namespace, settings: Settings) -> int:
    from node_agent.drivers.errors import DriverError
    from node_agent.drivers.hypervisor.fake_control import send

    state_dir = args.state_dir or settings.home / "agents" / args.host
    try:
        how = asyncio.run(send(state_dir, args.op, args.instance_id))
    except DriverError as exc:
        print(f"error: {exc}")
        return 1
    print(f"{args.op} {args.instance_id}: done ({how})")
    return 0


def run_fleet_command(args: argparse.Namespace, settings: Settings) -> int:
    from node_agent.config import AgentConfig
    from node_agent.fleet import fleet_configs, run_fleet

    template = AgentConfig(
        host=args.prefix,
        roles=parse_roles(args.roles),
        state_dir=args.state_dir or settings.home / "agents",
        drivers=DriverChoice(hypervisor=args.hypervisor, network="fake", storage="fake"),
        node=SimulatedNode(vcpus=args.vcpus, memory_mb=args.memory_mb, disk_gb=args.disk_gb),
        call_timeout_s=settings.amqp.call_timeout_s,
    )
    asyncio.run(run_fleet(settings, fleet_configs(template, args.prefix, args.first, args.count)))
    return 0
