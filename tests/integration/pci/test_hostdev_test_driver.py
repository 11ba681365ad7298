"""The claim's PCI devices as `<hostdev>` in the domain XML the agent builds, accepted
by libvirt's test driver (no VFIO on the test machines: QEMU could not start it)."""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from node_agent.drivers.hypervisor.domain_xml import build_domain_xml
from schemas.claims import Claim, PciClaim
from schemas.pci import PciDeviceType
from tests.unit.node_agent.factories import port, spawn

pytestmark = pytest.mark.integration


def test_hostdevs_of_the_claim_are_defined_and_run_on_the_test_driver() -> None:
    request = spawn(ports=(port(3),))
    claim = Claim(
        vcpus=1,
        memory_mb=256,
        pci_devices=(
            PciClaim(
                address="0000:81:10.2",
                vendor_id="8086",
                product_id="10ed",
                dev_type=PciDeviceType.VF,
                parent_addr="0000:81:00.0",
                port_id=request.ports[0].id,
            ),
            PciClaim(
                address="0000:82:00.0",
                vendor_id="10de",
                product_id="1eb8",
                dev_type=PciDeviceType.PCI,
            ),
        ),
    )
    request = request.model_copy(update={"claim": claim})
    with tempfile.TemporaryDirectory() as instance_dir:
        xml = build_domain_xml(
            request, "pci-host", domain_type="test", instance_dir=Path(instance_dir)
        )
    conn = libvirt.open("test:///default")
    domain = conn.defineXML(xml)
    try:
        domain.create()
        live = ET.fromstring(domain.XMLDesc(0))
    finally:
        if domain.isActive():
            domain.destroy()
        domain.undefine()
        conn.close()
    hostdevs = live.findall("./devices/hostdev")
    assert [(h.get("mode"), h.get("type"), h.get("managed")) for h in hostdevs] == [
        ("subsystem", "pci", "yes")
    ] * 2
    addresses = sorted(
        tuple(a.get(k) for k in ("domain", "bus", "slot", "function"))
        for a in live.findall("./devices/hostdev/source/address")
    )
    assert addresses == [("0x0000", "0x81", "0x10", "0x2"), ("0x0000", "0x82", "0x00", "0x0")]
