"""Which PCI devices this host has given to which instance, in a JSON state file of the
agent (`pci-claims.json`), so an agent restart still knows what to release and what to
report as claimed.

Each record keeps what release needs to undo the assignment without asking the
hardware again: the PF netdev and VF index whose MAC/VLAN were set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from uuid import UUID

from node_agent.state_file import JsonStateFile


@dataclass(frozen=True)
class ClaimRecord:
    address: str
    pf_netdev: str | None = None  # set when the VF's MAC/VLAN were set through it
    vf_index: int | None = None
    mac: str | None = None
    vlan: int | None = None


class ClaimStore:
    def __init__(self, state_dir: Path) -> None:
        self._file = JsonStateFile(state_dir / "pci-claims.json")

    def _load(self) -> dict[str, list[dict[str, object]]]:
        return self._file.load()

    def owners(self) -> dict[str, UUID]:
        """Device address -> the instance holding it."""
        return {
            str(record["address"]): UUID(instance)
            for instance, records in self._load().items()
            for record in records
        }

    def records(self, instance_id: UUID) -> tuple[ClaimRecord, ...]:
        raw = self._load().get(str(instance_id), [])
        return tuple(ClaimRecord(**record) for record in raw)  # type: ignore[arg-type]

    def put(self, instance_id: UUID, records: tuple[ClaimRecord, ...]) -> None:
        with self._file.locked():
            data = self._file.load()
            kept = {r["address"] for r in data.get(str(instance_id), [])}
            merged = [r for r in data.get(str(instance_id), [])]
            merged += [asdict(r) for r in records if r.address not in kept]
            data[str(instance_id)] = merged
            self._file.save(data)

    def drop(self, instance_id: UUID) -> None:
        with self._file.locked():
            data = self._file.load()
            if data.pop(str(instance_id), None) is not None:
                self._file.save(data)
