"""Filters: one per module, pure and synchronous. A filter says whether a host may take
one instance of a request: `PASS`, or a `Verdict` with the reason it may not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from scheduler.host_state import HostState
from schemas.messages.scheduler import RequestSpec


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.passed


PASS = Verdict(True)


def reject(reason: str) -> Verdict:
    return Verdict(False, reason)


class Filter(Protocol):
    name: str

    def host_passes(self, host: HostState, spec: RequestSpec) -> Verdict: ...
