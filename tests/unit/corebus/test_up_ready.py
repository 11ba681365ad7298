"""When `skymesh up` cannot get ready it says why: what it was waiting for, which process
exited, and the last lines of the logs of the processes concerned."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from corebus.config import Settings
from corebus.launcher import ProcessSpec
from corebus.memory import InMemoryBus
from corebus.up_ready import Readiness, log_tail
from schemas.errors import SkymeshError

SPECS = [
    ProcessSpec("conductor", ("conductor",)),
    ProcessSpec("conductor-2", ("conductor",)),
    ProcessSpec("scheduler", ("scheduler",)),
    ProcessSpec("gateway", ("gateway",)),
    ProcessSpec("compute-1", ("agent", "--host", "compute-1")),
]


def _logs(home: Path, **contents: str) -> None:
    (home / "logs").mkdir()
    for name, text in contents.items():
        (home / "logs" / f"{name.replace('_', '-')}.log").write_text(text)


async def test_a_timeout_names_what_it_waited_for_and_shows_the_logs(tmp_path: Path) -> None:
    _logs(tmp_path, conductor="".join(f"line {n}\n" for n in range(40)), conductor_2="")
    readiness = Readiness(Settings(home=tmp_path), SPECS, bus=InMemoryBus(call_timeout=0.1))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(readiness.wait(), 0.5)
    told = readiness.explain_timeout(0.5).splitlines()
    assert told[0] == "timed out after 0 s waiting for a conductor to answer"
    first = told.index("--- last lines of conductor's log ---")
    assert told[first + 1 : first + 16] == [f"line {n}" for n in range(25, 40)]
    assert told[-2:] == ["--- last lines of conductor-2's log ---", "(empty)"]


async def test_a_process_that_exits_ends_the_wait_at_once(tmp_path: Path) -> None:
    _logs(tmp_path, gateway="OSError: [Errno 98] address already in use\n")

    async def gateway_exits() -> tuple[str, int]:
        await asyncio.sleep(0.1)
        return "gateway", 1

    readiness = Readiness(Settings(home=tmp_path), SPECS, bus=InMemoryBus(call_timeout=0.1))
    with pytest.raises(SkymeshError) as caught:
        await asyncio.wait_for(readiness.wait(gateway_exits()), 5)
    assert str(caught.value).splitlines() == [
        "gateway exited with code 1 while waiting for a conductor to answer",
        "--- last lines of gateway's log ---",
        "OSError: [Errno 98] address already in use",
    ]


def test_there_is_no_tail_without_a_log_file(tmp_path: Path) -> None:
    assert log_tail(tmp_path / "nope.log") is None
