"""The device spec: which of the host's PCI devices this agent offers (Nova's `[pci]
device_spec`), read from a YAML (or JSON) file given with `--pci-spec`:

    device_spec:
      - vendor_id: "8086"          # 4 hex digits or "*" (the default)
        product_id: "10ed"         # a VF's own product id
        address: "0000:01:*"       # glob over domain:bus:slot.function
        physical_network: physnet1 # what direct/macvtap ports on physnet1 may use
        trusted: false
      - devname: enp3s0f1          # a PF's netdev: the PF and all its VFs
        physical_network: physnet2
      - vendor_id: "10de"          # a whole device (a GPU), no network

A device is offered when an entry matches it (the first match gives its physical
network); with no file, nothing is offered. An address pattern is matched against the
full address and against it without the domain ("01:00.*" matches in any domain).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, StringConstraints

from node_agent.drivers.pci.scan import UdevPciDevice
from schemas.base import Model

IdPattern = Annotated[str, StringConstraints(pattern=r"^([0-9a-fA-F]{4}|\*)$", to_lower=True)]
AddressPattern = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-fA-F*?\[\]:.\-]+$", to_lower=True, max_length=64)
]


class SpecEntry(Model):
    vendor_id: IdPattern = "*"
    product_id: IdPattern = "*"
    address: AddressPattern | None = None
    devname: str | None = Field(None, min_length=1, max_length=15)
    physical_network: str | None = Field(None, min_length=1, max_length=64)
    trusted: bool = False

    def matches(self, device: UdevPciDevice, pf_netdev: str | None) -> bool:
        """Whether the entry selects `device` (`pf_netdev`: its PF's netdev for a VF)."""
        if self.vendor_id != "*" and self.vendor_id != device.vendor_id:
            return False
        if self.product_id != "*" and self.product_id != device.product_id:
            return False
        if self.address is not None:
            short = device.address.split(":", 1)[1]  # without the domain
            if not (fnmatchcase(device.address, self.address) or fnmatchcase(short, self.address)):
                return False
        if self.devname is not None:
            return self.devname in {device.netdev, pf_netdev}
        return True


class DeviceSpec(Model):
    device_spec: tuple[SpecEntry, ...] = ()

    def entry_for(self, device: UdevPciDevice, pf_netdev: str | None) -> SpecEntry | None:
        return next((e for e in self.device_spec if e.matches(device, pf_netdev)), None)


def load_spec(path: Path | None) -> DeviceSpec:
    """The spec in `path` (YAML or JSON); an empty spec when there is no file."""
    if path is None:
        return DeviceSpec()
    data = yaml.safe_load(path.read_text()) or {}
    return DeviceSpec.model_validate(data)
