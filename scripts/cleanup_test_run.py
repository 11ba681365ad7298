"""Drop every database and vhost a test run created (names carry the run id), whatever
happened to the run's own fixtures: `make test` calls this when pytest ends."""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from conductor.db.admin import drop_database
from corebus.amqp.admin import delete_vhost, list_vhosts

PG = "postgresql://postgres@127.0.0.1:5432"


async def main(run_id: str) -> int:
    marker = f"_{run_id}_"
    vhosts = [v for v in await list_vhosts() if marker in v]
    for vhost in vhosts:
        await delete_vhost(vhost)
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        names = [
            r["datname"]
            for r in await conn.fetch(
                "SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0", marker
            )
        ]
    finally:
        await conn.close()
    for name in names:
        await drop_database(f"{PG}/{name}")
    if vhosts or names:
        print(f"cleaned up after run {run_id}: {len(vhosts)} vhost(s), {len(names)} database(s)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
