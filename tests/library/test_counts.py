"""Counts come from a per-user counter the database keeps in each write's transaction: exact
after every kind of write, concurrent ones and a manga leaving the catalog included."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
from sqlalchemy import delete, func, select

from kurobara.db.engine import Database
from kurobara.library.models import LibraryEntry
from kurobara.manga.models import Manga
from tests.factories import MangaFactory, Persona, UserFactory

FAV = "/api/v1/favorites"
LIB = "/api/v1/library"


async def _real_counts(db: Database, user: Persona) -> tuple[int, int]:
    async with db.session() as session:
        mine = LibraryEntry.user_id == uuid.UUID(user.id)
        entries = await session.scalar(select(func.count()).where(mine))
        favorites = await session.scalar(
            select(func.count()).where(mine, LibraryEntry.is_favorite.is_(True))
        )
    return entries or 0, favorites or 0


async def _api_counts(client: httpx.AsyncClient, user: Persona) -> tuple[int, int]:
    library = await client.get(f"{LIB}/?limit=1", headers=user.headers)
    count = await client.get(f"{FAV}/count", headers=user.headers)
    favorites = await client.get(f"{FAV}/?limit=1", headers=user.headers)
    assert count.json()["count"] == int(favorites.headers["X-Total-Count"])
    return int(library.headers["X-Total-Count"]), count.json()["count"]


async def test_counts_stay_exact_under_concurrent_mixed_writes(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, db: Database
) -> None:
    bob = await users.bob()
    ids = [str(m.id) for m in await manga.create_many(12)]
    rng = random.Random(14)

    async def write() -> httpx.Response:
        mid = rng.choice(ids)
        bulk = {"manga_ids": rng.sample(ids, 5), "is_favorite": rng.random() < 0.5}
        method, path, body = rng.choice(
            [
                ("POST", f"{FAV}/{mid}", None),
                ("DELETE", f"{FAV}/{mid}", None),
                ("POST", f"{LIB}/{mid}", None),
                ("DELETE", f"{LIB}/{mid}", None),
                ("PATCH", f"{LIB}/{mid}", {"is_favorite": True}),
                ("PATCH", f"{FAV}/bulk", bulk),
            ]
        )
        return await client.request(method, path, json=body, headers=bob.headers)

    responses = await asyncio.gather(*(write() for _ in range(80)))
    assert {r.status_code for r in responses} <= {200, 204, 404}
    assert await _api_counts(client, bob) == await _real_counts(db, bob)


async def test_a_manga_leaving_the_catalog_leaves_the_counts(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, db: Database
) -> None:
    alice, bob = await users.alice(), await users.bob()
    a, b = await manga.create_many(2)
    for who in (alice, bob):
        await client.patch(
            f"{FAV}/bulk", json={"manga_ids": [str(a.id), str(b.id)], "is_favorite": True},
            headers=who.headers,
        )  # fmt: skip
    await client.delete(f"{FAV}/{b.id}", headers=bob.headers)
    async with db.session() as session:
        await session.execute(delete(Manga).where(Manga.id == a.id))
        await session.commit()
    assert await _api_counts(client, bob) == (1, 0) == await _real_counts(db, bob)
    assert await _api_counts(client, alice) == (1, 1) == await _real_counts(db, alice)


async def test_a_search_counts_only_its_matches(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    made = [await manga.create(title) for title in ("Blue Period", "Blue Lock", "Red")]
    await client.patch(
        f"{FAV}/bulk", json={"manga_ids": [str(m.id) for m in made], "is_favorite": True},
        headers=bob.headers,
    )  # fmt: skip
    response = await client.get(f"{FAV}/?search=blue", headers=bob.headers)
    assert response.headers["X-Total-Count"] == "2"
