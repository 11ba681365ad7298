"""The flavor extra specs a filter checks: those in its scope (`scope:key`) and, as Nova
does, those with no scope at all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping


def scoped(extra_specs: Mapping[str, str], scope: str) -> Iterator[tuple[str, str]]:
    """(key without the scope, requirement) for each spec of `scope` or of none."""
    for key, requirement in sorted(extra_specs.items()):
        prefix, sep, rest = key.partition(":")
        if not sep:
            yield key, requirement
        elif prefix == scope:
            yield rest, requirement
