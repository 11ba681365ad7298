import asyncio

from corebus.periodic import Periodic


async def test_runs_repeatedly_survives_failures_and_stops() -> None:
    calls: list[int] = []

    async def work() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("one bad round")

    periodic = Periodic("test", 0.01, work)
    await periodic.start()
    await asyncio.sleep(0.1)
    await periodic.stop()
    seen = len(calls)
    assert seen >= 4  # the failure did not end the loop
    await asyncio.sleep(0.05)
    assert len(calls) == seen  # stopped means stopped
