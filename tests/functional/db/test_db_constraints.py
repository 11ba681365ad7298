"""The schema refuses what must never be stored."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import db_factories as make
import pytest

pytestmark = pytest.mark.functional


async def network(conn: asyncpg.Connection, project: UUID) -> tuple[UUID, UUID]:
    net = await conn.fetchval(
        "INSERT INTO networks (project_id, name) VALUES ($1, 'n') RETURNING id", project
    )
    subnet = await conn.fetchval(
        "INSERT INTO subnets (network_id, project_id, ip_version, cidr, gateway_ip) "
        "VALUES ($1, $2, 4, '10.0.0.0/24', '10.0.0.1') RETURNING id",
        net,
        project,
    )
    return net, subnet


async def port(conn: asyncpg.Connection, net: UUID, project: UUID, mac: str) -> UUID:
    port_id: UUID = await conn.fetchval(
        "INSERT INTO ports (network_id, project_id, mac_address) VALUES ($1, $2, $3) RETURNING id",
        net,
        project,
        mac,
    )
    return port_id


async def test_mac_unique_per_network_and_ip_unique_per_subnet(
    conn: asyncpg.Connection,
) -> None:
    project = await make.project(conn)
    net, subnet = await network(conn, project)
    other_net, _ = await network(conn, project)
    first = await port(conn, net, project, "fa:16:3e:00:00:01")
    await port(conn, other_net, project, "fa:16:3e:00:00:01")  # another network: fine
    with pytest.raises(asyncpg.UniqueViolationError):
        await port(conn, net, project, "fa:16:3e:00:00:01")

    second = await port(conn, net, project, "fa:16:3e:00:00:02")
    insert_ip = (
        "INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id) "
        "VALUES ($1, $2, $3, $4)"
    )
    await conn.execute(insert_ip, subnet, "10.0.0.5", first, net)
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(insert_ip, subnet, "10.0.0.5", second, net)


async def test_subnet_and_floating_ip_rules(conn: asyncpg.Connection) -> None:
    project = await make.project(conn)
    net, _ = await network(conn, project)
    with pytest.raises(asyncpg.CheckViolationError):  # gateway outside the cidr
        await conn.execute(
            "INSERT INTO subnets (network_id, project_id, ip_version, cidr, gateway_ip) "
            "VALUES ($1, $2, 4, '10.1.0.0/24', '10.2.0.1')",
            net,
            project,
        )
    insert_fip = (
        "INSERT INTO floating_ips (project_id, floating_network_id, floating_ip_address) "
        "VALUES ($1, $2, $3)"
    )
    await conn.execute(insert_fip, project, net, "203.0.113.10")
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(insert_fip, project, net, "203.0.113.10")


async def test_a_host_cpu_is_pinned_once(conn: asyncpg.Connection) -> None:
    host = await make.host(conn)
    project = await make.project(conn)
    a, b = await make.instance(conn, project), await make.instance(conn, project)
    await conn.execute(
        "INSERT INTO numa_cells (host_id, cell_id, cpuset, memory_mb) "
        "VALUES ($1, 0, '{0,1}', 1024)",
        host["id"],
    )
    pin = "INSERT INTO numa_pinned_cpus (host_id, cell_id, cpu, instance_id) VALUES ($1, 0, 1, $2)"
    await conn.execute(pin, host["id"], a["id"])
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(pin, host["id"], b["id"])


async def test_vf_needs_its_pf_and_claimed_devices_an_instance(
    conn: asyncpg.Connection,
) -> None:
    host = await make.host(conn)
    insert = (
        "INSERT INTO pci_devices (host_id, address, vendor_id, product_id, dev_type, "
        "parent_addr, status) VALUES ($1, $2, '8086', '1515', $3, $4, $5)"
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError):  # no such PF
        await conn.execute(
            insert, host["id"], "0000:05:10.0", "type-VF", "0000:05:00.0", "available"
        )
    with pytest.raises(asyncpg.CheckViolationError):  # a VF without a parent
        await conn.execute(insert, host["id"], "0000:05:10.0", "type-VF", None, "available")
    with pytest.raises(asyncpg.CheckViolationError):  # claimed by nobody
        await conn.execute(insert, host["id"], "0000:05:00.0", "type-PF", None, "claimed")


async def test_instance_state_checks(conn: asyncpg.Connection) -> None:
    vm = await make.instance(conn, await make.project(conn))
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("UPDATE instances SET vm_state = 'flying' WHERE id = $1", vm["id"])
    with pytest.raises(asyncpg.CheckViolationError):  # a deadline needs a task
        await conn.execute(
            "UPDATE instances SET task_state = NULL, task_deadline = now() WHERE id = $1",
            vm["id"],
        )
    with pytest.raises(asyncpg.ForeignKeyViolationError):  # unknown host
        await conn.execute("UPDATE instances SET host = 'nowhere' WHERE id = $1", vm["id"])


async def test_allocation_needs_an_inventory_and_inventory_in_use_stays(
    conn: asyncpg.Connection,
) -> None:
    host = await make.host(conn)
    vm = await make.instance(conn, await make.project(conn))
    insert = (
        "INSERT INTO allocations (consumer_id, provider_id, resource_class, amount) "
        "VALUES ($1, $2, $3, 1)"
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute(insert, vm["id"], host["root_provider_id"], "PGPU")
    await conn.execute(insert, vm["id"], host["root_provider_id"], "VCPU")
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute(
            "DELETE FROM inventories WHERE provider_id = $1", host["root_provider_id"]
        )


async def test_volume_attached_once_per_instance(conn: asyncpg.Connection) -> None:
    project = await make.project(conn)
    vm = await make.instance(conn, project)
    volume = await conn.fetchval(
        "INSERT INTO volumes (project_id, user_id, size_gb) VALUES ($1, $2, 1) RETURNING id",
        project,
        vm["user_id"],
    )
    attach = (
        "INSERT INTO volume_attachments (volume_id, instance_id, device) "
        "VALUES ($1, $2, '/dev/vdb')"
    )
    await conn.execute(attach, volume, vm["id"])
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(attach, volume, vm["id"])
    await conn.execute(
        "UPDATE volume_attachments SET status = 'detached', detached_at = now() "
        "WHERE volume_id = $1",
        volume,
    )
    await conn.execute(attach, volume, vm["id"])  # a detached attachment does not count
