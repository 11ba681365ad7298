"""A node XML for libvirt's test driver, generated in the agent's state directory.

`test:///<path>` gives each agent its own simulated host (CPUs, memory) instead of the
process-wide `test:///default`. The test driver loads a fresh copy of the file on every
open, so the driver rewrites the file with its domains (and their run states) after
every change: restarting the agent then finds its domains again, as on a real host.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
ET.register_namespace("test", TEST_NS)
NODE_FILE = "libvirt-test-node.xml"


@dataclass(frozen=True)
class SimulatedNode:
    vcpus: int = 8
    memory_mb: int = 16384
    disk_gb: int = 200
    model: str = "skymesh-test"
    sockets: int = 1
    threads: int = 1


@dataclass(frozen=True)
class PersistedDomain:
    xml: str  # the inactive definition
    run_state: int  # virDomainState
    managed_save: bool = False


def node_xml(node: SimulatedNode, domains: list[PersistedDomain]) -> str:
    root = ET.Element("node")
    cpu = ET.SubElement(root, "cpu")
    cores = max(1, node.vcpus // (node.sockets * node.threads))
    for tag, value in (
        ("mhz", 2000),
        ("model", node.model),
        ("active", node.vcpus),
        ("total", node.vcpus),
        ("nodes", 1),
        ("sockets", node.sockets),
        ("cores", cores),
        ("threads", node.threads),
    ):
        ET.SubElement(cpu, tag).text = str(value)
    ET.SubElement(root, "memory").text = str(node.memory_mb * 1024)
    for domain in domains:
        root.append(_with_run_state(domain))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def _with_run_state(domain: PersistedDomain) -> ET.Element:
    element = ET.fromstring(domain.xml)
    for child in list(element):
        if child.tag.startswith(f"{{{TEST_NS}}}"):
            element.remove(child)
    ET.SubElement(element, f"{{{TEST_NS}}}runstate").text = str(domain.run_state)
    if domain.managed_save:
        ET.SubElement(element, f"{{{TEST_NS}}}hasmanagedsave").text = "yes"
    return element


def write_node(path: Path, node: SimulatedNode, domains: list[PersistedDomain]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(node_xml(node, domains))
    os.replace(tmp, path)


def uri_for(path: Path) -> str:
    return f"test://{path.resolve()}"
