"""Errors a driver raises. They stay inside the agent: handlers turn them into facts
(spawn_failed, action_failed, volume.failed) or into wire errors for calls."""

from __future__ import annotations


class DriverError(Exception):
    """A driver operation failed. `retryable`: trying again (or on another host) may work."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class TransientError(DriverError):
    """A failure that may go away by itself (a busy hypervisor, a lost connection)."""

    retryable = True


class NotFoundError(DriverError):
    """The resource (domain, port, volume) does not exist on this host."""


class InvalidStateError(DriverError):
    """The resource exists but is in a state that does not allow the operation."""


class NotSupportedError(DriverError):
    """The driver cannot do this at all (e.g. hot-plug on libvirt's test driver)."""
