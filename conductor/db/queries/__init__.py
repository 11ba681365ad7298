"""Plain-SQL query modules, one per aggregate. Every function takes an asyncpg
connection (or pool proxy) first and returns dicts or small dataclasses. Functions that
must be atomic open their own (possibly nested) transaction; callers that combine several
of them into one state change wrap them in `async with conn.transaction():`."""
