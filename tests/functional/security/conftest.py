"""Fixtures of the security tests: the gateway tests' per-test cloud."""

from tests.functional.gateway.conftest import cloud, cloud_dsn  # noqa: F401
from tests.functional.mesh.conftest import deployment  # noqa: F401
