"""Start-up: the sweep runs in the background, so a served instance answers at once even when
every provider hangs; shutdown cancels the hung checks and leaves nothing ``testing``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring.models import ProviderStatus
from tests.conftest import TLS
from tests.monitoring.helpers import ServedApp
from tests.monitoring.sites import PingSite


@pytest.fixture
def site_count() -> int:
    return 1


@pytest.fixture
def definitions(sites: list[PingSite]) -> list[dict[str, Any]]:
    sites[0].slow_seconds = 60
    sites[0].set_fault("slow")
    return [sites[0].definition(f"hang{i:02d}") for i in range(20)]


@pytest.fixture
def monitor_settings() -> dict[str, object]:
    return {"monitor_enabled": True, "check_timeout": 30.0}


@pytest.fixture
def served(settings: Settings) -> Iterator[ServedApp]:
    app = ServedApp(settings)
    yield app
    if app.thread.is_alive():
        app.stop()


def first_answer(url: str, deadline: float) -> float:
    started = time.monotonic()
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1, verify=TLS).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.02)
    raise AssertionError("server never answered")


async def leased_rows(db_url: str) -> list[str | None]:
    db = Database(db_url)
    try:
        async with db.session() as session:
            return list((await session.scalars(select(ProviderStatus.lease_owner))).all())
    finally:
        await db.dispose()


async def test_healthz_answers_while_20_providers_hang(
    served: ServedApp, site: PingSite, db_url: str
) -> None:
    await asyncio.to_thread(served.start)
    # Serving long before any hung check (30 s timeout) could end: start-up did not wait.
    waited = await asyncio.to_thread(first_answer, served.url, time.monotonic() + 10)
    assert waited < 10
    for _ in range(500):  # the sweep has started: five checks (the concurrency) hang
        if site.requests >= 5:
            break
        await asyncio.sleep(0.01)
    assert site.requests == 5
    async with httpx.AsyncClient(base_url=served.url, verify=TLS) as client:
        # Answered while the checks hang (each for its 30 s timeout). The wall clock only tells
        # that apart: how fast it answers is bench/, not a test on a loaded machine.
        for _ in range(5):
            assert (await client.get("/healthz", timeout=10)).status_code == 200
    assert sum(owner is not None for owner in await leased_rows(db_url)) == 5
    await asyncio.to_thread(served.stop)
    assert await leased_rows(db_url) == [None] * 20
