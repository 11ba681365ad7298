"""The audit: the database against what the hosts really have, and against itself.

`audit` reads the database's own leaks and double bookings (conductor/audit_queries.py),
asks every agent for a snapshot (conductor/audit_snapshots.py) and compares:
- compute hosts: each domain with the live instances placed there (`domain.orphan`: a
  domain no live instance owns; `domain.missing`: a settled instance whose domain is gone);
- network hosts (their view of OVN NB): each logical port with the database's bound ports
  (`port.orphan_in_ovn`; `port.missing_in_ovn`);
- storage hosts: each backend volume with the live volumes (`volume.orphan`,
  `volume.missing`).
Hosts whose agent did not answer are `host.silent` (nothing compared there).

`repair` applies each kind's policy (POLICIES): adopt (the database takes what is real),
clean up (the leftover goes: rows released, agents told to remove what they hold), or
flag (reported only; a person decides). Repairs run in one transaction per finding; the
agent commands are cast once it committed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from conductor import boot_ports, lifecycle, server_devices
from conductor.agents import Casts, cast_all
from conductor.audit_queries import Finding, db_findings
from conductor.audit_snapshots import Snapshots, collect
from conductor.db.queries import allocations, instance_actions, instances, net_ports
from conductor.db.types import Connection
from conductor.network_api_common import ensure_network_command
from conductor.network_api_ports import port_model
from corebus.bus import Bus
from corebus.client import Client
from corebus.envelope import RequestContext
from schemas.messages import agent_network
from schemas.messages.agent_compute import Destroy
from schemas.messages.host_facts import AgentSnapshot
from schemas.placement import HostRole

log = logging.getLogger(__name__)

ADOPT, CLEAN_UP, FLAG = "adopt", "clean up", "flag"
POLICIES: dict[str, str] = {
    "allocation.leaked": CLEAN_UP,
    "allocation.overcommitted": FLAG,
    "port.leaked": CLEAN_UP,
    "ip.leaked": CLEAN_UP,
    "ip.double_booked": FLAG,
    "vf.leaked": CLEAN_UP,
    "vf.double_booked": FLAG,
    "attachment.leaked": CLEAN_UP,
    "volume.double_attached": FLAG,
    "quota.drift": ADOPT,
    "domain.orphan": CLEAN_UP,
    "domain.missing": ADOPT,
    "port.orphan_in_ovn": FLAG,
    "port.missing_in_ovn": ADOPT,
    "volume.orphan": FLAG,
    "volume.missing": FLAG,
    "host.silent": FLAG,
}
SETTLED = ("active", "stopped", "paused", "suspended", "rescued", "resized")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    repaired: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        if not self.findings:
            return "audit: no drift, no leaks"
        counts = Counter(f.kind for f in self.findings)
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
        fixed = f"; {len(self.repaired)} repaired" if self.repaired else ""
        return f"audit: {len(self.findings)} finding(s): {kinds}{fixed}"

    def lines(self) -> list[str]:
        out = [f"{f.line()}  [{POLICIES.get(f.kind, FLAG)}]" for f in self.findings]
        out += [f"repaired {f.kind} {f.resource_id}" for f in self.repaired]
        return [*out, self.summary()]


async def audit(
    pool: asyncpg.Pool, bus: Bus, *, repair: bool = False, timeout: float = 10.0
) -> Report:
    """Find drift and leaks; with `repair`, apply each kind's policy."""
    async with pool.acquire() as conn:
        hosts = await _hosts(conn)
    snapshots = await collect(bus, sorted(hosts), timeout)
    report = Report()
    async with pool.acquire() as conn:
        report.findings += await db_findings(conn)
        report.findings += await compare(conn, hosts, snapshots)
    if repair:
        casts: Casts = []
        for finding in report.findings:
            if POLICIES.get(finding.kind, FLAG) == FLAG:
                continue
            async with pool.acquire() as conn, conn.transaction():
                done = await repair_one(conn, finding)
            if done is not None:
                casts += done
                report.repaired.append(finding)
        await cast_all(Client(bus), casts, RequestContext())
    return report


