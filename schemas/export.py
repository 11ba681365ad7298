"""Export JSON Schema: one file per message and per resource, plus an index.

    docs/schemas/index.json
    docs/schemas/messages/<message_name>.json    (validation schema)
    docs/schemas/resources/<ResourceName>.json

Output is deterministic (sorted keys) so regenerating it only changes what changed;
stale files from a previous export are removed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.catalog import resource_models
from schemas.fingerprint import fingerprint

DEFAULT_OUT = Path("docs/schemas")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _schema(model: type[BaseModel], schema_id: str, extra: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, "$id": schema_id, **extra, **schema}


def _write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _sync_dir(directory: Path, files: dict[str, dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, data in files.items():
        _write(directory / name, data)


def export(out: Path = DEFAULT_OUT) -> dict[str, Any]:
    """Write every schema under `out`; returns the index."""
    from schemas.messages import all_messages

    index: dict[str, Any] = {"messages": {}, "resources": {}}
    message_files: dict[str, dict[str, Any]] = {}
    for name, model in all_messages().items():
        file = f"{name}.json"
        extra = {"x-message-name": name, "x-message-version": model.message_version}
        message_files[file] = _schema(model, f"skymesh:message:{name}", extra)
        index["messages"][name] = {
            "version": model.message_version,
            "fingerprint": fingerprint(model),
            "file": f"messages/{file}",
            "summary": (model.__doc__ or "").strip().split("\n")[0],
        }
    resource_files: dict[str, dict[str, Any]] = {}
    for name, resource in resource_models().items():
        file = f"{name}.json"
        resource_files[file] = _schema(resource, f"skymesh:resource:{name}", {})
        index["resources"][name] = {"file": f"resources/{file}"}
    _sync_dir(out / "messages", message_files)
    _sync_dir(out / "resources", resource_files)
    _write(out / "index.json", index)
    return index
