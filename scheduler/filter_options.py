"""What a deployment can tune in the filters that take options (the `[scheduler]`
section's `filter_options`), passed to each filter's constructor by the registry."""

from __future__ import annotations

from pydantic import Field

from corebus.config import Section


class FilterOptions(Section):
    max_io_ops_per_host: int = Field(8, ge=0)  # io_ops: Nova's default
    max_instances_per_host: int = Field(50, ge=0)  # num_instances: Nova's default
