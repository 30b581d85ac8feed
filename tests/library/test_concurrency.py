"""Upserts under concurrency: the unique (user, manga) pair and ON CONFLICT keep one row."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from kurobara.db.engine import Database
from kurobara.library.models import LibraryEntry
from tests.factories import MangaFactory, UserFactory


async def test_fifty_concurrent_favorites_give_one_row_and_fifty_successes(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, db: Database
) -> None:
    bob = await users.bob()
    m = await manga.create()
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/favorites/{m.id}", headers=bob.headers) for _ in range(50))
    )
    assert [r.status_code for r in responses] == [200] * 50
    assert len({r.json()["id"] for r in responses}) == 1
    async with db.session() as session:
        rows = await session.scalar(select(func.count()).where(LibraryEntry.manga_id == m.id))
    assert rows == 1


async def test_concurrent_favorite_and_library_writes_keep_one_row(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, db: Database
) -> None:
    bob = await users.bob()
    m = await manga.create()
    requests = [
        client.post(f"/api/v1/library/{m.id}", json={"notes": "n"}, headers=bob.headers)
        for _ in range(10)
    ] + [client.post(f"/api/v1/favorites/{m.id}", headers=bob.headers) for _ in range(10)]
    responses = await asyncio.gather(*requests)
    assert {r.status_code for r in responses} == {200}
    async with db.session() as session:
        entries = (await session.scalars(select(LibraryEntry))).all()
    assert len(entries) == 1
    assert entries[0].is_favorite is True
    assert entries[0].notes == "n"
