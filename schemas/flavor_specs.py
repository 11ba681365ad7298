"""From a flavor (extra specs), image properties and SR-IOV ports to a ResourceRequest.

The conductor builds the RequestSpec with this and the scheduler never re-parses specs:
- disk: root (unless booting from volume) + ephemeral + swap rounded up to GB (Nova's DISK_GB)
- hw:cpu_policy / hw_cpu_policy: dedicated pins every vCPU (implies one NUMA cell)
- hw:numa_nodes / hw_numa_nodes: a symmetric split, or hw:numa_cpus.N + hw:numa_mem.N
- pci_passthrough:alias: devices by alias; hw:pci_numa_affinity_policy (or the image's
  hw_pci_numa_affinity_policy) overrides each alias' and port's policy
- trait:NAME=required|forbidden: traits for the scheduler
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from schemas.claims import ResourceRequest
from schemas.compute import Flavor
from schemas.numa import CpuPolicy, NumaCellRequest, NumaRequest
from schemas.pci import PciAlias, PciNumaAffinity, PciRequest, parse_alias_spec


def _spec(flavor: Flavor, image: Mapping[str, str], key: str) -> str | None:
    """A flavor extra spec `hw:<key>`, else the image property `hw_<key>`."""
    return flavor.extra_specs.get(f"hw:{key}") or image.get(f"hw_{key}")


def _cpu_count(spec: str) -> int:
    """How many CPUs a hw:numa_cpus.N value ("0,1", "0-3,^2") names."""
    cpus: set[int] = set()
    excluded: set[int] = set()
    for part in filter(None, (item.strip() for item in spec.split(","))):
        target = excluded if part.startswith("^") else cpus
        low, _, high = part.lstrip("^").partition("-")
        target.update(range(int(low), int(high or low) + 1))
    return len(cpus - excluded)


def numa_request(flavor: Flavor, image: Mapping[str, str] | None = None) -> NumaRequest | None:
    """The guest NUMA topology the flavor and image ask for, or None."""
    image = image or {}
    policy = CpuPolicy(_spec(flavor, image, "cpu_policy") or CpuPolicy.SHARED)
    nodes_spec = _spec(flavor, image, "numa_nodes")
    if nodes_spec is None and policy is CpuPolicy.SHARED:
        return None
    nodes = int(nodes_spec or 1)
    cpu_specs = [flavor.extra_specs.get(f"hw:numa_cpus.{i}") for i in range(nodes)]
    mem_specs = [flavor.extra_specs.get(f"hw:numa_mem.{i}") for i in range(nodes)]
    if not any(cpu_specs) and not any(mem_specs):
        return NumaRequest.split(flavor.vcpus, flavor.memory_mb, nodes, policy)
    if not all(cpu_specs) or not all(mem_specs):
        raise ValueError(f"give hw:numa_cpus.N and hw:numa_mem.N for every node 0..{nodes - 1}")
    cells = tuple(
        NumaCellRequest(cpus=_cpu_count(str(c)), memory_mb=int(str(m)))
        for c, m in zip(cpu_specs, mem_specs, strict=True)
    )
    request = NumaRequest(cells=cells, cpu_policy=policy)
    if request.vcpus != flavor.vcpus or request.memory_mb != flavor.memory_mb:
        raise ValueError(
            "hw:numa_cpus.N and hw:numa_mem.N must add up to the flavor's vcpus and memory_mb"
        )
    return request


def pci_requests(
    flavor: Flavor,
    aliases: Mapping[str, PciAlias],
    ports: Sequence[PciRequest] = (),
    image: Mapping[str, str] | None = None,
) -> tuple[PciRequest, ...]:
    """Alias requests of the flavor, then the ports' requests, with the policy override."""
    spec = flavor.extra_specs.get("pci_passthrough:alias")
    requests = (*(parse_alias_spec(spec, dict(aliases)) if spec else ()), *ports)
    override = _spec(flavor, image or {}, "pci_numa_affinity_policy")
    if override is None:
        return tuple(requests)
    policy = PciNumaAffinity(override)
    return tuple(request.model_copy(update={"numa_policy": policy}) for request in requests)


def disk_gb(flavor: Flavor, boots_from_volume: bool = False) -> int:
    root = 0 if boots_from_volume else flavor.disk_gb
    return root + flavor.ephemeral_gb + math.ceil(flavor.swap_mb / 1024)


def resource_request(
    flavor: Flavor,
    aliases: Mapping[str, PciAlias] | None = None,
    ports: Sequence[PciRequest] = (),
    image: Mapping[str, str] | None = None,
    boots_from_volume: bool = False,
) -> ResourceRequest:
    """Everything one instance of `flavor` takes of a host (ValueError on bad specs)."""
    return ResourceRequest(
        vcpus=flavor.vcpus,
        memory_mb=flavor.memory_mb,
        disk_gb=disk_gb(flavor, boots_from_volume),
        pci=pci_requests(flavor, aliases or {}, ports, image),
        numa=numa_request(flavor, image),
    )


def traits(
    flavor: Flavor, image: Mapping[str, str] | None = None
) -> tuple[frozenset[str], frozenset[str]]:
    """(required, forbidden) traits from trait:NAME specs and image properties."""
    required: set[str] = set()
    forbidden: set[str] = set()
    specs = {**(image or {}), **flavor.extra_specs}
    for key, value in specs.items():
        if key.startswith("trait:") and value in ("required", "forbidden"):
            (required if value == "required" else forbidden).add(key.removeprefix("trait:"))
    return frozenset(required), frozenset(forbidden)
