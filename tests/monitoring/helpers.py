"""Small helpers shared by the monitoring tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from kurobara.db.engine import Database
from kurobara.monitoring.models import ProviderStatus
from kurobara.monitoring.service import get_row


async def row(db: Database, provider_id: str) -> ProviderStatus:
    async with db.session() as session:
        return await get_row(db_session=session, provider_id=provider_id)


async def status_of(
    client: httpx.AsyncClient, headers: dict[str, str], provider_id: str
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/providers/{provider_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def eventually(predicate: Callable[[], Awaitable[bool]], *, seconds: float = 5) -> None:
    """Wait for something another task does (not for a schedule: the clock is manual)."""
    for _ in range(int(seconds / 0.01)):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")
