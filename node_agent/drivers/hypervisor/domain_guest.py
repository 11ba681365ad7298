"""The guest-shaping parts of a domain definition that depend on the flavor and the claim:
NUMA cells, CPU pinning, hugepages, PCI host devices, and the direct kernel boot.

- NUMA: one guest `<cell>` per `Claim.numa_cells` entry, its vCPUs numbered in order
  (cell 0 gets vCPUs 0..n-1, cell 1 the next ones), each cell's memory bound (`strict`) to
  its host cell through `<numatune>`.
- Pinning: a cell with `pinned_cpus` (a dedicated-CPU flavor) pins its vCPUs one to one
  onto those host CPUs, in ascending order, through `<cputune><vcpupin>`; the emulator
  threads run on the union of the pinned CPUs.
- Hugepages: `hw:mem_page_size` = `large` asks for the host's default huge page size,
  a size (`2048`, `2MB`, `1GB`; KiB without a unit) for that size, on every guest cell;
  `small` and `any` keep normal pages (as Nova does when it has no huge pages to give).
- PCI devices of the claim (whole devices, PFs, VFs) become `<hostdev mode='subsystem'
  type='pci' managed='yes'>`: libvirt binds them to vfio-pci while the guest runs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from schemas.claims import Claim, PciClaim
from schemas.compute import Flavor

_SIZE = re.compile(r"^([1-9][0-9]*)(KB|MB|GB)?$")
_KIB = {None: 1, "KB": 1, "MB": 1024, "GB": 1024 * 1024}


@dataclass(frozen=True)
class DirectBoot:
    """A kernel and initramfs booted directly (no boot loader), with its command line."""

    kernel: Path
    initrd: Path | None = None
    cmdline: str = "console=ttyS0"


def page_size_kib(flavor: Flavor) -> int | None:
    """The huge page size the flavor asks for in KiB, 0 for the host's default size, None
    for normal pages."""
    value = flavor.extra_specs.get("hw:mem_page_size", "small")
    if value in ("small", "any"):
        return None
    if value == "large":
        return 0
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"hw:mem_page_size {value!r} is not a page size")
    return int(match.group(1)) * _KIB[match.group(2)]


def _cpuset(cpus: list[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))


def add_numa(dom: ET.Element, claim: Claim, flavor: Flavor) -> None:
    """`<cputune>`, `<numatune>`, `<cpu><numa>` and `<memoryBacking>` from the claim's
    NUMA cells and the flavor's page size (nothing when the claim has no cells and the
    flavor asks for normal pages)."""
    page_kib = page_size_kib(flavor)
    cells = sorted(claim.numa_cells, key=lambda cell: cell.guest_cell)
    if cells:
        cputune = ET.Element("cputune")
        numatune = ET.Element("numatune")
        cpu = ET.Element("cpu")
        numa = ET.SubElement(cpu, "numa")
        host_cells = sorted({cell.host_cell for cell in cells})
        ET.SubElement(numatune, "memory", mode="strict", nodeset=_cpuset(host_cells))
        next_vcpu = 0
        pinned_all: list[int] = []
        for cell in cells:
            vcpus = list(range(next_vcpu, next_vcpu + cell.cpus))
            next_vcpu += cell.cpus
            memory = cell.memory_mb or flavor.memory_mb // len(cells)
            ET.SubElement(
                numa,
                "cell",
                id=str(cell.guest_cell),
                cpus=_cpuset(vcpus),
                memory=str(memory),
                unit="MiB",
            )
            ET.SubElement(
                numatune,
                "memnode",
                cellid=str(cell.guest_cell),
                mode="strict",
                nodeset=str(cell.host_cell),
            )
            for vcpu, host_cpu in zip(vcpus, sorted(cell.pinned_cpus), strict=False):
                ET.SubElement(cputune, "vcpupin", vcpu=str(vcpu), cpuset=str(host_cpu))
                pinned_all.append(host_cpu)
        if pinned_all:
            ET.SubElement(cputune, "emulatorpin", cpuset=_cpuset(pinned_all))
            _insert_after(dom, "vcpu", cputune)
        _insert_after(dom, "cputune" if pinned_all else "vcpu", numatune)
        dom.append(cpu)
    if page_kib is not None:
        backing = ET.Element("memoryBacking")
        pages = ET.SubElement(backing, "hugepages")
        if page_kib:
            attrs = {"size": str(page_kib), "unit": "KiB"}
            if cells:
                attrs["nodeset"] = _cpuset([cell.guest_cell for cell in cells])
            ET.SubElement(pages, "page", attrs)
        _insert_after(dom, "vcpu", backing)


def _insert_after(dom: ET.Element, tag: str, element: ET.Element) -> None:
    children = list(dom)
    position = next((i for i, el in enumerate(children) if el.tag == tag), len(children) - 1)
    dom.insert(position + 1, element)


def hostdev_element(device: PciClaim) -> ET.Element:
    """A PCI device passed through whole, by its address ("0000:81:00.1")."""
    domain, bus, rest = device.address.split(":")
    slot, function = rest.split(".")
    hostdev = ET.Element("hostdev", mode="subsystem", type="pci", managed="yes")
    source = ET.SubElement(hostdev, "source")
    ET.SubElement(
        source,
        "address",
        domain=f"0x{domain}",
        bus=f"0x{bus}",
        slot=f"0x{slot}",
        function=f"0x{function}",
    )
    return hostdev


def add_direct_boot(os_el: ET.Element, boot: DirectBoot) -> None:
    ET.SubElement(os_el, "kernel").text = str(boot.kernel)
    if boot.initrd is not None:
        ET.SubElement(os_el, "initrd").text = str(boot.initrd)
    ET.SubElement(os_el, "cmdline").text = boot.cmdline
