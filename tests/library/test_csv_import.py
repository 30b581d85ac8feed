"""The CSV export of favorites imports back: matched by source like the JSON one."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import MangaFactory, UserFactory

FAV = "/api/v1/favorites"
CSV = {"content-type": "text/csv"}


async def test_a_csv_export_imports_into_another_library(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    alice, bob = await users.alice(), await users.bob()
    one = await manga.create("=Formula-looking", sources=[("site", "a")])
    two = await manga.create("Plain", sources=[("site", "b")])
    body = {"is_favorite": True, "custom_title": "-dash", "rating": 3.5, "notes": "n, with comma"}
    await client.post(f"/api/v1/library/{one.id}", json=body, headers=alice.headers)
    await client.post(f"{FAV}/{two.id}", headers=alice.headers)
    exported = await client.get(f"{FAV}/export", params={"format": "csv"}, headers=alice.headers)

    imported = await client.post(
        f"{FAV}/import/csv", content=exported.content, headers=bob.headers | CSV
    )
    assert imported.status_code == 200, imported.text
    assert (imported.json()["imported"], imported.json()["failed"]) == (2, 0)
    entry = (await client.get(f"/api/v1/library/{one.id}", headers=bob.headers)).json()
    assert (entry["custom_title"], entry["rating"], entry["notes"]) == (
        "-dash",
        3.5,
        "n, with comma",
    )
    again = await client.post(
        f"{FAV}/import/csv", content=exported.content, headers=bob.headers | CSV
    )
    assert again.json()["already_present"] == 2


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"just,some,columns\n1,2,3\n", "at least title and sources"),
        (b"title,sources\nX,nocolon\n", "line 2: each source must read provider:id"),
        (b"title,sources,rating\nX,site:1,9\n", "line 2, rating"),
        (b"title,sources\n\xff\xfe,site:1\n", "not UTF-8"),
    ],
)
async def test_a_file_that_is_not_a_favorites_csv_is_a_422_in_words(
    client: httpx.AsyncClient, users: UserFactory, content: bytes, words: str
) -> None:
    bob = await users.bob()
    response = await client.post(f"{FAV}/import/csv", content=content, headers=bob.headers | CSV)
    assert response.status_code == 422
    [error] = response.json()["detail"]  # the shape of every 422 in the OpenAPI document
    assert words in error["msg"]
    assert (await client.get(f"{FAV}/count", headers=bob.headers)).json() == {"count": 0}
