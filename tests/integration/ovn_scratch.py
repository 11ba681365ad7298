"""What one test creates on a shared OVN stack, removed again when the test ends."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from tests.integration.ovn_stack import Chassis, Guest, OvnStack, plug_guest


@dataclass
class OvnScratch:
    guests: list[Guest] = field(default_factory=list)
    rows: list[tuple[OvnStack, str, str]] = field(default_factory=list)  # stack, table, uuid

    def switch(self, stack: OvnStack) -> str:
        """A new logical switch with a name no other test uses."""
        name = f"ls-{uuid.uuid4().hex[:8]}"
        row = stack.nbctl("create", "Logical_Switch", f"name={name}")
        self.rows.append((stack, "Logical_Switch", row.strip()))
        return name

    def port(self, stack: OvnStack, switch: str, mac: str, ip: str) -> str:
        """A logical switch port with addresses "MAC IP" and port security on them."""
        lsp = f"{switch}-{ip}"
        stack.nbctl(
            "lsp-add",
            switch,
            lsp,
            "--",
            "lsp-set-addresses",
            lsp,
            f"{mac} {ip}",
            "--",
            "lsp-set-port-security",
            lsp,
            f"{mac} {ip}",
        )
        return lsp

    def dhcp_options(self, stack: OvnStack, cidr: str, **options: str) -> str:
        args = [f'options:{k}="{v}"' for k, v in options.items()]
        row = stack.nbctl("create", "DHCP_Options", f"cidr={cidr}", *args).strip()
        self.rows.append((stack, "DHCP_Options", row))
        return row

    def guest(
        self, stack: OvnStack, chassis: Chassis, lsp: str, mac: str, cidr: str | None = None
    ) -> Guest:
        guest = plug_guest(stack, chassis, lsp, mac, cidr)
        self.guests.append(guest)
        return guest

    def cleanup(self) -> None:
        """Guests first (their OVS ports and namespaces), then the NB rows, newest first."""
        errors = []
        for guest in reversed(self.guests):
            try:
                guest.remove()
            except Exception as exc:
                errors.append(exc)
        for stack, table, row in reversed(self.rows):
            try:
                stack.nbctl("--if-exists", "destroy", table, row)
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise ExceptionGroup("cleaning up after the test failed", errors)
