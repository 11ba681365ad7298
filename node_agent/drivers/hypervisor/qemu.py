"""The hypervisor driver on real QEMU guests: libvirt's `qemu:///system`, `<domain
type='qemu'>` (software emulation; KVM is never asked for).

On top of the libvirt driver (events, ownership by `<metadata>`, power actions) it prepares
the host side of a guest before defining it, in `<state>/instances/<id>/`:
  - `disk`: a qcow2 overlay on the image's cached base (local_disks.py), grown to the
    flavor's `disk_gb`; none when the server boots from an RBD volume;
  - `disk.config`: the config drive ISO when the Spawn carries config drive data;
  - `console.log`: the serial console, written by virtlogd, read by console_output;
  - libvirt `ceph` secrets for cephx volumes (ceph_secrets.py), removed when unused.
Direct kernel boot: the image's properties `skymesh_kernel` and `skymesh_initrd` (files on
the compute host) and `skymesh_cmdline` (default `panic=-1 quiet`), else the agent's guest
directory (`vmlinuz` + `initrd.img`, as scripts/stack/guest.sh builds them) when it has
one, else the disk boots itself. The command line is `console=ttyS0`, those arguments, and
`skymesh.mount=<root disk serial>:/mnt/root` (`root`, or the boot volume's id cut to the
20 characters a virtio serial keeps) for the test guest's init.

A domain that exists, inactive and owned by another agent on the same libvirtd, is taken
over by spawn (the destination of a cold migration): its overlay is copied into this
agent's state dir and rebased onto this agent's base, and the definition is replaced with
one naming this host; the source's definition is kept in the instance dir. The source's
later destroy (the resize is confirmed) finds the domain no longer its own and removes only
its local files. A destroy on the destination while the source's files are still there (the
resize is reverted) gives the domain the source's definition back, so the source finds
it, powered off, with its old flavor and disk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import libvirt

from corebus.config import default_home
from node_agent.drivers.errors import DriverError
from node_agent.drivers.hypervisor import ceph_secrets, libvirt_hotplug, local_disks
from node_agent.drivers.hypervisor.base import DomainInfo
from node_agent.drivers.hypervisor.config_drive import build_config_drive
from node_agent.drivers.hypervisor.domain_devices import ROOT_SERIAL, interface, tap_name
from node_agent.drivers.hypervisor.domain_guest import DirectBoot
from node_agent.drivers.hypervisor.domain_xml import HostLayout, build_domain_xml
from node_agent.drivers.hypervisor.libvirt import LibvirtHypervisor
from node_agent.drivers.vif.base import VifDriver
from schemas.compute import ImageLocationKind
from schemas.messages.agent_compute import Spawn, VolumeConnection
from schemas.network import Port, VnicType

log = logging.getLogger(__name__)

GUEST_ARGS = "panic=-1 quiet"
PREVIOUS_OWNER = "previous-owner.xml"  # the source's definition, kept by a migration target
GiB = 2**30


CEPH_SECRETS = UUID("5b0c6c3e-8d52-4d0e-9a8e-3f1c2b7d9e41")  # namespace of secret UUIDs


def default_guest_dir() -> Path | None:
    """The test guest's kernel + initramfs for images that name none: `$SKYMESH_GUEST_DIR`,
    else `$SKYMESH_HOME/stack/qemu/guest` when `skymesh up --hypervisor qemu` built it."""
    named = os.environ.get("SKYMESH_GUEST_DIR")
    if named:
        return Path(named)
    built = default_home() / "stack" / "qemu" / "guest"
    return built if (built / "vmlinuz").is_file() else None


def tap_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


class QemuHypervisor(LibvirtHypervisor):
    def __init__(
        self,
        host: str,
        state_dir: Path,
        uri: str = "qemu:///system",
        *,
        vif: VifDriver | None = None,
        linux_bridge: str | None = None,
        ovs_bridge: str = "br-int",
        ceph_conf: Path | None = None,
        ceph_user: str | None = None,
        guest_dir: Path | None = None,
    ) -> None:
        super().__init__(host, state_dir, uri, domain_type="qemu")
        self.vif = vif
        self.linux_bridge, self.ovs_bridge = linux_bridge, ovs_bridge
        self.ceph_conf, self.ceph_user, self.guest_dir = ceph_conf, ceph_user, guest_dir
        self._secrets: set[UUID] = set()

    def instance_dir(self, instance_id: UUID) -> Path:
        return self.state_dir / "instances" / str(instance_id)

    # -- spawn ---------------------------------------------------------------------
    async def spawn(self, request: Spawn) -> DomainInfo:
        volumes = tuple(self._local_auth(volume) for volume in request.volumes)
        request = request.model_copy(update={"volumes": volumes})
        taps = {port.id: await self._tap(request.instance_id, port) for port in request.ports}
        usable = {port_id: tap for port_id, tap in taps.items() if tap is not None}
        return await self._guard(asyncio.to_thread(self._spawn, request, usable))

    async def _tap(self, instance_id: UUID, port: Port) -> str | None:
        """The tap the VIF driver made for the port (plugging it when this driver has a
        VIF driver), or None: libvirt makes one."""
        if port.vnic_type is not VnicType.NORMAL:
            return None
        if self.vif is not None:
            await self.vif.plug(instance_id, port)
        name = tap_name(port.id)
        return name if tap_exists(name) else None

    def _spawn(self, request: Spawn, taps: dict[UUID, str]) -> DomainInfo:
        uuid = request.instance_id
        domains = self._domains
        dom = domains.lookup(uuid)
        owner = domains.owner(dom) if dom is not None else None
        mine = owner is not None and owner.host == self.host
        if dom is not None and dom.isActive():
            if not mine:
                raise DriverError(f"domain {uuid} runs for another host", retryable=True)
            return domains.info(dom, domains.owned(uuid)[1])
        directory = self.instance_dir(uuid)
        directory.mkdir(parents=True, exist_ok=True)
        root = self._root_disk(request, directory, None if mine else dom)
        config_drive = None
        if request.config_drive is not None:
            config_drive = build_config_drive(
                directory / "disk.config", uuid, request.name, request.config_drive, request.ports
            )
        for volume in request.volumes:
            self._ensure_secret(volume)
        layout = HostLayout(
            root_disk=root,
            boot=self._direct_boot(request, config_drive is not None),
            config_drive=config_drive,
            taps=taps,
            linux_bridge=self.linux_bridge,
            ceph_conf=self.ceph_conf,
            pty_console=True,
        )
        xml = build_domain_xml(
            request,
            self.host,
            domain_type="qemu",
            instance_dir=directory,
            bridge=self.ovs_bridge,
            layout=layout,
        )
        if dom is not None and not mine:  # kept to hand it back on a revert
            previous = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            (directory / PREVIOUS_OWNER).write_text(previous)
        if dom is None or not dom.hasManagedSaveImage():
            dom = self._conn.defineXML(xml)  # new, resized, or taken over from another host
        dom.create()
        return domains.info(dom, domains.owned(uuid)[1])

    def _root_disk(self, request: Spawn, directory: Path, previous: Any | None) -> Path | None:
        location = request.image_location
        if any(v.boot_index == 0 for v in request.volumes) or location is None:
            return None
        if location.kind is not ImageLocationKind.FILE or location.path is None:
            return None
        image_id = request.image.id if request.image is not None else request.instance_id
        overlay = directory / "disk"
        size = request.flavor.disk_gb * GiB
        if overlay.exists():
            local_disks.grow(overlay, size)
            return overlay
        base, fmt = local_disks.cached_base(self.state_dir, image_id, Path(location.path))
        source = _file_disk_of(previous) if previous is not None else None
        if source is not None and source.exists():
            partial = overlay.with_name("disk.partial")
            shutil.copyfile(source, partial)
            local_disks.rebase(partial, base, fmt)
            partial.rename(overlay)
            local_disks.grow(overlay, size)
        else:
            local_disks.create_overlay(base, fmt, overlay, size)
        return overlay

    def _direct_boot(self, request: Spawn, config_drive: bool) -> DirectBoot | None:
        props = request.image.properties if request.image is not None else {}
        kernel, initrd = props.get("skymesh_kernel"), props.get("skymesh_initrd")
        if kernel is None and self.guest_dir is not None:
            kernel = str(self.guest_dir / "vmlinuz")
            initrd = str(self.guest_dir / "initrd.img")
        if kernel is None:
            return None
        args = ["console=ttyS0", props.get("skymesh_cmdline", GUEST_ARGS)]
        boot_volume = next((v for v in request.volumes if v.boot_index == 0), None)
        root = ROOT_SERIAL if boot_volume is None else str(boot_volume.volume_id)[:20]
        args.append(f"skymesh.mount={root}:/mnt/root")  # virtio serials keep 20 characters
        if config_drive:
            args.append("skymesh.config_drive=1")
        return DirectBoot(Path(kernel), Path(initrd) if initrd else None, " ".join(args))

    def _local_auth(self, volume: VolumeConnection) -> VolumeConnection:
        """With `--ceph-user` this host authenticates to Ceph as that user, whatever the
        connection says (Nova's `[libvirt] rbd_user`): cephx with a libvirt secret whose
        UUID is stable for this host and user, made from the keyring next to ceph.conf."""
        if self.ceph_user is None:
            return volume
        rbd = volume.rbd.model_copy(
            update={
                "auth_enabled": True,
                "user": self.ceph_user,
                "secret_uuid": uuid5(CEPH_SECRETS, f"{self.host}/{self.ceph_user}"),
            }
        )
        return volume.model_copy(update={"rbd": rbd})

    def _ensure_secret(self, volume: VolumeConnection) -> None:
        rbd = volume.rbd
        if not rbd.auth_enabled or rbd.secret_uuid is None:
            return
        key = ceph_secrets.read_key(self.ceph_conf, rbd.user)
        ceph_secrets.ensure_secret(self._conn, rbd.secret_uuid, rbd.user, key)
        self._secrets.add(rbd.secret_uuid)

    # -- destroy -------------------------------------------------------------------
    async def destroy(self, instance_id: UUID) -> bool:
        handed_back = await self._guard(asyncio.to_thread(self._hand_back, instance_id))
        existed = handed_back or await super().destroy(instance_id)
        await asyncio.to_thread(self._drop_local, instance_id)
        return existed

    def _hand_back(self, instance_id: UUID) -> bool:
        """A domain taken over from another agent whose files are still there (a cold
        migration being reverted) gets that agent's definition back instead of being
        undefined; False when that is not the case."""
        saved = self.instance_dir(instance_id) / PREVIOUS_OWNER
        if not saved.is_file():
            return False
        previous = saved.read_text()
        log_file = ET.fromstring(previous).find("devices/serial/log")
        source_dir = Path(log_file.get("file", "")).parent if log_file is not None else None
        if source_dir is None or not source_dir.is_dir():
            return False  # the source confirmed (its files are gone): a plain destroy
        try:
            dom, _owner = self._domains.owned(instance_id)
        except DriverError:
            return False
        if dom.isActive():
            dom.destroy()
        self._conn.defineXML(previous)
        return True

    def _drop_local(self, instance_id: UUID) -> None:
        """Remove the instance's files (unless this host still owns a domain for it, which
        a concurrent spawn may have made), unused bases and unused secrets."""
        if not self._domains.ours(instance_id):
            shutil.rmtree(self.instance_dir(instance_id), ignore_errors=True)
        local_disks.prune_bases(self.state_dir)
        self._secrets -= set(ceph_secrets.remove_unused(self._conn, self._secrets))

    # -- hot-plug ------------------------------------------------------------------
    async def attach_volume(self, instance_id: UUID, volume: VolumeConnection) -> str:
        volume = self._local_auth(volume)

        def work() -> str:
            dom, owner = self._domains.owned(instance_id)
            self._ensure_secret(volume)
            return libvirt_hotplug.attach_volume(dom, owner, volume, self.ceph_conf)

        return await self._guard(asyncio.to_thread(work))

    async def detach_volume(self, instance_id: UUID, volume_id: UUID) -> bool:
        def work() -> bool:
            dom, owner = self._domains.owned(instance_id)
            found = libvirt_hotplug.detach_volume(dom, owner, volume_id)
            self._secrets -= set(ceph_secrets.remove_unused(self._conn, self._secrets))
            return found

        return await self._guard(asyncio.to_thread(work))

    async def attach_interface(self, instance_id: UUID, port: Port) -> None:
        tap = await self._tap(instance_id, port)
        iface = interface(port, tap=tap, linux_bridge=self.linux_bridge, ovs=self.ovs_bridge)

        def work() -> None:
            dom, owner = self._domains.owned(instance_id)
            libvirt_hotplug.attach_interface(dom, owner, port.id, iface)

        await self._guard(asyncio.to_thread(work))

    async def detach_interface(self, instance_id: UUID, port_id: UUID) -> bool:
        def work() -> bool:
            dom, owner = self._domains.owned(instance_id)
            return libvirt_hotplug.detach_interface(dom, owner, port_id)

        found = await self._guard(asyncio.to_thread(work))
        if self.vif is not None:
            await self.vif.unplug(port_id)
        return found


def _file_disk_of(dom: Any) -> Path | None:
    """The file behind the domain's vda (another agent's overlay, for a takeover)."""
    root = ET.fromstring(dom.XMLDesc(0))
    for disk in root.iterfind("devices/disk"):
        target, source = disk.find("target"), disk.find("source")
        if target is not None and target.get("dev") == "vda" and source is not None:
            file = source.get("file")
            return Path(file) if file else None
    return None
