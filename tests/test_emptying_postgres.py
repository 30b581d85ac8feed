"""The suite's own PostgreSQL emptying (``truncate_postgres``) against a transaction that holds
one table and then wants another the emptying already holds, as a background job of a server
kept running between tests does: PostgreSQL fails one side of that deadlock, and the emptying
still ends with every table empty."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import truncate_postgres
from tests.factories import UserFactory


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite files are replaced
async def test_emptying_survives_a_deadlock_with_a_running_job(
    db_url: str, users: UserFactory
) -> None:
    await users.bob()
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as probe:
            names = (
                (
                    await probe.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                            "AND tablename <> 'alembic_version'"
                        )
                    )
                )
                .scalars()
                .all()
            )
        first, held = names[0], "users"  # the emptying takes ``first`` before ``users``
        assert names.index(held) > 0
        holding = asyncio.Event()

        async def job() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("SET LOCAL deadlock_timeout = '5s'"))
                await conn.execute(text(f'LOCK TABLE "{held}" IN SHARE MODE'))
                holding.set()
                await asyncio.sleep(0.5)  # the emptying is waiting for ``users`` by now
                # The emptying's DELETE holds ``first`` (ROW EXCLUSIVE, which SHARE waits for):
                # a deadlock, which PostgreSQL breaks by failing the emptying (it waited first
                # and checks first).
                await conn.execute(text(f'LOCK TABLE "{first}" IN SHARE MODE'))

        running = asyncio.create_task(job())
        await holding.wait()
        await asyncio.wait_for(truncate_postgres(db_url), timeout=60)
        await running
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM users"))).scalar_one() == 0
    finally:
        await engine.dispose()
