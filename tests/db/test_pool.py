"""An exhausted connection pool is the server being busy: a request that waited the pool timeout
out is answered 503 with ``Retry-After`` (not a 500 and a dropped connection), and the next one
is served once a connection is free. The pool's size and timeout come from the settings."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from kurobara.config import Settings
from kurobara.db.engine import Database
from tests.factories import UserFactory

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
