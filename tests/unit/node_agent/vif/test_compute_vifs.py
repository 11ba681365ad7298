"""A spawn's VIFs (node_agent/services/compute_vifs.py): plugged before the domain
starts, waited for (bounded), the domain destroyed and the VIFs unplugged when they never
come up (vif_plugging_is_fatal), or the spawn going on when plugging is not fatal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from node_agent.drivers.hypervisor.base import DomainInfo
from node_agent.drivers.vif.fake import FakeVif
from node_agent.services.compute_vifs import (
    VifPlugging,
    VifPlugTimeout,
    spawn_plugged,
    unplug_instance,
)
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import Spawn
from schemas.network import VnicType
from tests.unit.node_agent.factories import port, spawn


class StubHypervisor:
    """Records what the spawn did, and which VIFs existed when the domain started."""

    def __init__(self, vifs: FakeVif) -> None:
        self.vifs = vifs
        self.plugged_at_start: list[UUID] = []
        self.destroyed: list[UUID] = []
        self.domains: list[DomainInfo] = []

    async def spawn(self, req: Spawn) -> DomainInfo:
        self.plugged_at_start = [info.port_id for info in await self.vifs.list()]
        return DomainInfo(req.instance_id, req.name, PowerState.RUNNING, 1, 256)

    async def list_domains(self) -> list[DomainInfo]:
        return self.domains

    async def destroy(self, instance_id: UUID) -> bool:
        self.destroyed.append(instance_id)
        return True


def setup(tmp_path: Path, *, fatal: bool = True) -> tuple[FakeVif, StubHypervisor, VifPlugging]:
    vifs = FakeVif(tmp_path, auto_up=False)
    plugging = VifPlugging(vifs, fatal=fatal)
    return vifs, StubHypervisor(vifs), plugging


async def started(vifs: FakeVif, plugging: VifPlugging) -> None:
    await vifs.start(plugging.waiter.update)


async def test_the_spawn_returns_only_once_its_ports_are_up(tmp_path: Path) -> None:
    vifs, hypervisor, plugging = setup(tmp_path)
    await started(vifs, plugging)
    normal, direct = port(1), port(2).model_copy(update={"vnic_type": VnicType.DIRECT})
    req = spawn(ports=(normal, direct))
    task = asyncio.create_task(spawn_plugged(plugging, hypervisor, req))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert not task.done() and plugging.holds(req.instance_id)
    assert hypervisor.plugged_at_start == [normal.id]  # SR-IOV ports have no VIF
    vifs.report(normal.id, True)
    info = await asyncio.wait_for(task, 2)
    assert info.power_state is PowerState.RUNNING
    assert not plugging.holds(req.instance_id)


async def test_ports_never_up_fail_the_spawn_and_clean_up(tmp_path: Path) -> None:
    vifs, hypervisor, plugging = setup(tmp_path)
    await started(vifs, plugging)
    undone: list[Any] = []

    async def undo() -> None:
        undone.append(True)

    req = spawn(ports=(port(1),)).model_copy(update={"vif_plug_timeout_s": 0.1})
    with pytest.raises(VifPlugTimeout, match=r"not up within 0\.1 s") as failed:
        await spawn_plugged(plugging, hypervisor, req, undo=undo)  # type: ignore[arg-type]
    assert failed.value.retryable
    assert hypervisor.destroyed == [req.instance_id] and undone == [True]
    assert await vifs.list() == ()


async def test_not_fatal_goes_on_after_the_timeout(tmp_path: Path) -> None:
    vifs, hypervisor, plugging = setup(tmp_path, fatal=False)
    await started(vifs, plugging)
    req = spawn(ports=(port(1),)).model_copy(update={"vif_plug_timeout_s": 0.05})
    info = await spawn_plugged(plugging, hypervisor, req)  # type: ignore[arg-type]
    assert info.power_state is PowerState.RUNNING and hypervisor.destroyed == []
    assert [v.port_id for v in await vifs.list()] == [req.ports[0].id]


async def test_a_moved_instance_is_unplugged_once_no_domain_uses_its_ports(
    tmp_path: Path,
) -> None:
    vifs, hypervisor, plugging = setup(tmp_path)
    req = spawn(ports=(port(1),))
    other = spawn(ports=(port(2),))
    await plugging.plug(req)
    await plugging.plug(other)
    hypervisor.domains = [DomainInfo(req.instance_id, "vm1", PowerState.RUNNING, 1, 256)]
    await unplug_instance(plugging, hypervisor, req.instance_id)  # type: ignore[arg-type]
    assert len(await vifs.list()) == 2  # a domain of it is still here
    hypervisor.domains = []
    await unplug_instance(plugging, hypervisor, req.instance_id)  # type: ignore[arg-type]
    assert [v.port_id for v in await vifs.list()] == [other.ports[0].id]
