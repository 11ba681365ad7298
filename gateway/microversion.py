"""API microversions (Nova's and Cinder's): parse the request headers, refuse versions
outside what is served (406, as Nova does), and say which version answered.

A handler reads `microversion(request)` and shapes its answer for it, e.g.
`if microversion(request) >= (2, 47): embed the flavor`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.errors import HttpError

Version = tuple[int, int]
MICROVERSION_KEY: web.RequestKey[Version] = web.RequestKey("skymesh.microversion", tuple)


@dataclass(frozen=True)
class VersionRange:
    service: str  # the name in `OpenStack-API-Version: <service> X.Y`
    minimum: Version
    maximum: Version
    legacy_header: str | None = None  # e.g. X-OpenStack-Nova-API-Version

    @property
    def min_text(self) -> str:
        return text(self.minimum)

    @property
    def max_text(self) -> str:
        return text(self.maximum)


# What is served; raise `maximum` only together with the handlers that honour the new
# version (docs/gateway.md lists what each version changes here).
COMPUTE = VersionRange("compute", (2, 1), (2, 79), "X-OpenStack-Nova-API-Version")
VOLUME = VersionRange("volume", (3, 0), (3, 60))
RANGES = {"compute": COMPUTE, "volume": VOLUME}


def text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def parse(raw: str) -> Version:
    major, _, minor = raw.strip().partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise ValueError(raw)
    return int(major), int(minor)


def requested(request: web.Request, served: VersionRange) -> Version:
    """The version the client asked for (the minimum when it asked for none)."""
    raw = None
    for part in request.headers.getall("OpenStack-API-Version", []):
        for item in part.split(","):
            name, _, value = item.strip().partition(" ")
            if name.lower() == served.service and value:
                raw = value
    if raw is None and served.legacy_header:
        raw = request.headers.get(served.legacy_header)
    if raw is None:
        return served.minimum
    if raw.strip().lower() == "latest":
        return served.maximum
    try:
        version = parse(raw)
    except ValueError:
        raise HttpError(400, f"invalid API version {raw!r}: expected X.Y or latest") from None
    if not served.minimum <= version <= served.maximum:
        raise HttpError(
            406,
            f"Version {raw} is not supported by the API. Minimum is {served.min_text} "
            f"and maximum is {served.max_text}.",
        )
    return version


def microversion(request: web.Request) -> Version:
    return request.get(MICROVERSION_KEY, (2, 1))


def answer_headers(response: web.StreamResponse, served: VersionRange, version: Version) -> None:
    response.headers["OpenStack-API-Version"] = f"{served.service} {text(version)}"
    if served.legacy_header:
        response.headers[served.legacy_header] = text(version)
    response.headers["Vary"] = "OpenStack-API-Version" + (
        f", {served.legacy_header}" if served.legacy_header else ""
    )
