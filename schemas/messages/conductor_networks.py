"""Conductor RPC: tenant networks (one subnet each, as `openstack network create` plus
`subnet create` would make) and floating IPs from an external network."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from schemas.base import Message
from schemas.network import Network, Subnet
from schemas.router import FloatingIp
from schemas.types import Cidr, IpAddress


class CreateNetwork(Message):
    message_name = "conductor.create_network"
    message_version = 1

    name: str = Field(min_length=1, max_length=255)
    cidr: Cidr
    gateway_ip: IpAddress | None = None
    enable_dhcp: bool = True
    shared: bool = False


class NetworkReply(Message):
    message_name = "conductor.network.reply"
    message_version = 1

    network: Network
    subnets: tuple[Subnet, ...] = ()


class DeleteNetwork(Message):
    message_name = "conductor.delete_network"
    message_version = 1

    network_id: UUID


class ListNetworks(Message):
    message_name = "conductor.list_networks"
    message_version = 1

    name: str | None = Field(None, min_length=1, max_length=255)


class ListNetworksReply(Message):
    message_name = "conductor.list_networks.reply"
    message_version = 1

    networks: tuple[Network, ...] = ()


class CreateFloatingIp(Message):
    """Allocate an address of an external network to the caller's project."""

    message_name = "conductor.create_floating_ip"
    message_version = 1

    floating_network_id: UUID
    description: str = Field("", max_length=255)


class FloatingIpReply(Message):
    message_name = "conductor.floating_ip.reply"
    message_version = 1

    floating_ip: FloatingIp


class DeleteFloatingIp(Message):
    message_name = "conductor.delete_floating_ip"
    message_version = 1

    floating_ip_id: UUID
