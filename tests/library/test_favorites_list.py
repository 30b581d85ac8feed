"""GET /favorites/: pagination, search, sort, total header."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import MangaFactory, Persona, UserFactory

FAV = "/api/v1/favorites"


async def _favorite_all(client: httpx.AsyncClient, who: Persona, ids: list[str]) -> None:
    response = await client.patch(
        f"{FAV}/bulk", json={"manga_ids": ids, "is_favorite": True}, headers=who.headers
    )
    assert response.status_code == 200, response.text


async def test_it_lists_favorites_with_the_total_in_a_header(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    made = await manga.create_many(5)
    await _favorite_all(client, bob, [str(m.id) for m in made[:3]])
    await client.post(f"/api/v1/library/{made[3].id}", headers=bob.headers)  # not a favorite
    response = await client.get(f"{FAV}/?page=1&limit=2", headers=bob.headers)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "3"
    assert len(response.json()) == 2
    assert all(item["is_favorite"] for item in response.json())


async def test_pages_never_skip_or_repeat_entries_with_equal_sort_keys(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    made = await manga.create_many(23)
    # One bulk statement: every entry gets the same updated_at, so only the id orders them.
    await _favorite_all(client, bob, [str(m.id) for m in made])
    seen: list[str] = []
    for page in range(1, 6):
        response = await client.get(f"{FAV}/?page={page}&limit=5", headers=bob.headers)
        seen += [item["id"] for item in response.json()]
    assert len(seen) == 23
    assert len(set(seen)) == 23


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_it_sorts_by_title(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, order: str
) -> None:
    bob = await users.bob()
    made = [await manga.create(t) for t in ("beta", "Alpha", "gamma")]
    await _favorite_all(client, bob, [str(m.id) for m in made])
    response = await client.get(f"{FAV}/?sort_by=title&sort_order={order}", headers=bob.headers)
    titles = [item["manga"]["title"] for item in response.json()]
    expected = ["Alpha", "beta", "gamma"]
    assert titles == (expected if order == "asc" else expected[::-1])


async def test_it_sorts_by_rating_with_unrated_last(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    made = await manga.create_many(3)
    await _favorite_all(client, bob, [str(m.id) for m in made])
    for m, rating in zip(made, [2.5, None, 5], strict=True):
        await client.patch(f"/api/v1/library/{m.id}", json={"rating": rating}, headers=bob.headers)
    for order, expected in [("desc", [5, 2.5, None]), ("asc", [2.5, 5, None])]:
        response = await client.get(
            f"{FAV}/?sort_by=rating&sort_order={order}", headers=bob.headers
        )
        assert [item["rating"] for item in response.json()] == expected


async def test_search_matches_title_case_insensitively_and_wildcards_literally(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    made = [await manga.create(t) for t in ("100% Orange", "1000 Oranges", "snake_case", "snakes")]
    await _favorite_all(client, bob, [str(m.id) for m in made])

    async def titles(term: str) -> list[str]:
        response = await client.get(FAV + "/", params={"search": term}, headers=bob.headers)
        assert response.headers["X-Total-Count"] == str(len(response.json()))
        return sorted(item["manga"]["title"] for item in response.json())

    assert await titles("100%") == ["100% Orange"]
    assert await titles("e_c") == ["snake_case"]
    assert await titles("ORANGE") == ["100% Orange", "1000 Oranges"]
    assert await titles("%") == ["100% Orange"]


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "limit=0",
        "limit=101",
        "sort_by=popularity",
        "sort_order=sideways",
        "page=abc",
        "page=99999999999999999999",
        "search=" + "x" * 201,
        "search=a%00b",
    ],
)
async def test_it_rejects_bad_list_parameters_with_422(
    client: httpx.AsyncClient, users: UserFactory, query: str
) -> None:
    bob = await users.bob()
    response = await client.get(f"{FAV}/?{query}", headers=bob.headers)
    assert response.status_code == 422


async def test_a_page_past_the_end_is_empty(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create()
    await client.post(f"{FAV}/{m.id}", headers=bob.headers)
    response = await client.get(f"{FAV}/?page=1000000&limit=100", headers=bob.headers)
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-Total-Count"] == "1"
