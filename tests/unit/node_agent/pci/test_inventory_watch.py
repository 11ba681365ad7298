"""InventoryWatch: device changes from the PCI driver become inventory reports, one per
burst, never lost while a report runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from node_agent.drivers.pci.fake import FakePci
from node_agent.services.compute_pci import InventoryWatch


class Watched(FakePci):
    on_change: Callable[[], None] | None = None
    closed = False

    async def watch(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    async def close(self) -> None:
        self.closed = True


async def test_changes_during_a_report_cause_one_more_report(tmp_path: Path) -> None:
    pci = Watched(tmp_path)
    reports = 0
    release = asyncio.Event()

    async def report() -> None:
        nonlocal reports
        reports += 1
        await release.wait()

    watch = InventoryWatch(pci, report)
    await watch.start()
    assert pci.on_change is not None
    pci.on_change()
    await asyncio.sleep(0)
    pci.on_change()  # while the first report runs
    pci.on_change()
    release.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert reports == 2
    pci.on_change()
    for _ in range(10):
        await asyncio.sleep(0)
    assert reports == 3
    await watch.close()
    assert pci.closed


async def test_a_failing_report_does_not_stop_the_watch(tmp_path: Path) -> None:
    pci = Watched(tmp_path)
    calls = 0

    async def report() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("bus down")

    watch = InventoryWatch(pci, report)
    await watch.start()
    assert pci.on_change is not None
    pci.on_change()
    await asyncio.sleep(0.01)
    pci.on_change()
    await asyncio.sleep(0.01)
    assert calls == 2
    await watch.close()
