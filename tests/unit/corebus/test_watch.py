from corebus.envelope import Envelope, Kind
from corebus.watch_cli import line


def test_a_notification_line_names_sequence_event_subject_and_state() -> None:
    envelope = Envelope(
        kind=Kind.EVENT,
        schema="notification.instance",
        payload={
            "event_type": "instance.create.end",
            "sequence": 42,
            "payload": {"uuid": "abc", "state": "active", "task_state": None},
        },
    )
    assert line(envelope) == "#42     instance.create.end abc active"
