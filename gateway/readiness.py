"""Wait until a gateway answers HTTP (used by `skymesh up`)."""

from __future__ import annotations

import asyncio

import aiohttp


async def wait_for_gateway(base_url: str, poll_s: float = 0.2) -> None:
    """Return once `GET <base>/identity/v3` answers 200 (bound it with a timeout)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while True:
            try:
                async with http.get(base_url.rstrip("/") + "/identity/v3") as answer:
                    if answer.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(poll_s)
