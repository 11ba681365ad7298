"""docs/amqp-api.md is generated; it must match the code, and its examples must validate."""

from pathlib import Path

import pytest

from conductor.api_adapter import COMMANDS
from conductor.api_doc import EXAMPLES, render

DOC = Path(__file__).resolve().parents[3] / "docs" / "amqp-api.md"


def test_the_committed_reference_is_current() -> None:
    assert DOC.read_text() == render(), "run `skymesh api-doc` and commit docs/amqp-api.md"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_example_validates(command: str) -> None:
    model, _ = COMMANDS[command]
    model.model_validate(EXAMPLES[command])
