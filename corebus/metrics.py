"""Prometheus metrics of the runtime (prometheus-client), served per process on the
configured port. Domain packages add their own metrics next to their code."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

from corebus.config import MetricsSettings

MESSAGES = Counter(
    "skymesh_messages_total",
    "Messages handled by a service, by method and outcome",
    ["service", "method", "kind", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "skymesh_handler_seconds",
    "Time spent in a handler",
    ["service", "method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEAD_LETTERS = Counter(
    "skymesh_dead_letters_total", "Messages refused to the dead-letter exchange", ["kind"]
)


def serve_metrics(settings: MetricsSettings) -> int | None:
    """Expose /metrics on the configured port (0: not served). Returns the port."""
    if settings.port == 0:
        return None
    start_http_server(settings.port, addr=settings.host)
    return settings.port
