"""A node agent on a bus with a stand-in conductor and the fake drivers: it registers,
reports inventory and snapshot, serves commands and reports their outcomes as facts,
reports what happens behind its back, and finds its domains again after a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest

from corebus.client import Client
from node_agent.drivers.errors import DriverError, TransientError
from node_agent.drivers.hypervisor import fake_control
from node_agent.drivers.hypervisor.fake import FakeHypervisor
from schemas.errors import NotFound
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import (
    ConsoleOutput,
    Destroy,
    GetConsoleOutput,
    Pause,
    RequestSnapshot,
)
from schemas.messages.agent_network import EnsureNetwork, EnsurePort
from schemas.messages.agent_storage import CreateVolume, DeleteVolume, RbdImage
from schemas.messages.facts import (
    InstanceDeleted,
    InstancePowerStateChanged,
    InstanceSpawned,
    InstanceSpawnFailed,
    PortActive,
    VolumeCreated,
    VolumeDeleted,
)
from schemas.messages.host_facts import AgentSnapshot, InventoryReported
from schemas.network import Network
from tests.functional.node_agent.harness import Mesh, mesh, unique_host
from tests.unit.node_agent.factories import port, spawn

pytestmark = pytest.mark.functional


@pytest.fixture(params=["memory", "amqp"])
async def net(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Mesh]:
    url = request.getfixturevalue("amqp_url") if request.param == "amqp" else ""
    async for made in mesh(request.param, url, tmp_path):
        yield made


def hypervisor(agent: object) -> FakeHypervisor:
    driver = agent.drivers.hypervisor  # type: ignore[attr-defined]
    assert isinstance(driver, FakeHypervisor)
    return driver


async def test_agent_registers_reports_inventory_and_snapshot_and_heartbeats(net: Mesh) -> None:
    host = unique_host()
    facts = await net.watch(host)
    agent, _ = await net.agent(host)
    registered = net.conductor.registrations[-1]
    assert registered.name == host and registered.incarnation == agent.incarnation
    assert registered.inventory is not None and registered.inventory.vcpus == 16
    inventory = await facts.wait_for(InventoryReported)
    assert inventory.resource_id == agent.host_id
    snapshot = await facts.wait_for(AgentSnapshot)
    assert snapshot.domains == () and snapshot.failed_sections == frozenset()
    assert f"compute.{host}.inventory" in facts.topics()
    assert f"compute.{host}.agent.snapshot" in facts.topics()
    deadline = time.monotonic() + 5
    while len([b for b in net.conductor.heartbeats if b.name == host]) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    sequences = [b.sequence for b in net.conductor.heartbeats if b.name == host]
    assert sequences == sorted(set(sequences)) and sequences[0] == 1


async def test_spawn_cast_reports_spawned_and_destroy_reports_deleted(net: Mesh) -> None:
    host = unique_host()
    facts = await net.watch(host)
    await net.agent(host)
    client = Client(await net.bus())
    request = spawn()
    await client.cast(f"node_agent.{host}.spawn", request)
    spawned = await facts.wait_for(InstanceSpawned)
    assert spawned.resource_id == request.instance_id
    assert spawned.power_state is PowerState.RUNNING
    assert f"compute.{host}.instance.spawned" in facts.topics()
    output = await client.call(
        f"node_agent.{host}.get_console_output",
        GetConsoleOutput(instance_id=request.instance_id),
        ConsoleOutput,
    )
    assert "vm1 login:" in output.output
    with pytest.raises(NotFound):
        await client.call(
            "node_agent.compute.get_console_output",
            GetConsoleOutput(instance_id=uuid4()),
            ConsoleOutput,
        )
    for _ in range(2):  # idempotent: a missing domain is deleted too
        await client.cast(f"node_agent.{host}.destroy", Destroy(instance_id=request.instance_id))
    deadline = time.monotonic() + 5
    while len(facts.of(InstanceDeleted, request.instance_id)) < 3:  # 2 replies + the event
        assert time.monotonic() < deadline, facts.topics()
        await asyncio.sleep(0.01)
    seqs = [f.seq for _t, f in facts.seen if f.resource_id == request.instance_id]
    assert len(seqs) == len(set(seqs))


async def test_fail_next_reports_spawn_failed(net: Mesh) -> None:
    host = unique_host()
    facts = await net.watch(host)
    agent, _ = await net.agent(host)
    hypervisor(agent).faults.fail_next("spawn", TransientError("libvirt: no space left on device"))
    request = spawn()
    await Client(await net.bus()).cast(f"node_agent.{host}.spawn", request)
    failed = await facts.wait_for(InstanceSpawnFailed)
    assert failed.resource_id == request.instance_id
    assert failed.reason == "libvirt: no space left on device" and failed.retryable
    hypervisor(agent).faults.fail_next("spawn", DriverError("bad image", retryable=False))
    await Client(await net.bus()).cast(f"node_agent.{host}.spawn", spawn())
    failed = await facts.wait_for(InstanceSpawnFailed, lambda f: not f.retryable)
    assert failed.reason == "bad image"


async def test_destroy_out_of_band_reports_shutoff_within_a_second(net: Mesh) -> None:
    host = unique_host()
    facts = await net.watch(host)
    agent, _ = await net.agent(host)
    request = spawn()
    await Client(await net.bus()).cast(f"node_agent.{host}.spawn", request)
    await facts.wait_for(InstanceSpawned)
    started = time.monotonic()
    # as another process would: through the fake hypervisor's control socket
    assert await fake_control.send(agent.config.state_dir, "destroy", str(request.instance_id))
    fact = await facts.wait_for(
        InstancePowerStateChanged,
        lambda f: f.power_state is PowerState.SHUTDOWN and f.reason.startswith("stopped"),
        timeout=1,
    )
    assert time.monotonic() - started < 1
    assert fact.resource_id == request.instance_id
    assert fact.reason == "stopped: destroyed"
    assert f"compute.{host}.instance.power_state" in facts.topics()


async def test_a_restarted_agent_reports_its_domains_in_its_snapshot(net: Mesh) -> None:
    host = unique_host()
    facts = await net.watch(host)
    agent, runner = await net.agent(host)
    client = Client(await net.bus())
    kept, paused = spawn(name="kept"), spawn(name="paused")
    await client.cast(f"node_agent.{host}.spawn", kept)
    await client.cast(f"node_agent.{host}.spawn", paused)
    await facts.wait_for(InstanceSpawned, lambda f: f.resource_id == paused.instance_id)
    await client.cast(f"node_agent.{host}.pause", Pause(instance_id=paused.instance_id))
    await facts.wait_for(InstancePowerStateChanged, lambda f: f.power_state is PowerState.PAUSED)
    last_seq = max(f.seq for _t, f in facts.seen)
    await runner.stop()

    again, _ = await net.agent(host, state_dir=agent.config.state_dir)
    assert again.incarnation != agent.incarnation
    snapshot = await facts.wait_for(AgentSnapshot, lambda f: f.seq > last_seq)
    assert {(d.instance_id, d.power_state) for d in snapshot.domains} == {
        (kept.instance_id, PowerState.RUNNING),
        (paused.instance_id, PowerState.PAUSED),
    }
    assert all(d.seq == snapshot.seq for d in snapshot.domains)


async def test_the_agent_registers_again_when_the_conductor_forgets_it(net: Mesh) -> None:
    host = unique_host()
    facts = await net.watch(host)
    agent, _ = await net.agent(host)
    await facts.wait_for(AgentSnapshot)
    net.conductor.forget_next_heartbeat = True
    deadline = time.monotonic() + 5
    while agent.registration.registrations < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await facts.wait_for(AgentSnapshot, lambda f: len(facts.of(AgentSnapshot)) >= 2)
    assert [r.incarnation for r in net.conductor.registrations if r.name == host] == [
        agent.incarnation
    ] * 2


async def test_network_and_storage_roles_report_ports_and_volumes(net: Mesh) -> None:
    host = unique_host()
    facts = await net.watch(host)
    agent, _ = await net.agent(host, roles="network,storage")
    client = Client(await net.bus())
    network = Network(id=uuid4(), project_id=uuid4())
    vif = port().model_copy(update={"network_id": network.id})
    await client.cast("node_agent.network.ensure_network", EnsureNetwork(network=network))
    await client.cast(
        "node_agent.network.ensure_port", EnsurePort(port=vif, requested_chassis="cmp1")
    )
    active = await facts.wait_for(PortActive)
    assert (active.resource_id, active.chassis) == (vif.id, "cmp1")
    assert f"network.{host}.port.active" in facts.topics()
    volume_id = uuid4()
    target = RbdImage(pool="volumes", image=f"volume-{volume_id}")
    create = CreateVolume(volume_id=volume_id, target=target, size_gb=2)
    await client.cast(f"node_agent.{host}.create_volume", create)
    assert (await facts.wait_for(VolumeCreated)).size_gb == 2
    assert f"storage.{host}.volume.created" in facts.topics()
    await client.cast(f"node_agent.{host}.request_snapshot", RequestSnapshot(host=host))
    snapshot = await facts.wait_for(AgentSnapshot, lambda f: bool(f.volumes))
    assert [v.volume_id for v in snapshot.volumes] == [volume_id]
    assert [p.port_id for p in snapshot.ports] == [vif.id]
    assert f"network.{host}.agent.snapshot" in facts.topics()
    assert agent.drivers.hypervisor is None
    await client.cast(
        "node_agent.storage.delete_volume", DeleteVolume(volume_id=volume_id, target=target)
    )
    await facts.wait_for(VolumeDeleted)


@pytest.mark.parametrize("net", ["memory"], indirect=True)  # timing: AMQP adds nothing
async def test_builds_are_limited_to_max_concurrent_builds(net: Mesh) -> None:
    host = unique_host()
    facts = await net.watch(host)
    agent, _ = await net.agent(host, max_concurrent_builds=2)
    hypervisor(agent).faults.add_latency("spawn", 0.3)
    client = Client(await net.bus())
    started = time.monotonic()
    for n in range(4):
        await client.cast(f"node_agent.{host}.spawn", spawn(name=f"vm{n}"))
    deadline = time.monotonic() + 5
    while len(facts.of(InstanceSpawned)) < 4:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert time.monotonic() - started >= 0.6  # two rounds of two
