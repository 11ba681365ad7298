"""Base classes every skymesh contract derives from.

`Resource` models describe rows a user can see (flavors, instances, ports, ...).
`Message` models travel on the bus; each carries a name and a version, and every
concrete message registers itself so the runtime can look it up by name and the
fingerprint test can watch its fields.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, field_serializer


class Model(BaseModel):
    """Frozen, strict about unknown fields: bad input is refused, not silently dropped.
    Sets serialize as sorted lists, so the same model always gives the same JSON
    (set iteration order changes with the interpreter's hash seed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_serializer("*", mode="wrap")
    def _sorted_sets(self, value: Any, handler: SerializerFunctionWrapHandler) -> Any:
        dumped = handler(value)
        if isinstance(value, (set, frozenset)) and isinstance(dumped, list):
            return sorted(dumped, key=str)
        return dumped


class Resource(Model):
    """A resource as the control plane stores and shows it."""


MESSAGES: dict[str, type[Message]] = {}


class Message(Model):
    """A versioned bus message. Bump `message_version` whenever the fields change."""

    message_name: ClassVar[str] = ""
    message_version: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.__dict__.get("message_name")
        if not name:
            return  # an abstract intermediate class
        if name in MESSAGES and MESSAGES[name].__qualname__ != cls.__qualname__:
            raise TypeError(f"message name {name!r} is used by {MESSAGES[name]!r} already")
        MESSAGES[name] = cls


def message_type(name: str) -> type[Message]:
    """The registered message model called `name` (KeyError when unknown)."""
    return MESSAGES[name]
