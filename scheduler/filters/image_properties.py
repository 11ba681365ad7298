"""The image's architecture, hypervisor type and required hypervisor version suit the
host (Nova's ImagePropertiesFilter): `hw_architecture` (or `architecture`), `img_hv_type`
(or `hypervisor_type`), `img_hv_requested_version` (or `hypervisor_version_requires`,
e.g. ">= 8.0" or ">=8000000"). A host that does not report what the image asks about is
refused, since nothing says it would work."""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping

from scheduler.extra_specs_ops import match
from scheduler.filters import PASS, Verdict, by_group, reject
from scheduler.host_index import HostIndex, Rows
from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec

_ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "i386": "i686"}
_VERSION = re.compile(r"^\s*(==|!=|>=|<=|=)?\s*([0-9][0-9.]*)\s*$")


def _arch(value: str) -> str:
    lowered = value.lower()
    return _ARCH_ALIASES.get(lowered, lowered)


def version_number(text: str) -> int:
    """Nova's integer version: "8.2.0" -> 8002000; a plain integer stays as it is."""
    if "." not in text:
        return int(text)
    parts = [int(part) for part in text.split(".")][:3]
    parts += [0] * (3 - len(parts))
    return parts[0] * 1_000_000 + parts[1] * 1_000 + parts[2]


def _wanted(props: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    arch = props.get("hw_architecture") or props.get("architecture")
    hv_type = props.get("img_hv_type") or props.get("hypervisor_type")
    version = props.get("img_hv_requested_version") or props.get("hypervisor_version_requires")
    return arch, hv_type, version


def _version_ok(requirement: str, reported: int) -> bool:
    parsed = _VERSION.match(requirement)
    if parsed is None:
        return match(str(reported), requirement)
    op, number = parsed.group(1) or ">=", parsed.group(2)
    return match(str(reported), f"{op} {version_number(number)}")


def _key(host: HostState) -> Hashable:
    return host.cpu_arch, host.inventory.hypervisor_type.lower(), host.facts.hypervisor_version


class ImagePropertiesFilter:
    name = "image_properties"

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict:
        arch, hv_type, version = _wanted(spec.image_properties)
        if arch is not None:
            reported = host.cpu_arch
            if reported is None or _arch(reported) != _arch(arch):
                return reject(f"architecture {reported or 'unknown'}, the image needs {arch}")
        if hv_type is not None and host.inventory.hypervisor_type.lower() != hv_type.lower():
            return reject(f"hypervisor {host.inventory.hypervisor_type}, the image needs {hv_type}")
        if version is not None:
            hv_version = host.facts.hypervisor_version
            if hv_version is None or not _version_ok(version, hv_version):
                return reject(
                    f"hypervisor version {hv_version if hv_version is not None else 'unknown'}, "
                    f"the image needs {version}"
                )
        return PASS

    def passing(self, index: HostIndex, spec: RequestSpec, rows: Rows) -> Rows:
        if _wanted(spec.image_properties) == (None, None, None):
            return rows
        return by_group(self, index, spec, rows, _key)
