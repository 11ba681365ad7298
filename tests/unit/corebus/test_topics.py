import pytest

from corebus.topics import matches, validate_topic


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("a.b.c", "a.b.c", True),
        ("a.b.c", "a.b", False),
        ("a.*.c", "a.x.c", True),
        ("a.*.c", "a.x.y.c", False),
        ("a.*", "a", False),
        ("a.#", "a", True),
        ("a.#", "a.b.c.d", True),
        ("#.c", "c", True),
        ("#.c", "a.b.c", True),
        ("#.c", "a.b.d", False),
        ("a.#.d", "a.d", True),
        ("a.#.d", "a.b.c.d", True),
        ("a.#.d", "a.b.c.e", False),
        ("#", "anything.at.all", True),
        ("*", "one", True),
        ("*", "one.two", False),
        ("*.#", "one", True),
        ("compute.*.instance.#", "compute.h1.instance", True),
        ("compute.*.instance.#", "compute.h1.port", False),
        ("#.#", "x", True),
    ],
)
def test_amqp_topic_rules(pattern: str, topic: str, expected: bool) -> None:
    assert matches(pattern, topic) is expected


@pytest.mark.parametrize("topic", ["", "a..b", "a.*", "#", "a.#.b", "x" * 256])
def test_invalid_topics_refused(topic: str) -> None:
    with pytest.raises(ValueError):
        validate_topic(topic)
