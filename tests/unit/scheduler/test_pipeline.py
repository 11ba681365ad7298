"""The pipeline's explanations: why each host was dropped, counts per filter, and the
filter that removed the last hosts."""

from __future__ import annotations

from scheduler.config import SchedulerSettings
from scheduler.pipeline import Pipeline
from scheduler.registry import build_filters, build_weighers
from tests.unit.scheduler.builders import host, spec


def pipeline() -> Pipeline:
    settings = SchedulerSettings()
    return Pipeline(build_filters(settings.filters), build_weighers(settings.weighers))


def test_records_the_first_filter_that_refused_each_host() -> None:
    hosts = [
        host("a-disabled", disabled=True),
        host("b-small", memory_mb=1024),
        host("c-ignored"),
        host("d-fits", used=(0, 4096, 0)),
        host("e-fits"),
    ]

    outcome = pipeline().run(hosts, spec(memory_mb=2048, ignore_hosts=frozenset({"c-ignored"})))

    assert [r.host.name for r in outcome.ranked] == ["e-fits", "d-fits"]
    assert {name: why.filter for name, why in outcome.excluded.items()} == {
        "a-disabled": "compute",
        "b-small": "resources",
        "c-ignored": "hosts",
    }
    assert "memory_mb: requested 2048 MB" in outcome.excluded["b-small"].reason
    removed = {name: n for name, n in outcome.removed.items() if n}
    assert removed == {"compute": 1, "hosts": 1, "resources": 1}
    assert list(outcome.removed) == list(SchedulerSettings().filters)  # in the order run
    assert outcome.last_filter is None
    assert outcome.ranked[0].contributions == {
        "ram": 1.0,
        "cpu": 0.0,
        "disk": 0.0,
        "io_ops": -0.0,
        "pci": 0.0,
        "soft_affinity": 0.0,
        "soft_anti_affinity": 0.0,
        "build_failure": 0.0,
    }


def test_names_the_filter_that_removed_the_last_hosts() -> None:
    hosts = [host("a", disabled=True), host("b", vcpus=1), host("c", vcpus=2)]

    outcome = pipeline().run(hosts, spec(vcpus=4))

    assert outcome.ranked == []
    assert outcome.last_filter == "resources"
    text = outcome.explain()
    assert "3 host(s) considered, 0 passed" in text
    assert "filter 'resources' removed the last 2" in text
    assert "b: vcpus: requested 4" in text
    assert "hosts removed per filter: compute: 1, resources: 2" in text


def test_explains_an_empty_view() -> None:
    outcome = pipeline().run([], spec())

    assert outcome.explain() == "no compute host is up"
    assert outcome.last_filter is None
