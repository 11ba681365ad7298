"""The compute role assigns the claim's PCI devices around spawn and destroy (and the
steps of a cold move): the VF serving a port gets the port's MAC through its PF, a
failed spawn, a destroy and a reverted move give the devices back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.memory import InMemoryBus
from node_agent.drivers.errors import TransientError
from node_agent.drivers.hypervisor.fake import FakeHypervisor
from node_agent.drivers.pci.netlink import RESET_MAC, RecordingVfNetlink
from node_agent.drivers.pci.spec import DeviceSpec, SpecEntry
from node_agent.drivers.pci.udev import UdevPci
from node_agent.fact_publisher import FactPublisher
from node_agent.seq import SeqClock
from node_agent.services.compute import ComputeContext, ComputeService
from node_agent.services.compute_moves import ComputeMoves
from schemas.claims import Claim, PciClaim
from schemas.messages.agent_compute import Destroy, Spawn
from schemas.messages.agent_devices import FinishResize, RevertResize
from schemas.messages.facts import Fact, InstanceDeleted, InstanceSpawned, InstanceSpawnFailed
from schemas.pci import PciDevice, PciDeviceStatus, PciDeviceType
from tests.unit.node_agent.factories import port, spawn
from tests.unit.node_agent.pci.host import GPU, PF0, VF00, scanned

pytestmark = pytest.mark.asyncio(loop_scope="session")
CTX = RequestContext()


class Recorded(FactPublisher):
    def __init__(self, state_dir: Path) -> None:
        super().__init__(Client(InMemoryBus()), "cmp1", SeqClock.in_dir(state_dir), "compute")
        self.seen: list[Fact] = []

    async def publish(self, fact: Fact) -> None:
        self.seen.append(fact)


def with_devices(request: Spawn) -> Spawn:
    nic = request.ports[0]
    claim = Claim(
        vcpus=1,
        memory_mb=256,
        pci_devices=(
            PciClaim(
                address=VF00,
                vendor_id="8086",
                product_id="10ed",
                dev_type=PciDeviceType.VF,
                parent_addr=PF0,
                physical_network="physnet1",
                port_id=nic.id,
            ),
            PciClaim(address=GPU, vendor_id="10de", product_id="1eb8", dev_type=PciDeviceType.PCI),
        ),
    )
    return request.model_copy(update={"claim": claim})


async def setup(tmp_path: Path) -> tuple[ComputeService, FakeHypervisor, UdevPci, Recorded]:
    hypervisor = FakeHypervisor("cmp1", tmp_path, control_socket=False)
    await hypervisor.start(lambda event: None)
    spec = DeviceSpec(device_spec=(SpecEntry(devname="enp1s0f0"), SpecEntry(vendor_id="10de")))
    pci = UdevPci(tmp_path, spec, RecordingVfNetlink(), scanner=scanned)
    facts = Recorded(tmp_path)
    context = ComputeContext(hypervisor, facts, asyncio.Semaphore(1), pci=pci)
    return ComputeService("node_agent.cmp1", context), hypervisor, pci, facts


def claimed(devices: Sequence[PciDevice]) -> dict[str, UUID | None]:
    return {d.address: d.instance_id for d in devices if d.status is PciDeviceStatus.CLAIMED}


async def test_spawn_assigns_and_destroy_releases(tmp_path: Path) -> None:
    service, hypervisor, pci, facts = await setup(tmp_path)
    request = with_devices(spawn(ports=(port(7),)))
    await service.spawn(CTX, request)
    assert isinstance(facts.seen[-1], InstanceSpawned)
    netlink = pci.netlink
    assert isinstance(netlink, RecordingVfNetlink)
    assert netlink.state("enp1s0f0", 1) == ("fa:16:3e:00:00:07", 0)
    assert claimed(await pci.discover()) == {VF00: request.instance_id, GPU: request.instance_id}

    await service.destroy(CTX, Destroy(instance_id=request.instance_id))
    assert isinstance(facts.seen[-1], InstanceDeleted)
    assert netlink.state("enp1s0f0", 1) == (RESET_MAC, 0)
    assert claimed(await pci.discover()) == {}
    await hypervisor.close()


async def test_a_failed_spawn_gives_the_devices_back(tmp_path: Path) -> None:
    service, hypervisor, pci, facts = await setup(tmp_path)
    hypervisor.faults.fail_next("spawn", TransientError("no room"))
    await service.spawn(CTX, with_devices(spawn(ports=(port(8),))))
    assert isinstance(facts.seen[-1], InstanceSpawnFailed)
    assert claimed(await pci.discover()) == {}
    assert isinstance(pci.netlink, RecordingVfNetlink)
    assert pci.netlink.state("enp1s0f0", 1) == (RESET_MAC, 0)
    await hypervisor.close()


async def test_a_cold_move_assigns_on_the_destination_and_releases_on_revert(
    tmp_path: Path,
) -> None:
    service, hypervisor, pci, facts = await setup(tmp_path)
    assert service._c.pci is pci
    moves = ComputeMoves("node_agent.cmp1", service._c)
    request = with_devices(spawn(ports=(port(9),)))
    finish = FinishResize(
        instance_id=request.instance_id,
        migration_id=uuid4(),
        source_host="src",
        name=request.name,
        new_flavor=request.flavor,
        claim=request.claim,
        image=request.image,
        image_location=request.image_location,
        ports=request.ports,
    )
    await moves.finish_resize(CTX, finish)
    assert [type(f).__name__ for f in facts.seen] == ["InstanceResized"]
    assert claimed(await pci.discover()) == {VF00: request.instance_id, GPU: request.instance_id}
    assert isinstance(pci.netlink, RecordingVfNetlink)
    assert pci.netlink.state("enp1s0f0", 1) == ("fa:16:3e:00:00:09", 0)

    revert = RevertResize(instance_id=request.instance_id, migration_id=finish.migration_id)
    await moves.revert_resize(CTX, revert)
    assert claimed(await pci.discover()) == {}
    assert pci.netlink.state("enp1s0f0", 1) == (RESET_MAC, 0)
    await hypervisor.close()
