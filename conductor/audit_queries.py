"""The database's own consistency audit: leaks and double bookings that no agent needs to be
asked about, one query per kind.

Each query returns the offending rows as `Finding`s. The chaos tests run `db_findings`
after every fault (nothing leaked or double-booked), `skymesh audit` runs it before
comparing the database with the agents' snapshots (conductor/audit.py).

Kinds:
- `allocation.leaked`: an allocation held by a deleted instance, or by an instance in
  ERROR that never got a host (its build failed: fail_build releases them);
- `allocation.overcommitted`: a provider's resource class allocated past its capacity;
- `port.leaked`: a port bound for a compute device whose instance is deleted or missing;
- `ip.leaked`: an IP allocation whose port is bound to a deleted or missing instance;
- `ip.double_booked`: one address held twice on one network;
- `vf.leaked`: a PCI device (a VF) claimed or allocated by a deleted or missing instance;
- `vf.double_booked`: one PCI address held by two instances on one host;
- `attachment.leaked`: a live volume attachment of a deleted instance;
- `volume.double_attached`: a volume that is not multiattach attached to two instances;
- `quota.drift`: a project's recorded usage of instances/cores/ram differs from its
  live instances (a retried request charged twice, or a release lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conductor.db.types import Connection


@dataclass(frozen=True)
class Finding:
    kind: str
    resource_id: str
    detail: str = ""
    host: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def line(self) -> str:
        where = f" on {self.host}" if self.host else ""
        return f"{self.kind:<26} {self.resource_id}{where}: {self.detail}".rstrip(": ")


_GONE = "(i.id IS NULL OR i.deleted)"

QUERIES: dict[str, str] = {
    "allocation.leaked": f"""
        SELECT a.consumer_id::text AS id, a.resource_class || '=' || a.amount AS detail,
               NULL::text AS host
        FROM allocations a LEFT JOIN instances i ON i.id = a.consumer_id
        WHERE {_GONE} OR (i.vm_state = 'error' AND i.host IS NULL AND i.task_state IS NULL)
        ORDER BY 1, 2""",
    "allocation.overcommitted": """
        SELECT a.provider_id::text AS id,
               a.resource_class || ' used ' || sum(a.amount) || ' of '
                 || ((i.total - i.reserved) * i.allocation_ratio)::bigint AS detail,
               NULL::text AS host
        FROM allocations a JOIN inventories i USING (provider_id, resource_class)
        GROUP BY a.provider_id, a.resource_class, i.total, i.reserved, i.allocation_ratio
        HAVING sum(a.amount) > (i.total - i.reserved) * i.allocation_ratio
        ORDER BY 1""",
    "port.leaked": f"""
        SELECT p.id::text AS id, 'device ' || p.device_id AS detail, p.binding_host AS host
        FROM ports p LEFT JOIN instances i ON i.id::text = p.device_id
        WHERE p.device_owner LIKE 'compute:%' AND {_GONE}
        ORDER BY 1""",
    "ip.leaked": f"""
        SELECT host(a.ip_address) AS id, 'port ' || p.id AS detail, NULL::text AS host
        FROM ip_allocations a JOIN ports p ON p.id = a.port_id
        LEFT JOIN instances i ON i.id::text = p.device_id
        WHERE p.device_owner LIKE 'compute:%' AND {_GONE}
        ORDER BY 1""",
    "ip.double_booked": """
        SELECT host(ip_address) AS id, count(*) || ' holders' AS detail, NULL::text AS host
        FROM ip_allocations GROUP BY network_id, ip_address HAVING count(*) > 1
        ORDER BY 1""",
    "vf.leaked": f"""
        SELECT d.address AS id, d.status || ' by ' || coalesce(d.instance_id::text, '-')
                 AS detail, h.name AS host
        FROM pci_devices d JOIN hosts h ON h.id = d.host_id
        LEFT JOIN instances i ON i.id = d.instance_id
        WHERE d.status IN ('claimed', 'allocated') AND {_GONE}
        ORDER BY 3, 1""",
    "vf.double_booked": """
        SELECT d.address AS id, count(DISTINCT d.instance_id) || ' holders' AS detail,
               h.name AS host
        FROM pci_devices d JOIN hosts h ON h.id = d.host_id
        WHERE d.instance_id IS NOT NULL
        GROUP BY h.name, d.address HAVING count(DISTINCT d.instance_id) > 1
        ORDER BY 3, 1""",
    "attachment.leaked": f"""
        SELECT va.volume_id::text AS id, 'attachment ' || va.id || ' of ' || va.instance_id
                 AS detail, va.attached_host AS host
        FROM volume_attachments va LEFT JOIN instances i ON i.id = va.instance_id
        WHERE va.status <> 'detached' AND {_GONE}
        ORDER BY 1""",
    "volume.double_attached": """
        SELECT v.id::text AS id, count(*) || ' live attachments' AS detail, NULL::text AS host
        FROM volumes v JOIN volume_attachments va ON va.volume_id = v.id
        WHERE va.status <> 'detached' AND NOT v.multiattach
        GROUP BY v.id HAVING count(*) > 1
        ORDER BY 1""",
    "quota.drift": """
        WITH live AS (
            SELECT project_id, count(*) AS instances,
                   sum((flavor->>'vcpus')::bigint) AS cores,
                   sum((flavor->>'memory_mb')::bigint) AS ram
            FROM instances WHERE NOT deleted GROUP BY project_id),
        counted AS (
            SELECT u.project_id, u.resource, u.in_use,
                   CASE u.resource WHEN 'instances' THEN coalesce(l.instances, 0)
                                   WHEN 'cores' THEN coalesce(l.cores, 0)
                                   ELSE coalesce(l.ram, 0) END AS actual
            FROM quota_usages u LEFT JOIN live l USING (project_id)
            WHERE u.resource IN ('instances', 'cores', 'ram'))
        SELECT project_id::text AS id,
               resource || ' recorded ' || in_use || ', live ' || actual AS detail,
               NULL::text AS host
        FROM counted WHERE in_use <> actual
        ORDER BY 1, 2""",
}


async def db_findings(conn: Connection, kinds: tuple[str, ...] | None = None) -> list[Finding]:
    """Every leak and double booking the database shows by itself."""
    found: list[Finding] = []
    for kind, sql in QUERIES.items():
        if kinds is not None and kind not in kinds:
            continue
        for row in await conn.fetch(sql):
            found.append(Finding(kind, row["id"], row["detail"] or "", row["host"]))
    return found
