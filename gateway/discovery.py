"""Version discovery documents and the service catalog, as devstack lays them out:
every service under a path prefix of one port."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, uuid5

from aiohttp import web

from gateway.http import gateway, json
from gateway.microversion import COMPUTE, VOLUME
from gateway.routing import Access, Routes

routes = Routes("gateway")
UPDATED = "2026-11-01T00:00:00Z"
JSON_TYPES = [{"base": "application/json", "type": "application/vnd.openstack+json"}]

# (catalog type, name, path under the public URL)
SERVICES = (
    ("identity", "keystone", "/identity/v3"),
    ("compute", "nova", "/compute/v2.1"),
    ("network", "neutron", "/network"),
    ("block-storage", "cinder", "/volume/v3"),
    ("volumev3", "cinderv3", "/volume/v3"),
    ("image", "glance", "/image"),
)


def catalog(base: str, region: str) -> list[dict[str, Any]]:
    """The service catalog a token carries: one public endpoint per service."""
    entries = []
    for kind, name, path in SERVICES:
        url = base.rstrip("/") + path
        entries.append(
            {
                "id": str(uuid5(NAMESPACE_URL, f"{kind}:{url}")),
                "type": kind,
                "name": name,
                "endpoints": [
                    {
                        "id": str(uuid5(NAMESPACE_URL, f"public:{url}")),
                        "interface": "public",
                        "region_id": region,
                        "region": region,
                        "url": url,
                    }
                ],
            }
        )
    return entries


def _link(request: web.Request, path: str, rel: str = "self") -> dict[str, str]:
    return {"rel": rel, "href": gateway(request).public_url.rstrip("/") + path}


def identity_version(request: web.Request) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": UPDATED,
        "links": [_link(request, "/identity/v3/")],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ],
    }


def compute_version(request: web.Request) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": COMPUTE.max_text,
        "min_version": COMPUTE.min_text,
        "updated": UPDATED,
        "links": [_link(request, "/compute/v2.1/")],
        "media-types": JSON_TYPES,
    }


def volume_version(request: web.Request) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": VOLUME.max_text,
        "min_version": VOLUME.min_text,
        "updated": UPDATED,
        "links": [_link(request, "/volume/v3/")],
        "media-types": JSON_TYPES,
    }


def image_versions(request: web.Request) -> list[dict[str, Any]]:
    """Only v2.0: the later v2 minor versions announce features (image import, multiple
    stores, ...) this gateway does not serve."""
    return [{"id": "v2.0", "status": "CURRENT", "links": [_link(request, "/image/v2/")]}]


def _both(path: str) -> tuple[str, str]:
    return path, path + "/"


@routes.get("/", summary="The services this gateway serves", access=Access.PUBLIC)
async def index(request: web.Request) -> web.Response:
    base = gateway(request).public_url.rstrip("/")
    return json(
        {
            "services": [
                {"type": kind, "name": name, "url": base + path} for kind, name, path in SERVICES
            ]
        }
    )


for _path in _both("/identity"):

    @routes.get(_path, summary="Identity versions", access=Access.PUBLIC, tags=("discovery",))
    async def identity_versions(request: web.Request) -> web.Response:
        return json({"versions": {"values": [identity_version(request)]}}, status=300)


for _path in _both("/identity/v3"):

    @routes.get(_path, summary="Identity v3 version document", access=Access.PUBLIC)
    async def identity_v3(request: web.Request) -> web.Response:
        return json({"version": identity_version(request)})


for _path in _both("/compute"):

    @routes.get(_path, summary="Compute versions", access=Access.PUBLIC)
    async def compute_versions(request: web.Request) -> web.Response:
        return json({"versions": [compute_version(request)]})


for _path in _both("/compute/v2.1"):

    @routes.get(_path, summary="Compute v2.1 version document", access=Access.PUBLIC)
    async def compute_v21(request: web.Request) -> web.Response:
        return json({"version": compute_version(request)})


for _path in _both("/network"):

    @routes.get(_path, summary="Network versions", access=Access.PUBLIC)
    async def network_versions(request: web.Request) -> web.Response:
        version = {"id": "v2.0", "status": "CURRENT", "links": [_link(request, "/network/v2.0/")]}
        return json({"versions": [version]})


for _path in (*_both("/volume"), *_both("/volume/v3")):

    @routes.get(_path, summary="Block Storage versions", access=Access.PUBLIC)
    async def volume_versions(request: web.Request) -> web.Response:
        return json({"versions": [volume_version(request)]})


for _path in (*_both("/image"), *_both("/image/v2")):

    @routes.get(_path, summary="Image versions", access=Access.PUBLIC)
    async def image_version_list(request: web.Request) -> web.Response:
        status = 300 if not request.path.rstrip("/").endswith("v2") else 200
        return json({"versions": image_versions(request)}, status=status)
