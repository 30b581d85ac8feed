"""Search and sort use what the user sees: the custom title when there is one."""

from __future__ import annotations

import httpx

from tests.factories import MangaFactory, UserFactory

LIB = "/api/v1/library"
FAV = "/api/v1/favorites"


async def test_search_finds_an_entry_by_its_custom_title_and_by_its_own(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create("Shingeki no Kyojin")
    await manga.create("Unrelated")
    body = {"custom_title": "Attack on Titan", "is_favorite": True}
    await client.post(f"{LIB}/{m.id}", json=body, headers=bob.headers)
    for path in (f"{LIB}/", f"{FAV}/"):
        for term in ("titan", "KYOJIN"):
            found = await client.get(path, params={"search": term}, headers=bob.headers)
            assert [e["manga_id"] for e in found.json()] == [str(m.id)], (path, term)
            assert found.headers["X-Total-Count"] == "1"


async def test_title_sort_orders_by_the_custom_title_when_set(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    zeta, alpha, mid = (
        await manga.create("Zeta"),
        await manga.create("Alpha"),
        await manga.create("Mid"),
    )
    await client.post(f"{LIB}/{zeta.id}", json={"custom_title": "aardvark"}, headers=bob.headers)
    await client.post(f"{LIB}/{alpha.id}", headers=bob.headers)
    await client.post(f"{LIB}/{mid.id}", headers=bob.headers)
    await client.patch(f"{LIB}/{alpha.id}", json={"custom_title": "Ömega"}, headers=bob.headers)
    listed = await client.get(
        f"{LIB}/", params={"sort_by": "title", "sort_order": "asc"}, headers=bob.headers
    )
    shown = [e["custom_title"] or e["manga"]["title"] for e in listed.json()]
    assert shown == ["aardvark", "Mid", "Ömega"]
    # Clearing the custom title sorts the entry by the manga's own title again.
    await client.patch(f"{LIB}/{zeta.id}", json={"custom_title": None}, headers=bob.headers)
    listed = await client.get(
        f"{LIB}/", params={"sort_by": "title", "sort_order": "asc"}, headers=bob.headers
    )
    assert [e["manga"]["title"] for e in listed.json()] == ["Mid", "Zeta", "Alpha"]
