"""One agent's configuration, parsed once (from the command line today; from an
`[agent]` settings section later) and passed to the constructors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from node_agent.drivers.hypervisor.sim_node import SimulatedNode
from node_agent.drivers.real_options import RealOptions
from node_agent.drivers.registry import DriverChoice, DriverContext
from schemas.placement import HostRole

ROLE_ORDER = (HostRole.COMPUTE, HostRole.NETWORK, HostRole.STORAGE)


@dataclass(frozen=True)
class AgentConfig:
    host: str
    roles: frozenset[HostRole]
    state_dir: Path
    drivers: DriverChoice = field(default_factory=DriverChoice)
    max_concurrent_builds: int = 10
    availability_zone: str | None = None
    libvirt_uri: str | None = None  # for --hypervisor test: None means a simulated node
    node: SimulatedNode = field(default_factory=SimulatedNode)
    call_timeout_s: float = 10.0
    real: RealOptions = field(default_factory=RealOptions)

    def __post_init__(self) -> None:
        if not self.roles:
            raise ValueError("an agent needs at least one role")
        if self.max_concurrent_builds < 1:
            raise ValueError("max_concurrent_builds must be at least 1")

    @property
    def primary_role(self) -> HostRole:
        """The role that routes host-level facts (snapshot): the first it has of
        compute, network, storage."""
        return next(role for role in ROLE_ORDER if role in self.roles)

    @property
    def driver_context(self) -> DriverContext:
        return DriverContext(self.host, self.state_dir, self.libvirt_uri, self.node, self.real)
