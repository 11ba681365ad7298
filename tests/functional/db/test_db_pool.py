"""The pool: application_name and orjson JSON codecs on every connection."""

from __future__ import annotations

import asyncpg
import pytest

from conductor.db.pool import open_pool
from corebus.config import DatabaseSettings

pytestmark = pytest.mark.functional


async def test_pool_connections_carry_role_and_json_codecs(migrated_dsn: str) -> None:
    settings = DatabaseSettings(dsn=migrated_dsn, pool_min=2, pool_max=3)
    async with open_pool(settings, role="scheduler-test") as pool:
        async with pool.acquire() as conn:
            name = await conn.fetchval("SELECT current_setting('application_name')")
            as_jsonb = await conn.fetchval("SELECT $1::jsonb", {"a": [1, 2.5, None, "é"]})
            as_json = await conn.fetchval("SELECT $1::json", [{"b": True}])
            jsonb_op = await conn.fetchval("SELECT $1::jsonb || '{\"c\": 3}'::jsonb", {"a": 1})
        assert name == "skymesh-scheduler-test"
        assert as_jsonb == {"a": [1, 2.5, None, "é"]}
        assert as_json == [{"b": True}]
        assert jsonb_op == {"a": 1, "c": 3}
        assert pool.get_size() >= 2
    assert pool.is_closing()


async def test_default_role_is_conductor(pool: asyncpg.Pool) -> None:
    assert await pool.fetchval("SELECT current_setting('application_name')") == (
        "skymesh-conductor"
    )
