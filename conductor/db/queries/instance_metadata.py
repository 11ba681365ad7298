"""Instance metadata (key/value) and tags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from conductor.db.types import Connection, affected


async def set_metadata(
    conn: Connection, instance_id: UUID, items: Mapping[str, str], *, replace: bool = False
) -> dict[str, str]:
    """Merge `items` into the metadata (or replace it all); the resulting metadata."""
    async with conn.transaction():
        if replace:
            await conn.execute(
                "DELETE FROM instance_metadata WHERE instance_id = $1 AND NOT (key = ANY($2))",
                instance_id,
                list(items),
            )
        await conn.executemany(
            "INSERT INTO instance_metadata (instance_id, key, value) VALUES ($1, $2, $3) "
            "ON CONFLICT (instance_id, key) DO UPDATE SET value = excluded.value",
            [(instance_id, k, v) for k, v in items.items()],
        )
        return await get_metadata(conn, instance_id)


async def get_metadata(conn: Connection, instance_id: UUID) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT key, value FROM instance_metadata WHERE instance_id = $1 ORDER BY key",
        instance_id,
    )
    return {row["key"]: row["value"] for row in rows}


async def delete_metadata_key(conn: Connection, instance_id: UUID, key: str) -> bool:
    status = await conn.execute(
        "DELETE FROM instance_metadata WHERE instance_id = $1 AND key = $2", instance_id, key
    )
    return affected(status) == 1


async def set_tags(conn: Connection, instance_id: UUID, tags: Iterable[str]) -> list[str]:
    """Replace the tags; the resulting tags, sorted."""
    wanted = sorted(set(tags))
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM instance_tags WHERE instance_id = $1 AND NOT (tag = ANY($2))",
            instance_id,
            wanted,
        )
        await conn.execute(
            "INSERT INTO instance_tags (instance_id, tag) SELECT $1, unnest($2::text[]) "
            "ON CONFLICT DO NOTHING",
            instance_id,
            wanted,
        )
    return wanted


async def add_tag(conn: Connection, instance_id: UUID, tag: str) -> bool:
    """True when the tag was added, False when it was there already."""
    status = await conn.execute(
        "INSERT INTO instance_tags (instance_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        instance_id,
        tag,
    )
    return affected(status) == 1


async def remove_tag(conn: Connection, instance_id: UUID, tag: str) -> bool:
    status = await conn.execute(
        "DELETE FROM instance_tags WHERE instance_id = $1 AND tag = $2", instance_id, tag
    )
    return affected(status) == 1