async def _hosts(conn: Connection) -> dict[str, frozenset[str]]:
    rows = await conn.fetch("SELECT name, roles FROM hosts WHERE NOT forced_down")
    return {row["name"]: frozenset(row["roles"]) for row in rows}


async def compare(
    conn: Connection, hosts: dict[str, frozenset[str]], snapshots: Snapshots
) -> list[Finding]:
    found = [
        Finding("host.silent", host, "its agent sent no snapshot") for host in snapshots.silent
    ]
    ovn_ports: set[UUID] | None = None
    for host, snapshot in sorted(snapshots.by_host.items()):
        if HostRole.COMPUTE in snapshot.roles and "domains" not in snapshot.failed_sections:
            found += await _domains(conn, host, snapshot, snapshots)
        if HostRole.NETWORK in snapshot.roles and "ports" not in snapshot.failed_sections:
            ovn_ports = (ovn_ports or set()) | {p.port_id for p in snapshot.ports}
        if HostRole.STORAGE in snapshot.roles and "volumes" not in snapshot.failed_sections:
            found += await _volumes(conn, host, snapshot, snapshots)
    if ovn_ports is not None:
        found += await _ports(conn, ovn_ports, snapshots)
    return found


async def _domains(
    conn: Connection, host: str, snapshot: AgentSnapshot, snapshots: Snapshots
) -> list[Finding]:
    rows = await conn.fetch(
        "SELECT id, vm_state, task_state, updated_at FROM instances "
        "WHERE NOT deleted AND host = $1 "
        "UNION SELECT i.id, i.vm_state, i.task_state, i.updated_at FROM migrations m "
        "JOIN instances i ON i.id = m.instance_id AND NOT i.deleted "
        "WHERE $1 IN (m.source_host, m.dest_host) "
        "AND m.status NOT IN ('confirmed', 'reverted', 'error')",
        host,
    )
    placed = {row["id"]: row for row in rows}
    running = {d.instance_id: d for d in snapshot.domains}
    found = [
        Finding("domain.orphan", str(instance_id), "no live instance owns it", host)
        for instance_id in sorted(running.keys() - placed.keys(), key=str)
    ]
    for instance_id in sorted(placed.keys() - running.keys(), key=str):
        row = placed[instance_id]
        settled = row["task_state"] is None and row["vm_state"] in SETTLED
        if settled and row["updated_at"] < snapshots.asked_at:
            found.append(Finding("domain.missing", str(instance_id), "no domain on the host", host))
    return found


async def _volumes(
    conn: Connection, host: str, snapshot: AgentSnapshot, snapshots: Snapshots
) -> list[Finding]:
    rows = await conn.fetch(
        "SELECT id, status, updated_at FROM volumes WHERE NOT deleted "
        "AND split_part(coalesce(host, ''), '@', 1) = $1",
        host,
    )
    live = {row["id"]: row for row in rows}
    backend = {v.volume_id for v in snapshot.volumes}
    found = [
        Finding("volume.orphan", str(volume_id), "on the backend, not in the database", host)
        for volume_id in sorted(backend - live.keys(), key=str)
    ]
    for volume_id in sorted(live.keys() - backend, key=str):
        row = live[volume_id]
        if row["status"] in ("available", "in-use") and row["updated_at"] < snapshots.asked_at:
            found.append(Finding("volume.missing", str(volume_id), "not on the backend", host))
    return found


async def _ports(conn: Connection, ovn_ports: set[UUID], snapshots: Snapshots) -> list[Finding]:
    rows = await conn.fetch(
        "SELECT id, binding_host, updated_at FROM ports WHERE binding_host IS NOT NULL"
    )
    bound = {row["id"]: row for row in rows}
    known = {row["id"] for row in await conn.fetch("SELECT id FROM ports")}
    found = [
        Finding("port.orphan_in_ovn", str(port_id), "a logical port the database lacks")
        for port_id in sorted(ovn_ports - known, key=str)
    ]
    for port_id in sorted(bound.keys() - ovn_ports, key=str):
        row = bound[port_id]
        if row["updated_at"] < snapshots.asked_at:
            found.append(
                Finding(
                    "port.missing_in_ovn",
                    str(port_id),
                    "bound, no logical port",
                    row["binding_host"],
                )
            )
    return found


