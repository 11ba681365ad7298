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


async def test_a_kick_runs_the_work_now_and_kicks_during_a_run_coalesce() -> None:
    calls: list[int] = []
    running = asyncio.Event()

    async def work() -> None:
        calls.append(1)
        running.set()
        await asyncio.sleep(0.05)

    periodic = Periodic("test", 3600, work)
    await periodic.start()
    await running.wait()
    periodic.kick()  # during the first run: one more run once it ends
    periodic.kick()
    await asyncio.sleep(0.2)
    assert len(calls) == 2
    periodic.kick()  # idle: runs at once, not in an hour
    await asyncio.sleep(0.1)
    assert len(calls) == 3
    await periodic.stop()
