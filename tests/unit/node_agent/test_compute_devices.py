"""The compute handlers that hot-plug volumes and interfaces: on the fake hypervisor
they change the domain and report volume facts; libvirt's test driver cannot hot-plug,
so it reports action_failed naming the device. libvirt takes one event loop
implementation per process, so these tests share the session's loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from corebus.client import Client
from corebus.envelope import RequestContext
from corebus.memory import InMemoryBus
from node_agent.drivers.errors import InvalidStateError
from node_agent.drivers.hypervisor.base import HypervisorDriver
from node_agent.drivers.hypervisor.fake import FakeHypervisor
from node_agent.drivers.hypervisor.libvirt import LibvirtHypervisor
from node_agent.drivers.hypervisor.sim_node import SimulatedNode
from node_agent.fact_publisher import FactPublisher
from node_agent.seq import SeqClock
from node_agent.services.compute import ComputeContext
from node_agent.services.compute_devices import ComputeDevices
from schemas.messages.agent_devices import (
    AttachInterface,
    AttachVolume,
    DetachInterface,
    DetachVolume,
)
from schemas.messages.facts import Fact, InstanceActionFailed, VolumeAttached, VolumeDetached
from tests.unit.node_agent.factories import port, spawn, volume

pytestmark = pytest.mark.asyncio(loop_scope="session")
CTX = RequestContext()


class Recorded(FactPublisher):
    """Keeps the facts instead of publishing them."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(Client(InMemoryBus()), "cmp1", SeqClock.in_dir(state_dir), "compute")
        self.seen: list[Fact] = []

    async def publish(self, fact: Fact) -> None:
        self.seen.append(fact)


def devices(driver: HypervisorDriver, facts: Recorded) -> ComputeDevices:
    return ComputeDevices("node_agent.cmp1", ComputeContext(driver, facts, asyncio.Semaphore(1)))


async def test_volumes_and_ports_hot_plug_on_the_fake(tmp_path: Path) -> None:
    driver = FakeHypervisor("cmp1", tmp_path, control_socket=False)
    await driver.start(lambda event: None)
    facts = Recorded(tmp_path)
    handlers = devices(driver, facts)
    request = spawn()
    await driver.spawn(request)
    disk, nic = volume(), port()

    await handlers.attach_volume(CTX, AttachVolume(instance_id=request.instance_id, volume=disk))
    await handlers.attach_volume(CTX, AttachVolume(instance_id=request.instance_id, volume=disk))
    await handlers.attach_interface(CTX, AttachInterface(instance_id=request.instance_id, port=nic))
    (domain,) = await driver.list_domains()
    assert [(v.volume_id, v.device) for v in domain.volumes] == [(disk.volume_id, "/dev/vdb")]
    assert domain.port_ids == (nic.id,)
    first, again = facts.seen
    assert isinstance(first, VolumeAttached) and first.device == "/dev/vdb"
    assert first.attachment_id == disk.attachment_id and again.seq > first.seq
    assert first.routing_key() == "compute.cmp1.volume.attached"

    await handlers.detach_volume(CTX, DetachVolume(instance_id=request.instance_id, volume=disk))
    await handlers.detach_interface(CTX, DetachInterface(instance_id=request.instance_id, port=nic))
    (domain,) = await driver.list_domains()
    assert domain.volumes == () and domain.port_ids == ()
    assert isinstance(facts.seen[-1], VolumeDetached)
    await driver.close()


async def test_a_taken_device_name_is_refused_by_the_fake(tmp_path: Path) -> None:
    driver = FakeHypervisor("cmp1", tmp_path, control_socket=False)
    await driver.start(lambda event: None)
    request = spawn()
    await driver.spawn(request)
    assert await driver.attach_volume(request.instance_id, volume("/dev/vdc")) == "/dev/vdc"
    with pytest.raises(InvalidStateError):
        await driver.attach_volume(request.instance_id, volume("/dev/vdc"))
    assert await driver.attach_volume(request.instance_id, volume()) == "/dev/vdb"
    await driver.close()


async def test_a_missing_domain_reports_action_failed(tmp_path: Path) -> None:
    driver = FakeHypervisor("cmp1", tmp_path, control_socket=False)
    await driver.start(lambda event: None)
    facts = Recorded(tmp_path)
    disk = volume()
    missing = spawn().instance_id
    await devices(driver, facts).attach_volume(CTX, AttachVolume(instance_id=missing, volume=disk))
    (fact,) = facts.seen
    assert isinstance(fact, InstanceActionFailed) and fact.resource_id == missing
    assert fact.action == f"attach_volume:{disk.volume_id}"
    await driver.close()


async def test_libvirts_test_driver_reports_that_it_cannot_hot_plug(tmp_path: Path) -> None:
    driver = LibvirtHypervisor.simulated("cmp1", tmp_path, SimulatedNode(vcpus=4, memory_mb=2048))
    await driver.start(lambda event: None)
    facts = Recorded(tmp_path)
    handlers = devices(driver, facts)
    request = spawn()
    await driver.spawn(request)
    nic = port()
    await handlers.attach_interface(CTX, AttachInterface(instance_id=request.instance_id, port=nic))
    await handlers.attach_volume(
        CTX, AttachVolume(instance_id=request.instance_id, volume=volume())
    )
    failed = [f for f in facts.seen if isinstance(f, InstanceActionFailed)]
    assert [f.action.split(":")[0] for f in failed] == ["attach_interface", "attach_volume"]
    assert failed[0].action == f"attach_interface:{nic.id}"
    assert all("cannot hot-plug" in f.reason for f in failed)
    await driver.destroy(request.instance_id)
    await driver.close()