async def repair_one(conn: Connection, finding: Finding) -> Casts | None:
    """Apply the finding's policy inside the caller's transaction; the agent commands to
    cast once committed (None when there was nothing to do any more)."""
    kind, rid = finding.kind, finding.resource_id
    if kind == "allocation.leaked":
        released = await allocations.release(conn, UUID(rid))
        return [] if released else None
    if kind in ("port.leaked", "ip.leaked", "attachment.leaked"):
        instance_id = await _instance_of(conn, finding)
        if instance_id is None:
            return None
        return await server_devices.release(
            conn, instance_id, lifecycle.deadline_in(lifecycle.VOLUME_DELETE_S)
        )
    if kind == "vf.leaked":
        await conn.execute(
            "UPDATE pci_devices d SET status = 'available', instance_id = NULL, "
            "updated_at = now() FROM hosts h WHERE h.id = d.host_id AND h.name = $1 "
            "AND d.address = $2 AND d.status IN ('claimed', 'allocated')",
            finding.host,
            rid,
        )
        return []
    if kind == "quota.drift":
        await _adopt_quota(conn, UUID(rid))
        return []
    if kind == "domain.orphan" and finding.host is not None:
        return [(finding.host, Destroy(instance_id=UUID(rid)))]
    if kind == "domain.missing":
        return await _domain_gone(conn, UUID(rid), finding.host)
    if kind == "port.missing_in_ovn":
        return await _ensure_port(conn, UUID(rid))
    return None


async def _instance_of(conn: Connection, finding: Finding) -> UUID | None:
    """The deleted instance a leaked port, address or attachment belonged to."""
    if finding.kind == "attachment.leaked":
        value = await conn.fetchval(
            "SELECT instance_id FROM volume_attachments WHERE volume_id = $1::uuid "
            "AND status <> 'detached' LIMIT 1",
            finding.resource_id,
        )
        return UUID(str(value)) if value else None
    port_id = finding.resource_id
    if finding.kind == "ip.leaked":
        port_id = finding.detail.removeprefix("port ")
    device = await conn.fetchval("SELECT device_id FROM ports WHERE id = $1::uuid", port_id)
    return UUID(device) if device else None


async def _adopt_quota(conn: Connection, project_id: UUID) -> None:
    await conn.execute(
        """
        WITH live AS (
            SELECT count(*) AS instances, coalesce(sum((flavor->>'vcpus')::bigint), 0) AS cores,
                   coalesce(sum((flavor->>'memory_mb')::bigint), 0) AS ram
            FROM instances WHERE NOT deleted AND project_id = $1)
        UPDATE quota_usages u SET updated_at = now(), in_use = CASE u.resource
            WHEN 'instances' THEN live.instances WHEN 'cores' THEN live.cores ELSE live.ram END
        FROM live WHERE u.project_id = $1 AND u.resource IN ('instances', 'cores', 'ram')""",
        project_id,
    )


async def _domain_gone(conn: Connection, instance_id: UUID, host: str | None) -> Casts | None:
    """The host has no domain for it: the database says so (ERROR, power NOSTATE, with a
    fault naming the host), as Nova's sync does for a vanished domain."""
    row = await instances.update_state(
        conn, instance_id, expected_task_state=None, vm_state="error", power_state=0
    )
    if row is None:
        return None
    await instance_actions.add_fault(
        conn, instance_id, 500, f"audit: no domain on host {host}", host=host
    )
    await lifecycle.emit(conn, "instance.update", instance_id, None)
    return []


async def _ensure_port(conn: Connection, port_id: UUID) -> Casts | None:
    """A bound port OVN lacks: tell the network agents to make it (and its network)."""
    row = await conn.fetchrow("SELECT network_id, binding_host FROM ports WHERE id = $1", port_id)
    if row is None or row["binding_host"] is None:
        return None
    full = await net_ports.list_ports(conn, None, {"ids": [port_id]})
    if not full:
        return None
    port = port_model(full[0])
    network = await ensure_network_command(conn, row["network_id"])
    ensure = agent_network.EnsurePort(port=port, requested_chassis=row["binding_host"])
    return [(boot_ports.NETWORK, network), (boot_ports.NETWORK, ensure)]
