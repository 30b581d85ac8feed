"""/library: list, add, edit, remove; validation of the editable fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine

from tests.factories import MangaFactory, UserFactory

LIB = "/api/v1/library"


async def test_it_adds_a_manga_with_fields_and_lists_it(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create("Vagabond")
    body = {"custom_title": "  Musashi  ", "rating": 5, "notes": "re-read"}
    added = await client.post(f"{LIB}/{m.id}", json=body, headers=bob.headers)
    assert added.status_code == 200
    assert added.json()["custom_title"] == "Musashi"
    assert added.json()["is_favorite"] is False
    listed = await client.get(f"{LIB}/", headers=bob.headers)
    assert listed.headers["X-Total-Count"] == "1"
    assert listed.json()[0]["manga"]["title"] == "Vagabond"


async def test_adding_again_keeps_what_the_body_does_not_name(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    await client.post(f"{LIB}/{m.id}", json={"notes": "keep me"}, headers=bob.headers)
    again = await client.post(f"{LIB}/{m.id}", headers=bob.headers)
    assert again.json()["notes"] == "keep me"


async def test_it_filters_the_library_by_favorite_status(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    a, b = await manga.create_many(2)
    await client.post(f"{LIB}/{a.id}", json={"is_favorite": True}, headers=bob.headers)
    await client.post(f"{LIB}/{b.id}", headers=bob.headers)
    for flag, expected in [("true", a.id), ("false", b.id)]:
        response = await client.get(f"{LIB}/?is_favorite={flag}", headers=bob.headers)
        assert [item["manga_id"] for item in response.json()] == [str(expected)]


async def test_it_edits_and_clears_fields(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    await client.post(f"{LIB}/{m.id}", json={"rating": 3, "notes": "ok"}, headers=bob.headers)
    edited = await client.patch(
        f"{LIB}/{m.id}", json={"rating": None, "is_favorite": True}, headers=bob.headers
    )
    assert edited.status_code == 200
    assert edited.json()["rating"] is None
    assert edited.json()["notes"] == "ok"
    assert edited.json()["is_favorite"] is True
    assert edited.json()["favorited_at"] is not None


async def test_editing_a_manga_not_in_the_library_is_404(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    response = await client.patch(f"{LIB}/{m.id}", json={"notes": "x"}, headers=bob.headers)
    assert response.status_code == 404
    ghost = await client.patch(f"{LIB}/{uuid.uuid4()}", json={"notes": "x"}, headers=bob.headers)
    assert ghost.status_code == 404


async def test_it_removes_an_entry_idempotently(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    await client.post(f"{LIB}/{m.id}", json={"is_favorite": True}, headers=bob.headers)
    for _ in range(2):
        assert (await client.delete(f"{LIB}/{m.id}", headers=bob.headers)).status_code == 204
    assert (await client.get(f"{LIB}/{m.id}", headers=bob.headers)).status_code == 404
    assert (await client.delete(f"{LIB}/{uuid.uuid4()}", headers=bob.headers)).status_code == 404


@pytest.mark.parametrize("rating", [0, 0.5, 4.5, 5, None])
async def test_it_accepts_ratings_in_half_steps(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, rating: float | None
) -> None:
    bob = await users.bob()
    m = await manga.create()
    response = await client.post(f"{LIB}/{m.id}", json={"rating": rating}, headers=bob.headers)
    assert response.status_code == 200
    assert response.json()["rating"] == rating


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 4.3},
        {"rating": -0.5},
        {"rating": 5.5},
        {"rating": "NaN"},
        {"rating": "five"},
        {"custom_title": "x" * 256},
        {"notes": "x" * 10_001},
        {"notes": "nul\x00byte"},
        {"custom_title": "nul\x00byte"},
        {"is_favorite": None},
        {"unknown_field": 1},
    ],
)
async def test_it_rejects_invalid_fields_with_422(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, body: dict[str, object]
) -> None:
    bob = await users.bob()
    m = await manga.create()
    await client.post(f"{LIB}/{m.id}", headers=bob.headers)
    assert (await client.patch(f"{LIB}/{m.id}", json=body, headers=bob.headers)).status_code == 422
    assert (await client.post(f"{LIB}/{m.id}", json=body, headers=bob.headers)).status_code == 422


async def test_it_accepts_the_longest_allowed_text(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    body = {"custom_title": "t" * 255, "notes": "n" * 10_000}
    response = await client.post(f"{LIB}/{m.id}", json=body, headers=bob.headers)
    assert response.status_code == 200


async def test_updated_at_moves_on_every_write(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    mid = str(m.id)
    writes = [
        ("POST", f"{LIB}/{mid}", None),
        ("PATCH", f"{LIB}/{mid}", {"notes": "n"}),
        ("POST", f"/api/v1/favorites/{mid}", None),
        ("POST", f"/api/v1/favorites/{mid}", None),
        ("DELETE", f"/api/v1/favorites/{mid}", None),
        ("PATCH", "/api/v1/favorites/bulk", {"manga_ids": [mid], "is_favorite": True}),
        ("PATCH", "/api/v1/favorites/bulk", {"manga_ids": [mid], "is_favorite": False}),
    ]
    start = datetime.now(UTC)
    stamps = []
    for step, (method, path, body) in enumerate(writes):
        with time_machine.travel(start + timedelta(minutes=step + 1), tick=False):
            response = await client.request(method, path, json=body, headers=bob.headers)
        assert response.status_code == 200, (method, path, response.text)
        entry = (await client.get(f"{LIB}/{mid}", headers=bob.headers)).json()
        stamps.append(datetime.fromisoformat(entry["updated_at"]))
    assert stamps == sorted(set(stamps))
    assert stamps[-1] == start + timedelta(minutes=len(writes))
