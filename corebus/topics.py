"""AMQP topic matching, shared by the in-memory bus so both route by the same rules:
words are separated by dots, `*` matches exactly one word, `#` zero or more."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split(".")) if text else ()


def matches(pattern: str, topic: str) -> bool:
    return _match(_words(pattern), _words(topic))


@lru_cache(maxsize=65536)
def _match(pattern: tuple[str, ...], topic: tuple[str, ...]) -> bool:
    if not pattern:
        return not topic
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        # zero words, or swallow one and try again
        return _match(rest, topic) or (bool(topic) and _match(pattern, topic[1:]))
    if not topic:
        return False
    return (head == "*" or head == topic[0]) and _match(rest, topic[1:])


def validate_topic(topic: str) -> str:
    """A routing key to publish on: non-empty words, no wildcards."""
    words = topic.split(".")
    if not topic or any(not w or w in ("*", "#") for w in words) or len(topic) > 255:
        raise ValueError(f"invalid topic {topic!r}")
    return topic
