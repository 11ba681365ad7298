"""The scheduler's settings (the `[scheduler]` section once wired into corebus.config).

Every filter can be switched off by leaving it out of `filters`, and every weigher by
leaving it out of `weighers` or giving it multiplier 0; the sign of a multiplier chooses
spreading (positive, for the free-capacity weighers) or packing (negative).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from corebus.config import Section
from scheduler.filter_options import FilterOptions
from scheduler.registry import DEFAULT_FILTERS, DEFAULT_WEIGHERS, FILTERS, WEIGHERS


class SchedulerSettings(Section):
    filters: tuple[str, ...] = DEFAULT_FILTERS
    filter_options: FilterOptions = FilterOptions()
    weighers: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHERS))
    max_attempts: int = Field(3, ge=1)  # a primary and max_attempts - 1 alternates
    plan_rounds: int = Field(5, ge=1)  # applies tried when plans conflict
    retry_backoff_s: float = Field(0.02, ge=0)  # jittered, grows with each round
    host_subset_size: int = Field(1, ge=1)  # choose at random among the best N hosts
    call_timeout_s: float | None = Field(None, gt=0)
    # how old the cached host view may be before a plan fetches it again (0: always);
    # the conductor's apply re-checks every host, so a stale view costs a retry at most
    host_view_max_age_s: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _known(self) -> SchedulerSettings:
        unknown = [f for f in self.filters if f not in FILTERS]
        unknown += [w for w in self.weighers if w not in WEIGHERS]
        if unknown:
            raise ValueError(f"unknown filters or weighers: {unknown}")
        if len(set(self.filters)) != len(self.filters):
            raise ValueError(f"a filter is listed twice: {list(self.filters)}")
        return self
