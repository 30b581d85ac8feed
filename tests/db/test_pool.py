"""An exhausted connection pool is the server being busy: a request that waited the pool timeout
out is answered 503 with ``Retry-After`` (not a 500 and a dropped connection), and the next one
is served once a connection is free. The pool's size and timeout come from the settings."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text

from kurobara.config import Settings
from kurobara.db.engine import Database, FairPool
from tests.factories import UserFactory
from tests.monitoring.helpers import eventually

WAIT_SECONDS = 0.5


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "database_pool_size": 1,
        "database_max_overflow": 0,
        "database_pool_timeout": WAIT_SECONDS,
    }


async def test_a_request_that_finds_every_connection_busy_is_a_503_to_retry(
    client: httpx.AsyncClient, users: UserFactory, db: Database
) -> None:
    bob = await users.bob()
    async with db.session() as held:
        await held.execute(text("SELECT 1"))  # the pool's one connection, checked out
        busy = await client.get("/api/v1/favorites/count", headers=bob.headers)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    assert f"within {WAIT_SECONDS:g} s" in busy.json()["detail"]
    served = await client.get("/api/v1/favorites/count", headers=bob.headers)
    assert (served.status_code, served.json()) == (200, {"count": 0})


def test_the_pool_options_come_from_the_settings(settings_overrides: dict[str, object]) -> None:
    tuned = Settings(_env_file=None, **settings_overrides)  # type: ignore[call-arg]
    assert tuned.database_pool() == {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5}
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.database_pool() == {"pool_timeout": 30.0}


async def test_an_in_memory_sqlite_database_takes_no_pool_options() -> None:
    memory = Database("sqlite+aiosqlite:///:memory:", pool_size=1, pool_timeout=1.0)
    try:
        async with memory.session() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await memory.dispose()


async def test_a_connection_given_back_goes_to_the_session_that_waited_longest(
    db_url: str,
) -> None:
    """The task that gives a connection back and asks again at once queues behind the session
    already waiting (SQLAlchemy's own queue let it take the connection first: under load some
    requests waited seconds while the rest took a fraction of one)."""
    pool = Database(db_url, pool_size=1, max_overflow=0, pool_timeout=10)
    served: list[str] = []

    async def waiter() -> None:
        async with pool.session() as session:
            await session.execute(text("SELECT 1"))
            served.append("waiter")

    async def is_waiting() -> bool:
        assert isinstance(pool.engine.pool, FairPool)
        return pool.engine.pool.waiting == 1

    try:
        first = pool.sessionmaker()
        await first.execute(text("SELECT 1"))  # the pool's one connection
        waiting = asyncio.create_task(waiter())
        await eventually(is_waiting)
        # Closed directly (``async with`` closes in a task of its own): this task goes on to
        # ask again before the loop has run anything else, as another request's task would.
        await first.close()
        async with pool.session() as again:
            await again.execute(text("SELECT 1"))
            served.append("again")
        await waiting
        assert served == ["waiter", "again"]
    finally:
        await pool.dispose()
