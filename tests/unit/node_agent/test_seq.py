"""Fact sequence numbers only grow, also across a restart and a clock stepped back."""

from __future__ import annotations

from pathlib import Path

from node_agent.seq import SeqClock


def test_seq_grows_even_when_the_clock_does_not() -> None:
    clock = SeqClock(now_us=lambda: 1000)
    assert [clock.next() for _ in range(3)] == [1000, 1001, 1002]


def test_seq_follows_the_wall_clock_when_it_is_ahead() -> None:
    now = [5_000]
    clock = SeqClock(now_us=lambda: now[0])
    assert clock.next() == 5_000
    now[0] = 9_000
    assert clock.next() == 9_000


def test_a_restarted_agent_continues_above_its_predecessor(tmp_path: Path) -> None:
    first = SeqClock.in_dir(tmp_path)
    last = max(first.next() for _ in range(10))
    first.save()
    # the clock stepped back an hour, yet the new incarnation continues above
    second = SeqClock(first._state, now_us=lambda: last - 3_600_000_000)
    assert second.next() == last + 1


def test_without_a_saved_mark_the_wall_clock_still_orders_restarts(tmp_path: Path) -> None:
    first = SeqClock.in_dir(tmp_path)
    before = first.next()
    assert SeqClock.in_dir(tmp_path / "other").next() > before
