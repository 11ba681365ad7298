"""The event hub's parts without a cloud: ordering, filtering, bounded queues, and the
seam between replay and live."""

from __future__ import annotations

import asyncio
import fnmatch
import re
from typing import Any

import pytest

from conductor.event_replay import like_pattern
from corebus.envelope import Envelope, Kind
from corebus.memory import InMemoryBus
from gateway import events_stream
from gateway.events_hub import End, EventHub, Filter, Note, StreamEnded, Subscriber
from gateway.events_order import Sequencer
from gateway.events_stream import EventStream, Resume
from schemas.messages.conductor_events import ReplayNotificationsReply, StoredNotification
from schemas.messages.notifications import EVENT_TYPES

DEMO = "00000000-0000-0000-0000-00000000000d"
OTHER = "00000000-0000-0000-0000-00000000000e"


def body(seq: int, event_type: str = "instance.update", project: str = DEMO) -> dict[str, Any]:
    return {"sequence": seq, "event_type": event_type, "payload": {"tenant_id": project}}


def note(seq: int, event_type: str = "instance.update", project: str = DEMO) -> Note:
    return Note.of(body(seq, event_type, project))


async def test_sequencer_reorders_and_drops_repeats() -> None:
    out: list[int] = []
    sequencer: Sequencer[Note] = Sequencer(lambda n: out.append(n.sequence), gap_wait_s=10)
    for seq in (5, 7, 6, 6, 5, 8, 7):
        sequencer.push(note(seq))
    assert out == [5, 6, 7, 8]
    sequencer.close()


async def test_sequencer_gives_up_a_lost_number_after_the_wait() -> None:
    out: list[int] = []
    sequencer: Sequencer[Note] = Sequencer(lambda n: out.append(n.sequence), gap_wait_s=0.05)
    sequencer.push(note(1))
    sequencer.push(note(3))
    assert out == [1]
    await asyncio.sleep(0.1)
    assert out == [1, 3]
    sequencer.push(note(2))  # too late: dropped, replay has it
    assert out == [1, 3] and sequencer.head == 3


def test_filter_by_project_and_fnmatch_patterns() -> None:
    wanted = Filter(DEMO, ("instance.*", "volume.attach.?nd"))
    assert wanted.admits(note(1, "instance.create.start"))
    assert wanted.admits(note(1, "volume.attach.end"))
    assert not wanted.admits(note(1, "volume.attach.start"))
    assert not wanted.admits(note(1, "instance.create.start", OTHER))
    assert Filter(None).admits(note(1, "port.create.end", OTHER))


def like_regex(like: str) -> str:
    """What PostgreSQL's LIKE does with `like` (backslash escapes), as a regex."""
    wildcards = {"%": ".*", "_": "."}
    return "".join(
        re.escape(t[1]) if t.startswith("\\") else wildcards.get(t, re.escape(t))
        for t in re.findall(r"\\.|.", like)
    )


@pytest.mark.parametrize("pattern", ["instance.*", "*.error", "volume.attach.*", "*power_?n*"])
def test_sql_like_patterns_match_what_fnmatch_matches(pattern: str) -> None:
    regex = like_regex(like_pattern(pattern))
    matched = {t for t in EVENT_TYPES if re.fullmatch(regex, t)}
    assert matched == {t for t in EVENT_TYPES if fnmatch.fnmatchcase(t, pattern)}
    assert matched


def test_note_needs_a_sequence() -> None:
    with pytest.raises(ValueError):
        Note.of({"event_type": "instance.update"})


async def test_full_queue_ends_the_subscriber_and_frees_it() -> None:
    subscriber = Subscriber(Filter(DEMO), limit=2)
    subscriber.offer(note(1))
    subscriber.offer(note(2, project=OTHER))  # not wanted: takes no room
    subscriber.offer(note(3))
    assert (await subscriber.next(0.1)) == note(1)
    subscriber.offer(note(4))
    subscriber.offer(note(5))  # 3, 4 queued: full
    with pytest.raises(StreamEnded) as ended:
        await subscriber.next(0.1)
    assert ended.value.why is End.OVERFLOW
    subscriber.offer(note(6))
    with pytest.raises(StreamEnded):
        await subscriber.next(0.1)


async def test_idle_subscriber_times_out_with_none() -> None:
    assert await Subscriber(Filter(DEMO), 5).next(0.01) is None


async def test_hub_fans_out_one_bus_subscription_and_ends_streams_on_close() -> None:
    bus = InMemoryBus()
    hub = EventHub(bus, queue_limit=10)
    await hub.start()
    with hub.joined(Filter(DEMO)) as mine, hub.joined(Filter(OTHER)) as theirs:
        for seq in (1, 2):
            envelope = Envelope(kind=Kind.EVENT, schema="notification.instance", payload=body(seq))
            await bus.publish("notifications", "instance.update", envelope, coalesce=False)
        assert [(await mine.next(1)).sequence for _ in range(2)] == [1, 2]  # type: ignore[union-attr]
        assert await theirs.next(0.05) is None
        assert hub.subscribers == 2
        hub.close()
        with pytest.raises(StreamEnded):
            await mine.next(1)
    assert hub.subscribers == 0
    await hub.stop()


async def test_stream_replays_then_goes_live_without_gap_or_repeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages = [
        ReplayNotificationsReply(notifications=stored(3, 4), through=4, complete=False),
        ReplayNotificationsReply(notifications=stored(5, 6), through=7, complete=True),
    ]
    asked: list[int] = []

    async def fake_call(_request: Any, method: str, message: Any, *_: Any, **__: Any) -> Any:
        assert method == "replay_notifications"
        asked.append(message.after)
        return pages.pop(0)

    monkeypatch.setattr(events_stream, "call", fake_call)
    live = Subscriber(Filter(DEMO), 10)
    for seq in (5, 6, 7, 8, 8, 9):  # buffered while replaying, overlapping it
        live.offer(note(seq))
    stream = EventStream(None, live, Resume(after=2, every_project=False, patterns=()))  # type: ignore[arg-type]
    await stream.open()
    got = []
    while (item := await stream.next(0.05)) is not None:
        got.append(item.sequence)
    assert got == [3, 4, 5, 6, 8, 9]  # 7 was scanned by the replay and did not match
    assert asked == [2, 4] and stream.sent == 9


def stored(*seqs: int) -> tuple[StoredNotification, ...]:
    return tuple(
        StoredNotification(sequence=s, event_type="instance.update", notification=body(s))
        for s in seqs
    )
