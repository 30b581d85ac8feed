"""The seed's favorites endpoints: add, remove, status, count."""

from __future__ import annotations

import uuid

import httpx

from tests.factories import MangaFactory, UserFactory

FAV = "/api/v1/favorites"


async def test_it_favorites_a_manga_in_the_seed_shape(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    berserk = await manga.create("Berserk", description="Dark fantasy", cover_image="http://c/1")
    response = await client.post(f"{FAV}/{berserk.id}", headers=bob.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["manga_id"] == str(berserk.id)
    assert body["user_id"] == bob.id
    assert body["is_favorite"] is True
    assert {"id", "custom_title", "rating", "notes", "created_at", "updated_at"} <= body.keys()
    assert body["manga"]["title"] == "Berserk"
    assert body["manga"]["description"] == "Dark fantasy"
    assert body["manga"]["cover_image"] == "http://c/1"


async def test_it_is_idempotent_to_favorite_twice(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    first = await client.post(f"{FAV}/{m.id}", headers=bob.headers)
    second = await client.post(f"{FAV}/{m.id}", headers=bob.headers)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["favorited_at"] == first.json()["favorited_at"]
    count = await client.get(f"{FAV}/count", headers=bob.headers)
    assert count.json() == {"count": 1}


async def test_it_reports_status_before_and_after(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    before = await client.get(f"{FAV}/{m.id}/status", headers=bob.headers)
    assert before.json() == {"manga_id": str(m.id), "is_favorite": False}
    await client.post(f"{FAV}/{m.id}", headers=bob.headers)
    after = await client.get(f"{FAV}/{m.id}/status", headers=bob.headers)
    assert after.json() == {"manga_id": str(m.id), "is_favorite": True}


async def test_it_unfavorites_idempotently(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    await client.post(f"{FAV}/{m.id}", headers=bob.headers)
    for _ in range(2):
        response = await client.delete(f"{FAV}/{m.id}", headers=bob.headers)
        assert response.status_code == 200
        assert response.json() == {"manga_id": str(m.id), "is_favorite": False}
    assert (await client.get(f"{FAV}/count", headers=bob.headers)).json() == {"count": 0}


async def test_unfavoriting_keeps_notes_and_rating(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    await client.post(f"{FAV}/{m.id}", headers=bob.headers)
    await client.patch(
        f"/api/v1/library/{m.id}", json={"rating": 4.5, "notes": "Great!"}, headers=bob.headers
    )
    await client.delete(f"{FAV}/{m.id}", headers=bob.headers)
    entry = (await client.get(f"/api/v1/library/{m.id}", headers=bob.headers)).json()
    assert entry["is_favorite"] is False
    assert entry["rating"] == 4.5
    assert entry["notes"] == "Great!"
    assert entry["favorited_at"] is None


async def test_unfavoriting_a_manga_never_added_creates_no_entry(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    assert (await client.delete(f"{FAV}/{m.id}", headers=bob.headers)).status_code == 200
    assert (await client.get(f"/api/v1/library/{m.id}", headers=bob.headers)).status_code == 404


async def test_it_answers_404_for_an_unknown_manga(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    ghost = uuid.uuid4()
    for method, path in [
        ("POST", f"{FAV}/{ghost}"),
        ("DELETE", f"{FAV}/{ghost}"),
        ("GET", f"{FAV}/{ghost}/status"),
    ]:
        response = await client.request(method, path, headers=bob.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["detail"] == "Manga not found"


async def test_it_answers_422_for_a_malformed_id(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    for method, path in [
        ("POST", f"{FAV}/not-a-uuid"),
        ("DELETE", f"{FAV}/not-a-uuid"),
        ("GET", f"{FAV}/not-a-uuid/status"),
        ("POST", f"{FAV}/count"),
    ]:
        response = await client.request(method, path, headers=bob.headers)
        assert response.status_code in (405, 422), (method, path)
    assert (await client.post(f"{FAV}/not-a-uuid", headers=bob.headers)).status_code == 422


async def test_count_and_bulk_are_not_taken_for_a_manga_id(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    count = await client.get(f"{FAV}/count", headers=bob.headers)
    assert count.json() == {"count": 0}
    bulk = await client.patch(
        f"{FAV}/bulk", json={"manga_ids": [str(m.id)], "is_favorite": True}, headers=bob.headers
    )
    assert bulk.status_code == 200
    assert (await client.get(f"{FAV}/export", headers=bob.headers)).status_code == 200


async def test_it_requires_a_login(client: httpx.AsyncClient, manga: MangaFactory) -> None:
    m = await manga.create()
    for method, path in [
        ("GET", f"{FAV}/"),
        ("GET", f"{FAV}/count"),
        ("POST", f"{FAV}/{m.id}"),
        ("GET", f"{FAV}/{m.id}/status"),
        ("GET", "/api/v1/library/"),
    ]:
        assert (await client.request(method, path)).status_code == 401, (method, path)
