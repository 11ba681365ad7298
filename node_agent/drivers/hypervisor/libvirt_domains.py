"""The blocking side of the libvirt driver: the domains of one host on one connection.

Run these in threads (the async driver does). A domain is this host's when its
`<metadata>` names the host; everything else on the connection is invisible here.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
from uuid import UUID

import libvirt

from node_agent.drivers.errors import DriverError, NotFoundError
from node_agent.drivers.hypervisor.base import (
    DomainInfo,
    PowerAction,
    VolumeAttachmentInfo,
    next_power_state,
)
from node_agent.drivers.hypervisor.domain_xml import NS, DomainOwner, parse_owner
from node_agent.drivers.hypervisor.sim_node import PersistedDomain
from schemas.instance_state import PowerState

# virDomainState -> PowerState (Nova's LIBVIRT_POWER_STATE)
STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: PowerState.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: PowerState.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: PowerState.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: PowerState.SUSPENDED,
}


def _missing(exc: libvirt.libvirtError) -> bool:
    return exc.get_error_code() in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_NO_DOMAIN_METADATA)


class OwnedDomains:
    def __init__(self, conn: Any, host: str) -> None:
        self.conn, self.host = conn, host

    def lookup(self, uuid: UUID) -> Any | None:
        try:
            return self.conn.lookupByUUIDString(str(uuid))
        except libvirt.libvirtError as exc:
            if _missing(exc):
                return None
            raise

    def owner(self, dom: Any) -> DomainOwner | None:
        try:
            return parse_owner(dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS))
        except libvirt.libvirtError as exc:
            if _missing(exc):
                return None
            raise

    def host_of(self, uuid: UUID) -> str | None:
        """The host that owns the domain; None when there is no such domain (or it
        carries no skymesh metadata)."""
        try:
            dom = self.lookup(uuid)
            owner = self.owner(dom) if dom is not None else None
        except libvirt.libvirtError as exc:
            if _missing(exc):
                return None
            raise
        return None if owner is None else owner.host

    def ours(self, uuid: UUID) -> bool:
        dom = self.lookup(uuid)
        owner = self.owner(dom) if dom is not None else None
        return owner is not None and owner.host == self.host

    def power_state(self, dom: Any) -> PowerState:
        state, _reason = dom.state()
        if state == libvirt.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage():
            return PowerState.SUSPENDED  # suspended as Nova does it: a managed save
        return STATES.get(state, PowerState.NOSTATE)

    def state_of(self, uuid: UUID) -> PowerState | None:
        try:
            dom = self.lookup(uuid)
            return None if dom is None else self.power_state(dom)
        except libvirt.libvirtError as exc:
            if _missing(exc):
                return None
            raise

    def info(self, dom: Any, owner: DomainOwner) -> DomainInfo:
        _state, max_kib, _mem, vcpus, _cpu_time = dom.info()
        return DomainInfo(
            instance_id=UUID(dom.UUIDString()),
            name=dom.name(),
            power_state=self.power_state(dom),
            vcpus=vcpus,
            memory_mb=max_kib // 1024,
            port_ids=owner.port_ids,
            volumes=tuple(VolumeAttachmentInfo(vid, dev) for vid, dev in owner.volumes),
        )

    def owned(self, uuid: UUID) -> tuple[Any, DomainOwner]:
        dom = self.lookup(uuid)
        owner = self.owner(dom) if dom is not None else None
        if dom is None or owner is None or owner.host != self.host:
            raise NotFoundError(f"no domain for instance {uuid} on {self.host}")
        return dom, owner

    def list_owned(self) -> list[DomainInfo]:
        found = []
        for dom in self.conn.listAllDomains():
            try:
                owner = self.owner(dom)
                if owner is not None and owner.host == self.host:
                    found.append(self.info(dom, owner))
            except libvirt.libvirtError as exc:
                if not _missing(exc):  # a domain that vanished while listing is skipped
                    raise
        return sorted(found, key=lambda d: str(d.instance_id))

    def spawn(self, uuid: UUID, xml: str) -> DomainInfo:
        dom = self.lookup(uuid)
        if dom is not None:
            owner = self.owner(dom)
            if owner is None or owner.host != self.host:
                raise DriverError(f"domain {uuid} belongs to another host", retryable=True)
        else:
            dom = self.conn.defineXML(xml)
        if not dom.isActive():
            dom.create()
        elif self.power_state(dom) is PowerState.PAUSED:
            dom.resume()
        return self.info(dom, self.owned(uuid)[1])

    def destroy(self, uuid: UUID) -> bool:
        try:
            dom, _owner = self.owned(uuid)
        except NotFoundError:
            return False
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        return True

    def power(self, uuid: UUID, action: PowerAction, timeout_s: float) -> DomainInfo:
        dom, owner = self.owned(uuid)
        current = self.power_state(dom)
        target = next_power_state(current, action)
        if target != current or action in (PowerAction.REBOOT, PowerAction.HARD_REBOOT):
            self.apply(dom, current, action, timeout_s)
        return self.info(dom, owner)

    def apply(self, dom: Any, current: PowerState, action: PowerAction, timeout_s: float) -> None:
        if action is PowerAction.POWER_OFF:
            self.power_off(dom, current, timeout_s)
        elif action in (PowerAction.POWER_ON, PowerAction.RESUME):
            dom.create()  # restores a managed save when there is one
        elif action is PowerAction.PAUSE:
            dom.suspend()
        elif action is PowerAction.UNPAUSE:
            dom.resume()
        elif action is PowerAction.SUSPEND:
            dom.managedSave()
        elif action is PowerAction.REBOOT:
            dom.reboot(0)
        elif action is PowerAction.HARD_REBOOT:
            if dom.isActive():
                dom.destroy()
            dom.create()

    def power_off(self, dom: Any, current: PowerState, timeout_s: float) -> None:
        if current is PowerState.SUSPENDED:
            dom.managedSaveRemove()
            return
        if timeout_s and current is PowerState.RUNNING:
            dom.shutdown()
            deadline = time.monotonic() + timeout_s
            while dom.isActive() and time.monotonic() < deadline:
                time.sleep(0.2)
        if dom.isActive():
            dom.destroy()

    def persisted(self) -> list[PersistedDomain]:
        found = []
        for dom in self.conn.listAllDomains():
            with contextlib.suppress(libvirt.libvirtError):
                found.append(
                    PersistedDomain(
                        xml=dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
                        run_state=dom.state()[0],
                        managed_save=bool(dom.hasManagedSaveImage()),
                    )
                )
        return found
