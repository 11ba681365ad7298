"""Handled messages show up on the Prometheus endpoint a service serves."""

import aiohttp

from corebus.client import Client
from corebus.config import MetricsSettings
from corebus.memory import InMemoryBus
from corebus.metrics import serve_metrics
from corebus.netports import free_port
from corebus.service import ServiceRunner
from tests.unit.corebus.test_service import Add, Calculator, Sum


def test_port_zero_serves_nothing() -> None:
    assert serve_metrics(MetricsSettings(port=0)) is None


async def test_handled_calls_are_counted_on_the_endpoint() -> None:
    port = serve_metrics(MetricsSettings(port=free_port()))
    bus = InMemoryBus()
    runner = ServiceRunner(bus, [Calculator()])
    await runner.start()
    await Client(bus).call("calc.add", Add(a=2, b=2), Sum)
    await runner.stop()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as resp,
    ):
        text = await resp.text()
    assert 'skymesh_messages_total{kind="call",method="add",outcome="ok",service="calc"}' in text
    assert "skymesh_handler_seconds_bucket" in text
