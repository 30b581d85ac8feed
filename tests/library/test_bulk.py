"""PATCH /favorites/bulk: one statement, all or nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from kurobara.db.engine import Database
from kurobara.library import service
from tests.factories import MangaFactory, UserFactory

BULK = "/api/v1/favorites/bulk"


async def test_it_favorites_many_and_collapses_duplicates(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    a, b = await manga.create_many(2)
    ids = [str(a.id), str(b.id), str(a.id)]
    response = await client.patch(
        BULK, json={"manga_ids": ids, "is_favorite": True}, headers=bob.headers
    )
    assert response.status_code == 200
    assert response.json() == {
        "updated": 2,
        "is_favorite": True,
        "manga_ids": [str(a.id), str(b.id)],
    }
    count = await client.get("/api/v1/favorites/count", headers=bob.headers)
    assert count.json() == {"count": 2}


async def test_it_unfavorites_many_and_keeps_the_entries(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    a, b, c = await manga.create_many(3)
    ids = [str(a.id), str(b.id)]
    await client.patch(BULK, json={"manga_ids": ids, "is_favorite": True}, headers=bob.headers)
    response = await client.patch(
        BULK, json={"manga_ids": [*ids, str(c.id)], "is_favorite": False}, headers=bob.headers
    )
    assert response.json()["updated"] == 2  # c was never in the library
    library = await client.get("/api/v1/library/", headers=bob.headers)
    assert library.headers["X-Total-Count"] == "2"
    assert not any(item["is_favorite"] for item in library.json())


async def test_a_bulk_request_with_an_unknown_id_changes_nothing(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    a, b = await manga.create_many(2)
    await client.post(f"/api/v1/favorites/{a.id}", headers=bob.headers)
    ghosts = [str(uuid.uuid4()), str(uuid.uuid4())]
    for favorite in (True, False):
        response = await client.patch(
            BULK,
            json={
                "manga_ids": [str(a.id), ghosts[0], str(b.id), ghosts[1]],
                "is_favorite": favorite,
            },
            headers=bob.headers,
        )
        assert response.status_code == 404
        assert response.json()["detail"]["unknown_manga_ids"] == ghosts
    status_a = await client.get(f"/api/v1/favorites/{a.id}/status", headers=bob.headers)
    status_b = await client.get(f"/api/v1/favorites/{b.id}/status", headers=bob.headers)
    assert status_a.json()["is_favorite"] is True
    assert status_b.json()["is_favorite"] is False


async def test_it_accepts_500_ids_and_refuses_501_or_none(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    five_hundred = [str(m.id)] * 500
    ok = await client.patch(
        BULK, json={"manga_ids": five_hundred, "is_favorite": True}, headers=bob.headers
    )
    assert ok.status_code == 200
    for ids in ([str(m.id)] * 501, []):
        response = await client.patch(
            BULK, json={"manga_ids": ids, "is_favorite": True}, headers=bob.headers
        )
        assert response.status_code == 422


async def test_it_rejects_malformed_bulk_bodies_with_422(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    for body in (
        {"manga_ids": ["nope"], "is_favorite": True},
        {"manga_ids": [str(uuid.uuid4())]},
        {"manga_ids": [str(uuid.uuid4())], "is_favorite": "maybe"},
        [],
    ):
        response = await client.patch(BULK, json=body, headers=bob.headers)
        assert response.status_code == 422, body


async def test_a_single_unknown_id_is_listed_too(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    known = await manga.create()
    ghost = str(uuid.uuid4())
    response = await client.patch(
        BULK, json={"manga_ids": [str(known.id), ghost], "is_favorite": True}, headers=bob.headers
    )
    assert response.status_code == 404
    assert response.json()["detail"]["unknown_manga_ids"] == [ghost]
    alone = await client.patch(
        BULK, json={"manga_ids": [ghost], "is_favorite": True}, headers=bob.headers
    )
    assert alone.json()["detail"] == {"message": "Unknown manga", "unknown_manga_ids": [ghost]}


async def test_a_foreign_key_failure_names_only_the_ids_that_are_gone(
    users: UserFactory, manga: MangaFactory, db: Database
) -> None:
    # The write itself finds a manga missing (deleted after the ids were checked): the error
    # must still list exactly the missing ids.
    bob = await users.bob()
    known = await manga.create()
    ghost = uuid.uuid4()
    async with db.session() as session:
        with pytest.raises(service.MangaNotFound) as caught:
            await service.upsert_entries(
                db_session=session,
                user_id=uuid.UUID(bob.id),
                manga_ids=[known.id, ghost],
                changes={"is_favorite": True},
            )
    assert caught.value.manga_ids == [ghost]
