"""Address and MAC choice for ports (conductor/ipam.py)."""

from __future__ import annotations

import ipaddress
import random
import re

import pytest

from conductor.ipam import AddressError, candidates, check_requested, first_free, random_mac


def test_the_default_pool_skips_network_gateway_and_broadcast() -> None:
    found = [str(a) for a in candidates("10.0.0.0/29", "10.0.0.1")]
    assert found == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]


def test_the_lowest_free_address_is_chosen() -> None:
    assert str(first_free("10.0.0.0/24", "10.0.0.1", [], ["10.0.0.2", "10.0.0.3"])) == "10.0.0.4"
    assert str(first_free("10.0.0.0/24", "10.0.0.1", [], ["10.0.0.3"])) == "10.0.0.2"


def test_allocation_pools_bound_the_choice_in_order() -> None:
    pools = [
        {"start": "10.0.0.200", "end": "10.0.0.201"},
        {"start": "10.0.0.10", "end": "10.0.0.10"},
    ]
    assert [str(a) for a in candidates("10.0.0.0/24", "10.0.0.1", pools)] == [
        "10.0.0.10",
        "10.0.0.200",
        "10.0.0.201",
    ]
    assert first_free("10.0.0.0/24", "10.0.0.1", pools, ["10.0.0.10", "10.0.0.200/32"]) == (
        ipaddress.ip_address("10.0.0.201")
    )


def test_a_full_subnet_has_no_free_address() -> None:
    used = ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    assert first_free("10.0.0.0/29", "10.0.0.1", [], used) is None


def test_ipv6_is_lazy_and_skips_the_router_anycast_address() -> None:
    first = first_free("2001:db8::/64", "2001:db8::1", [], [])
    assert str(first) == "2001:db8::2"


def test_no_gateway_frees_the_first_host_address() -> None:
    assert str(first_free("192.168.5.0/30", None, [], [])) == "192.168.5.1"


@pytest.mark.parametrize(
    ("requested", "problem"),
    [
        ("10.1.0.5", "not in subnet"),
        ("10.0.0.1", "gateway"),
        ("10.0.0.0", "network or broadcast"),
        ("10.0.0.255", "network or broadcast"),
        ("2001:db8::5", "not in subnet"),
    ],
)
def test_requested_addresses_are_checked(requested: str, problem: str) -> None:
    with pytest.raises(AddressError, match=problem):
        check_requested("10.0.0.0/24", "10.0.0.1", requested)


def test_a_requested_address_outside_the_pools_is_allowed() -> None:
    assert str(check_requested("10.0.0.0/24", "10.0.0.1", "10.0.0.250")) == "10.0.0.250"


def test_macs_carry_the_neutron_prefix_and_vary() -> None:
    rng = random.Random(7)
    macs = {random_mac(rng) for _ in range(200)}
    assert len(macs) > 190
    assert all(re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", m) for m in macs)
