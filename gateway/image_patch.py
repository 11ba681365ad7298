"""Glance's image PATCH (media type application/openstack-images-v2.1-json-patch): a
JSON array of add/replace/remove operations on `/<attribute>`, turned into one
conductor update.

Core attributes are replaced (read-only ones are refused with 403, as Glance does);
any other path is an extra property; `add /locations/-` registers where the data
already is.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from gateway.errors import HttpError, bad_request, forbidden
from gateway.image_views import READ_ONLY, WRITABLE

PATCH_TYPES = (
    "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch",
)
INTEGERS = ("min_disk", "min_ram")


async def read_patch(request: web.Request) -> list[dict[str, Any]]:
    if request.content_type not in PATCH_TYPES:
        raise HttpError(
            415,
            f"Unsupported Content-Type {request.content_type!r}: use "
            "application/openstack-images-v2.1-json-patch",
        )
    try:
        ops = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"malformed JSON in the request body: {exc}") from None
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise bad_request("a JSON patch is a list of operation objects")
    return ops


def _attribute(path: Any) -> tuple[str, str]:
    """(attribute, rest) of a JSON pointer like /name or /locations/-."""
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise bad_request(f"Invalid JSON pointer for this resource: '{path}'")
    name, _, rest = path[1:].partition("/")
    return name.replace("~1", "/").replace("~0", "~"), rest


def changes(ops: list[dict[str, Any]]) -> dict[str, Any]:
    """The UpdateImage fields the operations ask for (validated by the message)."""
    update: dict[str, Any] = {"set_properties": {}, "remove_properties": []}
    for op in ops:
        kind = op.get("op")
        if kind not in ("add", "replace", "remove"):
            raise bad_request(
                f"Unable to find '{kind}' in JSON Schema change: use add, replace or remove"
            )
        name, rest = _attribute(op.get("path"))
        if kind != "remove" and "value" not in op:
            raise bad_request(f"Operation {kind} on /{name} needs a value")
        value = op.get("value")
        if name == "locations" and kind == "add":
            update["location"] = _location(value)
        elif name in READ_ONLY:
            raise forbidden(f"Attribute '{name}' is read-only.")
        elif name in WRITABLE:
            if kind == "remove" or rest:
                raise forbidden(f"Attribute '{name}' cannot be removed.")
            if name == "os_hidden":
                if value:
                    raise bad_request("hidden images are not supported")
                continue
            update[name] = value
        elif kind == "remove":
            update["remove_properties"].append(name)
        else:
            if not isinstance(value, str):
                raise bad_request(f"Invalid value for property {name!r}: must be a string")
            update["set_properties"][name] = value
    return update


def _location(value: Any) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("url"), str):
        raise bad_request("a location is an object with a 'url'")
    url: str = value["url"]
    if not url.startswith("file:///"):
        raise bad_request(
            f"Invalid location {url!r}: only file:// locations in the image store are supported"
        )
    return url.removeprefix("file://")
