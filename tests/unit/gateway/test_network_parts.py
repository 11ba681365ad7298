"""The network API's pure parts: Neutron views, request bodies, default pools."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from aiohttp.test_utils import make_mocked_request

from conductor.network_api import default_pools
from gateway import network_views as views
from gateway.errors import HttpError
from gateway.network_requests import NetworkBody, PortBody, SubnetBody, path_id, project_for
from schemas.network import FixedIp, Network, Port
from schemas.router import ExternalGateway, FloatingIp, Router

PROJECT = UUID(int=2)


def test_network_view_has_neutron_names_and_admin_only_provider_attributes() -> None:
    network = Network(id=UUID(int=1), name="n", project_id=PROJECT, external=True)
    shown = views.network(network)
    assert shown["router:external"] is True and shown["tenant_id"] == str(PROJECT)
    assert shown["tags"] == [] and shown["revision_number"] == 1
    assert "provider:network_type" not in shown
    assert views.network(network, admin=True)["provider:network_type"] == "geneve"


def test_port_view_shows_binding_attributes() -> None:
    port = Port(
        id=UUID(int=3),
        network_id=UUID(int=1),
        project_id=PROJECT,
        mac_address="fa:16:3e:00:00:01",
        fixed_ips=(FixedIp(subnet_id=UUID(int=4), ip_address="10.0.0.5"),),
    )
    shown = views.port(port)
    assert shown["binding:vnic_type"] == "normal" and shown["binding:host_id"] == ""
    assert shown["binding:vif_type"] == "unbound" and shown["status"] == "DOWN"
    assert shown["fixed_ips"] == [{"subnet_id": str(UUID(int=4)), "ip_address": "10.0.0.5"}]


def test_router_and_floating_ip_views() -> None:
    router = Router(
        id=UUID(int=5), project_id=PROJECT, external_gateway=ExternalGateway(network_id=UUID(int=6))
    )
    info = views.router(router)["external_gateway_info"]
    assert info == {"network_id": str(UUID(int=6)), "enable_snat": True, "external_fixed_ips": []}
    fip = FloatingIp(
        id=UUID(int=7),
        project_id=PROJECT,
        floating_network_id=UUID(int=6),
        floating_ip_address="172.24.4.10",
    )
    shown = views.floating_ip(fip)
    assert shown["port_id"] is None and shown["router_id"] is None
    assert shown["floating_ip_address"] == "172.24.4.10"


def test_fields_query_keeps_only_those_attributes() -> None:
    request = make_mocked_request("GET", "/network/v2.0/networks?fields=id&fields=name")
    assert views.only_fields(request, {"id": 1, "name": 2, "mtu": 3}) == {"id": 1, "name": 2}


def test_bodies_take_neutron_aliases_and_name_what_they_change() -> None:
    body = NetworkBody.model_validate({"name": "x", "router:external": True})
    assert body.external is True
    assert set(body.changes()) == {"name", "external"}
    port = PortBody.model_validate({"binding:host_id": "compute-1", "binding:vnic_type": "direct"})
    assert port.binding_host == "compute-1" and port.vnic_type == "direct"


def test_unsupported_extension_attributes_are_refused_unless_off() -> None:
    NetworkBody.model_validate({"qos_policy_id": None}).check_unsupported()
    with pytest.raises(HttpError) as caught:
        NetworkBody.model_validate({"provider:network_type": "vlan"}).check_unsupported()
    assert caught.value.status == 400
    with pytest.raises(ValueError):
        SubnetBody.model_validate({"cidr": "10.0.0.0/24", "colour": "red"})


def test_project_id_and_tenant_id_must_agree() -> None:
    same: Any = NetworkBody.model_validate({"tenant_id": str(PROJECT)})
    assert project_for(same) == PROJECT
    both = NetworkBody.model_validate({"tenant_id": str(PROJECT), "project_id": str(UUID(int=9))})
    with pytest.raises(HttpError):
        project_for(both)


def test_a_name_in_the_path_is_a_typed_404() -> None:
    request = make_mocked_request(
        "GET", "/network/v2.0/networks/public", match_info={"network_id": "public"}
    )
    with pytest.raises(HttpError) as caught:
        path_id(request, "network_id", "Network")
    assert caught.value.status == 404 and caught.value.kind == "NetworkNotFound"


@pytest.mark.parametrize(
    ("cidr", "gateway", "pools"),
    [
        ("10.0.0.0/24", "10.0.0.1", [("10.0.0.2", "10.0.0.254")]),
        ("10.0.0.0/24", None, [("10.0.0.1", "10.0.0.254")]),
        ("10.0.0.0/24", "10.0.0.100", [("10.0.0.1", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")]),
        ("10.0.0.0/24", "10.0.0.254", [("10.0.0.1", "10.0.0.253")]),
    ],
)
def test_default_pools_are_every_host_address_but_the_gateway(
    cidr: str, gateway: str | None, pools: list[tuple[str, str]]
) -> None:
    assert default_pools(cidr, gateway) == [{"start": a, "end": b} for a, b in pools]
