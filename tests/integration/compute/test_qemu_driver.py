"""The QEMU hypervisor driver on qemu:///system with real TCG guests, as two node agents
sharing one libvirtd use it: one guest is booted and taken through its whole life (the
tests run in order on the module's guest, booting as few guests as the 2 cores allow).

- spawn from a local image: the guest prints the marker written into the image (so its
  root disk is that image, through a qcow2 overlay on a cached base) and the config drive's
  identity (hostname, uuid, first line of user_data), read through console_output;
- an interface hot-plugged (a tap the Linux bridge VIF driver made) and unplugged; the guest
  sees the NIC come and go;
- pause/unpause, suspend/resume (managed save), stop/start, each seen as a lifecycle
  event with the power state; soft reboot (ACPI) and hard reboot, each booting again;
- cold migration with a resize to the second agent: the disk is copied into its state dir
  and grown, ownership switches; a revert hands the domain back to the first agent; after
  migrating again the first agent's destroy (the confirm) removes only its own files;
- destroy: the domain, the overlay and the unused base are gone.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from node_agent.drivers.hypervisor.base import DomainEvent, LifecycleEvent, PowerAction
from node_agent.drivers.hypervisor.local_disks import backing_file
from node_agent.drivers.hypervisor.qemu import QemuHypervisor
from node_agent.drivers.vif.linux_bridge import LinuxBridgeVif
from schemas.instance_state import PowerState
from schemas.messages.agent_compute import ConfigDriveData, Spawn
from schemas.network import Port
from tests.integration.compute.agent_guests import (
    READY,
    Events,
    flavor,
    marked_image,
    remove_domains_of,
    spawn_request,
    values,
    wait_for_console,
)
from tests.integration.compute.guest import GuestArtefacts

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@dataclass
class Stage:
    a: QemuHypervisor
    b: QemuHypervisor
    events_a: Events
    events_b: Events
    request: Spawn
    marker: str
    hostname: str
    user_data: str
    tmp: Path
    bridge: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stage(
    libvirt_uri: str, guest_artefacts: GuestArtefacts, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stage]:
    tmp = tmp_path_factory.mktemp("qemu-driver")
    suffix = uuid.uuid4().hex[:6]
    hosts = {f"qa-{suffix}", f"qb-{suffix}"}
    bridge = f"smbr{suffix}"
    marker = f"root-marker-{uuid.uuid4().hex}"
    image, path = marked_image(tmp, guest_artefacts, marker)
    hostname, user_data = f"vm-{suffix}", f"hello-{uuid.uuid4().hex[:8]}\nsecond line\n"
    request = spawn_request(
        image,
        path,
        config_drive=ConfigDriveData(hostname=hostname, user_data=user_data),
        name="driver-guest",
    )
    a = QemuHypervisor(
        f"qa-{suffix}", tmp / "a", libvirt_uri, vif=LinuxBridgeVif(bridge, tmp / "a")
    )
    b = QemuHypervisor(f"qb-{suffix}", tmp / "b", libvirt_uri)
    events_a, events_b = Events(), Events()
    await a.start(events_a)
    await b.start(events_b)
    try:
        yield Stage(a, b, events_a, events_b, request, marker, hostname, user_data, tmp, bridge)
    finally:
        await a.close()
        await b.close()
        remove_domains_of(libvirt_uri, hosts)
        await asyncio.to_thread(
            subprocess.run, ["ip", "link", "del", bridge], capture_output=True, check=False
        )
    assert remove_domains_of(libvirt_uri, hosts) == []


async def test_guest_boots_from_its_image_and_reads_the_config_drive(stage: Stage) -> None:
    info = await stage.a.spawn(stage.request)
    assert info.power_state is PowerState.RUNNING
    instance = stage.request.instance_id
    found = await wait_for_console(
        lambda: stage.a.console_output(instance), lambda m: READY in m, what=READY
    )
    assert values(found, "SKYMESH-DISK-MARKER") == [f"root {stage.marker}"]
    assert values(found, "SKYMESH-HOSTNAME") == [stage.hostname]
    assert values(found, "SKYMESH-UUID") == [str(instance)]
    assert values(found, "SKYMESH-USERDATA") == [stage.user_data.splitlines()[0]]
    assert not [m for m in found if "FAILED" in m], found
    # the root disk is an overlay on the base cached in the agent's state dir
    overlay = stage.tmp / "a" / "instances" / str(instance) / "disk"
    assert backing_file(overlay) == stage.tmp / "a" / "_base" / str(stage.request.image.id)  # type: ignore[union-attr]
    assert [d.instance_id for d in await stage.a.list_domains()] == [instance]
    assert await stage.b.list_domains() == []  # the other agent sees nothing of it
    await stage.events_a.wait_for(lambda e: e.event is LifecycleEvent.STARTED)
    assert await stage.a.spawn(stage.request) == info  # idempotent


async def test_interface_hot_plug_and_unplug(stage: Stage) -> None:
    instance = stage.request.instance_id
    port = Port(
        id=uuid.uuid4(),
        network_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        mac_address="fa:16:3e:12:34:56",
    )
    await stage.a.attach_interface(instance, port)
    found = await wait_for_console(
        lambda: stage.a.console_output(instance),
        lambda m: any(x.startswith("SKYMESH-HOTPLUG-NIC") for x in m),
        timeout=30,
        what="SKYMESH-HOTPLUG-NIC",
    )
    assert values(found, "SKYMESH-HOTPLUG-NIC")[0].endswith("fa:16:3e:12:34:56")
    tap = f"tap{str(port.id)[:11]}"
    shown = await asyncio.to_thread(
        subprocess.run, ["ip", "-j", "link", "show", tap], capture_output=True, check=True
    )
    master = json.loads(shown.stdout)[0].get("master")
    assert master == stage.bridge  # the VIF driver's tap, on its bridge
    info = (await stage.a.list_domains())[0]
    assert info.port_ids == (port.id,)
    await stage.a.attach_interface(instance, port)  # idempotent

    assert await stage.a.detach_interface(instance, port.id) is True
    await wait_for_console(
        lambda: stage.a.console_output(instance),
        lambda m: any(x.startswith("SKYMESH-UNPLUG-NIC") for x in m),
        timeout=30,
        what="SKYMESH-UNPLUG-NIC",
    )
    assert (await stage.a.list_domains())[0].port_ids == ()
    assert await stage.a.detach_interface(instance, port.id) is False


async def test_power_actions_and_their_events(stage: Stage) -> None:
    a, instance, events = stage.a, stage.request.instance_id, stage.events_a

    def power(state: PowerState) -> Callable[[DomainEvent], bool]:
        return lambda e: e.instance_id == instance and e.power_state is state

    def started() -> int:
        mine = [e for e in events.seen if e.instance_id == instance]
        return sum(1 for e in mine if e.event is LifecycleEvent.STARTED)

    assert (await a.power(instance, PowerAction.PAUSE)).power_state is PowerState.PAUSED
    await events.wait_for(power(PowerState.PAUSED))
    assert (await a.power(instance, PowerAction.UNPAUSE)).power_state is PowerState.RUNNING

    assert (await a.power(instance, PowerAction.SUSPEND)).power_state is PowerState.SUSPENDED
    await events.wait_for(power(PowerState.SUSPENDED))
    assert (await a.list_domains())[0].power_state is PowerState.SUSPENDED
    assert (await a.power(instance, PowerAction.RESUME)).power_state is PowerState.RUNNING

    # soft: the ACPI power button; the guest powers off and libvirt starts it again
    assert (await a.power(instance, PowerAction.REBOOT)).power_state is PowerState.RUNNING
    found = await wait_for_console(
        lambda: a.console_output(instance),
        lambda m: m.count(READY) >= 2,
        what="a second ready marker",
    )
    assert "SKYMESH-POWER-OFF" in found

    assert (await a.power(instance, PowerAction.POWER_OFF)).power_state is PowerState.SHUTDOWN
    await events.wait_for(power(PowerState.SHUTDOWN))
    before = started()
    assert (await a.power(instance, PowerAction.POWER_ON)).power_state is PowerState.RUNNING
    await events.wait_for(lambda e: started() > before)

    before = started()
    assert (await a.power(instance, PowerAction.HARD_REBOOT)).power_state is PowerState.RUNNING
    await events.wait_for(lambda e: started() > before)  # destroyed and booted again
    assert any(
        e.event is LifecycleEvent.STOPPED and e.detail == "destroyed"
        for e in events.seen
        if e.instance_id == instance
    )


async def test_cold_migration_with_resize_to_the_other_agent(stage: Stage) -> None:
    a, b, instance = stage.a, stage.b, stage.request.instance_id
    await a.power(instance, PowerAction.POWER_OFF)
    bigger = flavor(memory_mb=320, disk_gb=1)
    moved = stage.request.model_copy(update={"flavor": bigger, "config_drive": None})
    info = await b.spawn(moved)
    assert info.power_state is PowerState.RUNNING
    assert info.memory_mb == 320
    size = int(
        json.loads(
            (
                await asyncio.to_thread(
                    subprocess.run,
                    [
                        "qemu-img",
                        "info",
                        "-U",
                        "--output=json",
                        str(stage.tmp / "b" / "instances" / str(instance) / "disk"),
                    ],
                    capture_output=True,
                    check=True,
                )
            ).stdout
        )["virtual-size"]
    )
    assert size == 2**30  # grown to the new flavor's disk_gb
    assert await a.list_domains() == []
    assert [d.instance_id for d in await b.list_domains()] == [instance]
    overlay = stage.tmp / "b" / "instances" / str(instance) / "disk"
    assert backing_file(overlay) == stage.tmp / "b" / "_base" / str(moved.image.id)  # type: ignore[union-attr]
    found = await wait_for_console(
        lambda: b.console_output(instance), lambda m: READY in m, what=READY
    )
    assert values(found, "SKYMESH-DISK-MARKER") == [f"root {stage.marker}"]

    # reverted: the destination's destroy hands the domain back to the source, as it was
    assert await b.destroy(instance) is True
    assert await b.list_domains() == []
    assert not (stage.tmp / "b" / "instances" / str(instance)).exists()
    back = await a.list_domains()
    assert [(d.instance_id, d.power_state, d.memory_mb) for d in back] == [
        (instance, PowerState.SHUTDOWN, 256)
    ]

    # migrated again, then confirmed
    assert (await b.spawn(moved)).power_state is PowerState.RUNNING
    assert await a.list_domains() == []
    assert await a.destroy(instance) is False
    assert not (stage.tmp / "a" / "instances" / str(instance)).exists()
    assert list((stage.tmp / "a" / "_base").iterdir()) == [stage.tmp / "a" / "_base" / ".lock"]
    assert [d.instance_id for d in await b.list_domains()] == [instance]


async def test_destroy_removes_the_domain_its_disk_and_the_unused_base(stage: Stage) -> None:
    b, instance = stage.b, stage.request.instance_id
    assert await b.destroy(instance) is True
    await stage.events_b.wait_for(
        lambda e: e.instance_id == instance and e.event is LifecycleEvent.UNDEFINED
    )
    assert await b.list_domains() == []
    assert not (stage.tmp / "b" / "instances" / str(instance)).exists()
    assert [p.name for p in (stage.tmp / "b" / "_base").iterdir()] == [".lock"]
    assert await b.destroy(instance) is False
    await asyncio.sleep(0)
