"""Dashboard reads are bounded by what the page shows (issue 10.8): the Providers page reads
each provider's recent checks through the ``(provider_id, checked_at)`` index, not the whole
history, and the Manga page reads all its sources' statuses at once, not once per source."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert, text

from kurobara.db.engine import Database
from kurobara.monitoring.models import ProviderCheck
from tests.factories import MangaFactory, UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.sites import PingSite
from tests.web.helpers import web_login

PROVIDERS = 4
HISTORY_PER_PROVIDER = 500
FULL_SCAN = re.compile(r"^SCAN provider_check(\s|$)")


@pytest.fixture
def definitions(sites: list[PingSite]) -> list[dict[str, Any]]:
    return [sites[i % 2].definition(f"p{i}") for i in range(PROVIDERS)]


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the app sends to the database meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    target = db.engine.sync_engine
    event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", record)


async def add_history(db: Database, clock: ManualClock) -> None:
    start = clock.now() - timedelta(hours=HISTORY_PER_PROVIDER)
    rows = [
        {"provider_id": f"p{p}", "checked_at": start + timedelta(hours=i), "ok": True,
         "response_time": 100 + i % 50, "trigger": "scheduled"}
        for p in range(PROVIDERS) for i in range(HISTORY_PER_PROVIDER)
    ]  # fmt: skip
    async with db.session() as session:
        await session.execute(insert(ProviderCheck), rows)
        await session.commit()
        if db.dialect == "postgresql":
            await session.execute(text("ANALYZE provider_check"))
            await session.commit()


async def rows_read(db: Database, statement: str, parameters: Any) -> int | None:
    """How many ``provider_check`` rows the statement reads: None on SQLite when its plan has
    no full scan of the table (SQLite has no row counts to report), else the count
    (PostgreSQL's ``EXPLAIN ANALYZE``; a full scan on SQLite counts as the whole table)."""
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        if db.dialect == "sqlite":
            async with raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters) as cursor:
                details = [row[-1] for row in await cursor.fetchall()]
            return PROVIDERS * HISTORY_PER_PROVIDER if any(map(FULL_SCAN.match, details)) else None
        plan = await raw.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", *parameters)
    parsed = json.loads(plan) if isinstance(plan, str) else plan
    return _read_from(parsed[0]["Plan"])


def _read_from(node: dict[str, Any]) -> int:
    read = 0
    if node.get("Relation Name") == "provider_check":
        per_loop = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        read += per_loop * node.get("Actual Loops", 1)
    return read + sum(_read_from(child) for child in node.get("Plans", []))


async def test_the_providers_page_reads_only_the_checks_it_shows(
    client: httpx.AsyncClient, users: UserFactory, db: Database, clock: ManualClock
) -> None:
    await users.bob()
    assert (await web_login(client, "bob")).status_code == 303
    await add_history(db, clock)
    with statements(db) as seen:
        page = await client.get("/providers")
    assert page.status_code == 200
    reading_checks = [
        (sql, params) for sql, params in seen if re.search(r"\bprovider_check\b(?!_)", sql)
    ]
    assert reading_checks, "the page shows recent checks"
    for sql, params in reading_checks:
        read = await rows_read(db, sql, params)
        # The heartbeat shows a few dozen checks per provider; the history holds 500 each.
        assert read is None or read <= 2 * PROVIDERS * 60, (read, sql)


async def test_the_manga_page_reads_its_sources_statuses_at_once(
    client: httpx.AsyncClient, users: UserFactory, db: Database
) -> None:
    await users.bob()
    assert (await web_login(client, "bob")).status_code == 303
    manga = MangaFactory(db)
    one = await manga.create("One source", sources=[("p0", "a")])
    every = await manga.create(
        "Every source", sources=[(f"p{i}", f"x{i}") for i in range(PROVIDERS)]
    )
    counts = []
    for made in (one, every, one):  # the first load may warm caches
        with statements(db) as seen:
            page = await client.get(f"/manga/{made.id}")
        assert page.status_code == 200
        counts.append(len(seen))
    assert counts[1] == counts[2], counts
