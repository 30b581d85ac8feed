"""Property: walking the favorites pages partitions the favorites — every one exactly once —
whatever the sort, page size and ties, also while other writes land concurrently (another
user's favorites of the same manga, the user's own non-favorite entries)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from kurobara.db.engine import Database
from kurobara.library.models import LibraryEntry
from tests.factories import MangaFactory, UserFactory

FAV = "/api/v1/favorites"


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ratings=st.lists(st.sampled_from([None, 1.0, 2.5, 5.0]), max_size=14),
    limit=st.integers(min_value=1, max_value=5),
    sort_by=st.sampled_from(["updated_at", "created_at", "title", "rating"]),
    sort_order=st.sampled_from(["asc", "desc"]),
    concurrent_writes=st.booleans(),
)
async def test_pages_partition_the_favorites(
    client: httpx.AsyncClient,
    users: UserFactory,
    manga: MangaFactory,
    db: Database,
    ratings: list[float | None],
    limit: int,
    sort_by: str,
    sort_order: str,
    concurrent_writes: bool,
) -> None:
    bob, charlie = await users.bob(), await users.charlie()
    async with db.session() as session:  # each example starts from an empty library
        await session.execute(delete(LibraryEntry))
        await session.commit()
    made = [await manga.create("Same title") for _ in ratings]
    others = await manga.create_many(3)
    ids = [str(m.id) for m in made]
    if ids:
        bulk = {"manga_ids": ids, "is_favorite": True}  # one statement: equal updated_at
        assert (await client.patch(f"{FAV}/bulk", json=bulk, headers=bob.headers)).is_success
    for m, rating in zip(made, ratings, strict=True):
        if rating is not None:
            await client.patch(
                f"/api/v1/library/{m.id}", json={"rating": rating}, headers=bob.headers
            )
    pages = max(1, -(-len(ids) // limit)) + 1  # one page past the end as well

    async def page(number: int) -> list[str]:
        query = {"page": number, "limit": limit, "sort_by": sort_by, "sort_order": sort_order}
        response = await client.get(f"{FAV}/", params=query, headers=bob.headers)
        assert response.status_code == 200, response.text
        assert response.headers["X-Total-Count"] == str(len(ids))
        return [item["manga_id"] for item in response.json()]

    async def writes() -> None:
        for m in [*made, *others]:
            await client.post(f"{FAV}/{m.id}", headers=charlie.headers)
        for m in others:
            await client.post(f"/api/v1/library/{m.id}", headers=bob.headers)
            await client.delete(f"{FAV}/{m.id}", headers=charlie.headers)

    walk = asyncio.gather(*(page(n) for n in range(1, pages + 1)))
    if concurrent_writes:
        walked, _ = await asyncio.gather(walk, writes())
    else:
        walked = await walk
    seen = [manga_id for items in walked for manga_id in items]
    assert len(seen) == len(set(seen))
    assert set(seen) == set(ids)
    assert all(len(items) <= limit for items in walked)
    assert walked[-1] == []
    assert {uuid.UUID(i) for i in seen}.isdisjoint({m.id for m in others})
