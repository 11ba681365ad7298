"""A host's PCI devices as a JSON state file; by default none. VFs created by
`set_num_vfs` get addresses after their PF's (function numbers 1..7 then next slots).
Assignments are kept like the real driver's (claims.py); no MAC is set anywhere and
nothing is watched."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import UUID

from node_agent.drivers.errors import InvalidStateError, NotFoundError
from node_agent.drivers.fake_base import JsonBackedFake
from node_agent.drivers.pci.base import PciAssignment
from node_agent.drivers.pci.claims import ClaimRecord, ClaimStore
from schemas.pci import PciDevice, PciDeviceStatus, PciDeviceType


class FakePci(JsonBackedFake):
    def __init__(self, state_dir: Path, devices: Sequence[PciDevice] = ()) -> None:
        super().__init__(state_dir, "pci")
        self.claims = ClaimStore(state_dir)
        table = self._table("devices")
        if not table and devices:
            for device in devices:
                table[device.address] = device.model_dump(mode="json")
            self._save()

    def _devices(self) -> tuple[PciDevice, ...]:
        table = self._table("devices")
        owners = self.claims.owners()
        devices = (PciDevice.model_validate(table[key]) for key in sorted(table))
        return tuple(
            d.model_copy(
                update={"status": PciDeviceStatus.CLAIMED, "instance_id": owners[d.address]}
            )
            if d.address in owners
            else d
            for d in devices
        )

    async def discover(self) -> tuple[PciDevice, ...]:
        await self.faults.checkpoint("discover")
        return self._devices()

    async def set_num_vfs(self, pf_address: str, count: int) -> tuple[PciDevice, ...]:
        await self.faults.checkpoint("set_num_vfs")
        table = self._table("devices")
        pf_data = table.get(pf_address)
        if pf_data is None:
            raise NotFoundError(f"no PCI device {pf_address}")
        pf = PciDevice.model_validate(pf_data)
        if pf.dev_type is not PciDeviceType.PF:
            raise InvalidStateError(f"{pf_address} is not an SR-IOV PF")
        for key in [k for k, v in table.items() if v.get("parent_addr") == pf_address]:
            del table[key]
        domain_bus, _, slot_fn = pf_address.rpartition(":")
        slot = int(slot_fn.split(".")[0], 16)
        for index in range(count):
            address = f"{domain_bus}:{slot + 1 + index // 8:02x}.{index % 8}"
            vf = PciDevice(
                address=address,
                vendor_id=pf.vendor_id,
                product_id=pf.product_id,
                dev_type=PciDeviceType.VF,
                parent_addr=pf_address,
                physical_network=pf.physical_network,
                numa_node=pf.numa_node,
            )
            table[address] = vf.model_dump(mode="json")
        self._save()
        return tuple(d for d in self._devices() if d.parent_addr == pf_address)

    async def assign(self, instance_id: UUID, devices: Sequence[PciAssignment]) -> None:
        await self.faults.checkpoint("assign")
        table, owners = self._table("devices"), self.claims.owners()
        for wanted in devices:
            if wanted.address not in table:
                raise NotFoundError(f"no PCI device {wanted.address}")
            owner = owners.get(wanted.address)
            if owner is not None and owner != instance_id:
                raise InvalidStateError(f"PCI device {wanted.address} is held by {owner}")
        self.claims.put(
            instance_id,
            tuple(ClaimRecord(address=d.address, mac=d.mac, vlan=d.vlan) for d in devices),
        )

    async def release(self, instance_id: UUID) -> tuple[str, ...]:
        await self.faults.checkpoint("release")
        records = self.claims.records(instance_id)
        self.claims.drop(instance_id)
        return tuple(record.address for record in records)

    async def watch(self, on_change: Callable[[], None]) -> None:
        return None

    async def close(self) -> None:
        return None
