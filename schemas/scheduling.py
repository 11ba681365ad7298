"""What a scheduler knows of a host beyond its inventory and usage: the metadata of its
aggregates, its hypervisor version and CPU architecture, extra capabilities, and the
work in flight on it (IO operations, builds that failed there recently).

The conductor's host view sends them with each host (`HostSnapshot.facts`, reply
version 2); a host without them is planned on as "unknown / none".
"""

from __future__ import annotations

from pydantic import Field

from schemas.base import Model
from schemas.types import NonNegInt


class HostFacts(Model):
    aggregate_metadata: dict[str, dict[str, str]] = Field(default_factory=dict)
    hypervisor_version: NonNegInt | None = None  # e.g. 8002000 for QEMU 8.2.0
    cpu_arch: str | None = Field(None, max_length=32)  # e.g. x86_64 (else from HW_ARCH_*)
    capabilities: dict[str, str] = Field(default_factory=dict)
    io_ops: NonNegInt = 0  # instances with a task in flight (building, resizing, ...)
    failed_builds: NonNegInt = 0  # builds that failed here since the last success


NO_FACTS = HostFacts()
