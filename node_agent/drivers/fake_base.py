"""What every JSON-backed fake shares: fault injection and tables kept in a state file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from node_agent.drivers.faults import FaultInjector
from node_agent.state_file import JsonStateFile


class JsonBackedFake:
    def __init__(self, state_dir: Path, area: str) -> None:
        self.faults = FaultInjector()
        self._file = JsonStateFile(state_dir / f"fake-{area}.json")
        with self._file.locked():
            self._data: dict[str, Any] = self._file.load()

    def _table(self, name: str) -> dict[str, Any]:
        table: dict[str, Any] = self._data.setdefault(name, {})
        return table

    def _save(self) -> None:
        with self._file.locked():
            self._file.save(self._data)
