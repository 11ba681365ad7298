"""Turning flavors, image properties and SR-IOV ports into resource requests."""

from __future__ import annotations

import pytest

from schemas.compute import Flavor
from schemas.flavor_specs import numa_request, resource_request, traits
from schemas.numa import CpuPolicy
from schemas.pci import PciAlias, PciNumaAffinity, PciRequest
from tests.unit.schemas.samples import uid

GPU = PciAlias(name="gpu", vendor_id="10de", product_id="1db4", numa_policy="required")


def flavor(vcpus: int = 4, memory_mb: int = 4096, **specs: str) -> Flavor:
    return Flavor(
        id=uid(1),
        name="f",
        vcpus=vcpus,
        memory_mb=memory_mb,
        disk_gb=20,
        ephemeral_gb=5,
        swap_mb=1500,
        extra_specs={
            key.replace("__", ":").replace("_DOT_", "."): value for key, value in specs.items()
        },
    )


def test_plain_flavor() -> None:
    request = resource_request(flavor())
    assert (request.vcpus, request.memory_mb, request.disk_gb) == (4, 4096, 27)
    assert request.numa is None and request.pci == ()
    assert resource_request(flavor(), boots_from_volume=True).disk_gb == 7


def test_dedicated_implies_one_cell() -> None:
    request = resource_request(flavor(hw__cpu_policy="dedicated"))
    assert request.numa is not None and len(request.numa.cells) == 1
    assert request.dedicated and request.shared_vcpus == 0


def test_symmetric_and_asymmetric_numa() -> None:
    two = numa_request(flavor(hw__numa_nodes="2"))
    assert two is not None and [c.cpus for c in two.cells] == [2, 2]
    assert two.cpu_policy is CpuPolicy.SHARED
    uneven = numa_request(
        flavor(
            hw__numa_nodes="2",
            hw__numa_cpus_DOT_0="0-2,^1,3",
            hw__numa_cpus_DOT_1="1",
            hw__numa_mem_DOT_0="3072",
            hw__numa_mem_DOT_1="1024",
        )
    )
    assert uneven is not None
    assert [(c.cpus, c.memory_mb) for c in uneven.cells] == [(3, 3072), (1, 1024)]
    with pytest.raises(ValueError, match="add up"):
        numa_request(
            flavor(
                hw__numa_nodes="2",
                hw__numa_cpus_DOT_0="0",
                hw__numa_cpus_DOT_1="1",
                hw__numa_mem_DOT_0="1024",
                hw__numa_mem_DOT_1="1024",
            )
        )
    with pytest.raises(ValueError, match="every node"):
        numa_request(flavor(hw__numa_nodes="2", hw__numa_cpus_DOT_0="0-1"))
    with pytest.raises(ValueError, match="evenly"):
        numa_request(flavor(vcpus=3, hw__numa_nodes="2"))


def test_image_properties_count_when_the_flavor_is_silent() -> None:
    request = numa_request(flavor(), {"hw_cpu_policy": "dedicated", "hw_numa_nodes": "2"})
    assert request is not None and request.cpu_policy is CpuPolicy.DEDICATED
    assert len(request.cells) == 2


def test_pci_aliases_ports_and_policy_override() -> None:
    port = PciRequest.for_port(uid(9), "direct", "physnet1")
    request = resource_request(flavor(pci_passthrough__alias="gpu:2"), {"gpu": GPU}, (port,))
    assert [(r.count, r.numa_policy) for r in request.pci] == [(2, "required"), (1, "legacy")]
    overridden = resource_request(
        flavor(pci_passthrough__alias="gpu:2", hw__pci_numa_affinity_policy="socket"),
        {"gpu": GPU},
        (port,),
    )
    assert {r.numa_policy for r in overridden.pci} == {PciNumaAffinity.SOCKET}
    with pytest.raises(ValueError, match="unknown PCI alias"):
        resource_request(flavor(pci_passthrough__alias="fpga"), {"gpu": GPU})


def test_traits() -> None:
    required, forbidden = traits(
        flavor(**{"trait__HW_CPU_X86_AVX2": "required", "trait__CUSTOM_SLOW": "forbidden"}),
        {"trait:CUSTOM_IMG": "required", "trait:CUSTOM_ODD": "?"},
    )
    assert required == {"HW_CPU_X86_AVX2", "CUSTOM_IMG"} and forbidden == {"CUSTOM_SLOW"}
