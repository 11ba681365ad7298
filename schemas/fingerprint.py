"""A fingerprint per message: sha256 over the wire shape of its JSON Schema.

The shape is the validation and serialization schemas with every `$ref` inlined and
titles, descriptions and examples dropped, so renaming a class or editing a docstring
does not change it, while any change to a field, type, constraint or default does.
A committed file (tests/unit/schemas/fingerprints.json) records name -> version and
fingerprint; the test fails when a fingerprint moves without a version bump.

    python -m schemas.fingerprint            # compare, print problems, exit 1 if any
    python -m schemas.fingerprint --update   # rewrite the file from the code
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "tests/unit/schemas/fingerprints.json"
_ANNOTATIONS = frozenset({"title", "description", "examples"})
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs"})


def _inline(node: Any, defs: dict[str, Any], stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in stack:  # a recursive model: keep the cycle as a marker
            return {"$recursive": stack.index(name)}
        rest = {key: value for key, value in node.items() if key != "$ref"}
        target = _inline(defs[name], defs, (*stack, name))
        return {**target, **_inline(rest, defs, stack)} if rest else target
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS or key == "$defs":
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: _inline(sub, defs, stack) for name, sub in value.items()}
        else:
            out[key] = _inline(value, defs, stack)
    return out


def wire_shape(model: type[BaseModel]) -> dict[str, Any]:
    """The model's schemas, stripped of names and prose (see the module docstring)."""
    shapes = {}
    for mode in ("validation", "serialization"):
        schema = model.model_json_schema(mode=mode)
        shapes[mode] = _inline(schema, schema.get("$defs", {}), ())
    return shapes


def fingerprint(model: type[BaseModel]) -> str:
    text = json.dumps(wire_shape(model), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def current() -> dict[str, dict[str, Any]]:
    """name -> {"version", "fingerprint"} for every message skymesh defines."""
    from schemas.messages import all_messages

    return {
        name: {"version": model.message_version, "fingerprint": fingerprint(model)}
        for name, model in all_messages().items()
    }


def load(path: Path = DEFAULT_FILE) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data


def write(path: Path = DEFAULT_FILE) -> dict[str, dict[str, Any]]:
    data = current()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return data


UPDATE = "python -m schemas.fingerprint --update"


def problems(
    recorded: dict[str, dict[str, Any]],
    actual: dict[str, dict[str, Any]],
) -> list[str]:
    """What differs between the recorded file and the code, each with what to do."""
    found = []
    for name in sorted(actual.keys() - recorded.keys()):
        found.append(f"{name}: new message, not recorded yet; run `{UPDATE}`")
    for name in sorted(recorded.keys() - actual.keys()):
        found.append(
            f"{name}: recorded but no longer defined; if the removal is intended "
            f"(consumers no longer send it), run `{UPDATE}`"
        )
    for name in sorted(actual.keys() & recorded.keys()):
        old, new = recorded[name], actual[name]
        if old == new:
            continue
        if old["version"] == new["version"]:
            found.append(
                f"{name}: fields changed but message_version is still "
                f"{new['version']}; bump message_version (and keep accepting the "
                f"old shape where consumers need it), then run `{UPDATE}`"
            )
        elif new["version"] < old["version"]:
            found.append(
                f"{name}: message_version went down from {old['version']} to "
                f"{new['version']}; versions only grow"
            )
        else:
            found.append(
                f"{name}: message_version bumped to {new['version']} but the "
                f"recorded file says {old['version']}; run `{UPDATE}`"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.fingerprint")
    parser.add_argument("--update", action="store_true", help="rewrite the recorded file")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args(argv)
    if args.update:
        data = write(args.file)
        print(f"wrote {len(data)} fingerprints to {args.file}")
        return 0
    found = problems(load(args.file), current())
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
