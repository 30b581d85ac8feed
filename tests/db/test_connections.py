"""Dead PostgreSQL connections are recovered from without a per-request ping: a connection the
server has closed is replaced at checkout, and a transaction whose first statement finds its
connection dead runs that statement again on a new one."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from kurobara.db import engine as engine_module
from kurobara.db.engine import Database
from tests.factories import MangaFactory, UserFactory

KILL_OTHERS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _postgres_only(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("SQLite has no server that could close a connection")


async def _kill_other_connections(url: str) -> int:
    killer = create_async_engine(url)
    try:
        async with killer.connect() as conn:
            killed = int((await conn.execute(text(KILL_OTHERS))).scalar_one())
    finally:
        await killer.dispose()
    await asyncio.sleep(0.3)  # the backends exit after the signal
    return killed


async def test_requests_after_the_connections_were_killed_succeed(
    client: httpx.AsyncClient, users: UserFactory, db: Database, db_url: str
) -> None:
    _postgres_only(db_url)
    alice = await users.alice()
    book = await MangaFactory(db).create()
    fav = f"/api/v1/favorites/{book.id}"
    assert (await client.post(fav, headers=alice.headers)).status_code == 200
    assert (await client.get(f"{fav}/status", headers=alice.headers)).status_code == 200

    assert await _kill_other_connections(db_url) >= 1
    status = await client.get(f"{fav}/status", headers=alice.headers)
    assert status.status_code == 200
    assert status.json()["is_favorite"] is True

    assert await _kill_other_connections(db_url) >= 1
    removed = await client.delete(fav, headers=alice.headers)
    assert removed.status_code == 200
    status = await client.get(f"{fav}/status", headers=alice.headers)
    assert status.json()["is_favorite"] is False


async def test_a_first_statement_on_a_dead_connection_is_run_again(db_url: str) -> None:
    """Without the checkout check, the dead connection reaches the session: its first
    statement fails, the pool drops the connection, and the statement runs on a new one."""
    _postgres_only(db_url)
    db = Database(db_url, pool_size=1, max_overflow=0)
    event.remove(db.engine.sync_engine.pool, "checkout", engine_module._discard_closed)
    try:
        async with db.session() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
        assert await _kill_other_connections(db_url) >= 1
        for opened in (db.session, db.read_session):
            async with opened() as session:
                again = await session.scalar(text("SELECT pg_backend_pid()"))
            assert again != first
            first = again
            await _kill_other_connections(db_url)
    finally:
        await db.dispose()


async def test_a_connection_lost_inside_a_transaction_fails_it(db_url: str) -> None:
    """Only the transaction's first statement is run again: after others, their work would be
    lost with the connection, so the error reaches the caller."""
    _postgres_only(db_url)
    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            await _kill_other_connections(db_url)
            with pytest.raises(DBAPIError):
                await session.execute(text("SELECT 2"))
    finally:
        await db.dispose()
