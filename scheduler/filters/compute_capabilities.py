"""Flavor extra specs `capabilities:KEY=REQ` (and unscoped ones) must match what the
host reports (Nova's ComputeCapabilitiesFilter): hypervisor_type, hypervisor_version,
cpu_arch, cpu_model, vcpus, memory_mb, disk_gb, and any extra capability the host
reports, with Nova's operators (`>= 64`, `s== QEMU`, `<in> avx2`, `<or> a <or> b`)."""

from __future__ import annotations

from collections.abc import Hashable

from scheduler.extra_specs_ops import match
from scheduler.filters import PASS, Verdict, by_group, reject
from scheduler.filters.extra_specs import scoped
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec

SCOPE = "capabilities"


def capabilities(host: HostState) -> dict[str, str]:
    """What the host reports, as strings (the operators compare strings or numbers)."""
    inv = host.inventory
    reported: dict[str, str | int | None] = {
        "hypervisor_type": inv.hypervisor_type,
        "hypervisor_version": host.facts.hypervisor_version,
        "cpu_arch": host.cpu_arch,
        "cpu_model": inv.cpu_model,
        "vcpus": inv.vcpus,
        "memory_mb": inv.memory_mb,
        "disk_gb": inv.disk_gb,
    }
    found = {key: str(value) for key, value in reported.items() if value is not None}
    return {**found, **host.facts.capabilities}


def _key(host: HostState) -> Hashable:
    return tuple(sorted(capabilities(host).items()))


class ComputeCapabilitiesFilter:
    name = "compute_capabilities"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        wanted = list(scoped(spec.flavor_extra_specs, SCOPE))
        if not wanted:
            return PASS
        caps = capabilities(host)
        for key, requirement in wanted:
            value = caps.get(key)
            if value is None:
                return reject(f"does not report {key} (the flavor asks {requirement!r})")
            if not match(value, requirement):
                return reject(f"{key}={value} does not match {requirement!r}")
        return PASS

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        if not any(True for _ in scoped(spec.flavor_extra_specs, SCOPE)):
            return rows
        return by_group(self, index, spec, rows, _key)
