"""The network, storage, DVR and PCI fakes: idempotent, persistent, injectable."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

import pytest

from node_agent.drivers.dvr.base import NamespaceKind
from node_agent.drivers.dvr.fake import FakeDvr
from node_agent.drivers.errors import InvalidStateError, NotFoundError, TransientError
from node_agent.drivers.network.fake import FakeNetwork
from node_agent.drivers.pci.fake import FakePci
from node_agent.drivers.storage.fake import FakeStorage
from schemas.messages.agent_network import EnsureNetwork, EnsurePort, EnsureRouter
from schemas.messages.agent_storage import CreateVolume, RbdImage, ResizeVolume, SnapshotVolume
from schemas.network import Network, PortStatus
from schemas.pci import PciDevice, PciDeviceType
from tests.unit.node_agent.dvr.test_plans import ROUTER, model
from tests.unit.node_agent.factories import port


async def test_network_ports_are_active_on_their_chassis_and_persist(tmp_path: Path) -> None:
    driver = FakeNetwork(tmp_path)
    network = Network(id=UUID(int=100), project_id=UUID(int=2))
    vif = port()
    with pytest.raises(NotFoundError):
        await driver.ensure_port(EnsurePort(port=vif, requested_chassis="cmp1"))
    await driver.ensure_network(EnsureNetwork(network=network))
    info = await driver.ensure_port(EnsurePort(port=vif, requested_chassis="cmp1"))
    assert info.status is PortStatus.ACTIVE and info.chassis == "cmp1"
    assert await FakeNetwork(tmp_path).list_ports() == [info]  # a restarted agent sees it
    assert await driver.delete_port(vif.id) is True
    assert await driver.delete_port(vif.id) is False
    driver.faults.fail_next("delete_network", TransientError("ovsdb busy"))
    with pytest.raises(TransientError):
        await driver.delete_network(network.id)
    assert await driver.delete_network(network.id) is True


async def test_network_router_ports_are_active_while_it_holds_the_router(tmp_path: Path) -> None:
    driver = FakeNetwork(tmp_path)
    seen: list[tuple[UUID, PortStatus]] = []
    await driver.watch_ports(lambda info: seen.append((info.port_id, info.status)), "router")
    m = model()
    router = m.routers[ROUTER]
    await driver.ensure_router(EnsureRouter(router=router, subnets=tuple(m.subnets.values())))
    ports = {i.port_id for i in router.interfaces}
    assert ports and set(seen) == {(p, PortStatus.ACTIVE) for p in ports}
    restarted = FakeNetwork(tmp_path)  # persisted: a restarted agent reports them again
    assert {p.port_id for p in await restarted.list_ports(owner="router")} == ports
    assert await driver.list_ports() == []  # VM ports only by default
    seen.clear()
    assert await driver.delete_router(ROUTER) is True
    assert set(seen) == {(p, PortStatus.DOWN) for p in ports}


async def test_storage_volumes_create_resize_snapshot_delete(tmp_path: Path) -> None:
    driver = FakeStorage(tmp_path)
    volume_id = uuid4()
    target = RbdImage(pool="volumes", image=f"volume-{volume_id}")
    request = CreateVolume(volume_id=volume_id, target=target, size_gb=1)
    assert (await driver.create_volume(request)).size_gb == 1
    assert (await driver.create_volume(request)).size_gb == 1
    resized = await driver.resize_volume(
        ResizeVolume(volume_id=volume_id, target=target, new_size_gb=3)
    )
    assert resized.size_gb == 3
    with pytest.raises(InvalidStateError):
        await driver.resize_volume(ResizeVolume(volume_id=volume_id, target=target, new_size_gb=2))
    snap = RbdImage(pool="volumes", image=target.image, snapshot="s1")
    await driver.snapshot_volume(
        SnapshotVolume(volume_id=volume_id, snapshot_id=uuid4(), target=snap)
    )
    with pytest.raises(InvalidStateError, match="snapshots"):
        await driver.delete_volume(volume_id, target)
    assert await driver.delete_snapshot(snap) is True
    assert [v.volume_id for v in await FakeStorage(tmp_path).list_volumes()] == [volume_id]
    assert await driver.delete_volume(volume_id, target) is True
    assert await driver.delete_volume(volume_id, target) is False


async def test_dvr_namespaces(tmp_path: Path) -> None:
    driver = FakeDvr(tmp_path)
    router = uuid4()
    name = await driver.ensure_namespace(NamespaceKind.QROUTER, router)
    assert name == f"qrouter-{router}"
    assert await FakeDvr(tmp_path).list_namespaces() == [name]
    assert await driver.delete_namespace(NamespaceKind.QROUTER, router) is True
    assert await driver.list_namespaces() == []


async def test_pci_vfs_are_created_under_their_pf(tmp_path: Path) -> None:
    pf = PciDevice(
        address="0000:3b:00.0", vendor_id="8086", product_id="1572", dev_type=PciDeviceType.PF
    )
    driver = FakePci(tmp_path, devices=(pf,))
    vfs = await driver.set_num_vfs(pf.address, 3)
    assert [vf.address for vf in vfs] == ["0000:3b:01.0", "0000:3b:01.1", "0000:3b:01.2"]
    assert all(vf.parent_addr == pf.address for vf in vfs)
    assert len(await FakePci(tmp_path).discover()) == 4
    assert len(await driver.set_num_vfs(pf.address, 1)) == 1
    with pytest.raises(InvalidStateError):
        await driver.set_num_vfs(vfs[0].address, 1)
