"""Favorites export (JSON, CSV) and import matched by provider + external id."""

from __future__ import annotations

import csv
import io
import uuid

import httpx

from tests.factories import MangaFactory, UserFactory

FAV = "/api/v1/favorites"


async def test_it_exports_favorites_as_json_with_their_sources(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create("Monster", sources=[("mangadex", "md-1"), ("madara", "monster")])
    other = await manga.create("Not a favorite")
    await client.post(
        f"/api/v1/library/{m.id}", json={"is_favorite": True, "rating": 4.5}, headers=bob.headers
    )
    await client.post(f"/api/v1/library/{other.id}", headers=bob.headers)
    response = await client.get(f"{FAV}/export?format=json", headers=bob.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    body = response.json()
    assert body["format"] == "kurobara.favorites"
    assert body["version"] == 1
    [item] = body["items"]
    assert item["title"] == "Monster"
    assert item["rating"] == 4.5
    assert {(s["provider_id"], s["external_id"]) for s in item["sources"]} == {
        ("mangadex", "md-1"),
        ("madara", "monster"),
    }


async def test_it_exports_csv_with_formulas_defused(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create('=HYPERLINK("http://evil")', sources=[("mangadex", "x")])
    await client.post(f"{FAV}/{m.id}", headers=bob.headers)
    response = await client.get(f"{FAV}/export?format=csv", headers=bob.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["sources"] == "mangadex:x"
    assert rows[0]["manga_id"] == str(m.id)


async def test_it_refuses_an_unknown_export_format(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    assert (await client.get(f"{FAV}/export?format=xml", headers=bob.headers)).status_code == 422


async def test_an_export_imports_into_another_account_by_provider_and_external_id(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob, charlie = await users.bob(), await users.charlie()
    a = await manga.create("A", sources=[("mangadex", "a")])
    b = await manga.create("B", sources=[("mangadex", "b")])
    await client.post(
        f"/api/v1/library/{a.id}",
        json={"is_favorite": True, "notes": "from bob"},
        headers=bob.headers,
    )
    await client.post(f"{FAV}/{b.id}", headers=bob.headers)
    await client.post(f"{FAV}/{b.id}", headers=charlie.headers)
    exported = (await client.get(f"{FAV}/export", headers=bob.headers)).json()
    # Ids differ between instances: only the sources should be needed to match.
    for item in exported["items"]:
        item["manga_id"] = str(uuid.uuid4())
    report = await client.post(f"{FAV}/import", json=exported, headers=charlie.headers)
    assert report.status_code == 200
    body = report.json()
    assert (body["imported"], body["already_present"], body["failed"]) == (1, 1, 0)
    by_title = {item["title"]: item for item in body["items"]}
    assert by_title["A"]["status"] == "imported"
    assert by_title["A"]["manga_id"] == str(a.id)
    assert by_title["B"]["status"] == "already_present"
    entry = (await client.get(f"/api/v1/library/{a.id}", headers=charlie.headers)).json()
    assert entry["is_favorite"] is True
    assert entry["notes"] == "from bob"


async def test_importing_fills_blanks_but_never_overwrites_the_users_own_values(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    m = await manga.create(sources=[("mangadex", "m")])
    await client.post(f"/api/v1/library/{m.id}", json={"notes": "mine"}, headers=bob.headers)
    item = {
        "title": "M",
        "rating": 3,
        "notes": "theirs",
        "sources": [{"provider_id": "mangadex", "external_id": "m"}],
    }
    report = await client.post(f"{FAV}/import", json={"items": [item]}, headers=bob.headers)
    assert report.json()["imported"] == 1
    entry = (await client.get(f"/api/v1/library/{m.id}", headers=bob.headers)).json()
    assert (entry["is_favorite"], entry["notes"], entry["rating"]) == (True, "mine", 3)


async def test_importing_twice_reports_everything_already_present(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    made = [await manga.create(sources=[("mangadex", f"id-{n}")]) for n in range(3)]
    items = [{"sources": [{"provider_id": "mangadex", "external_id": f"id-{n}"}]} for n in range(3)]
    first = (await client.post(f"{FAV}/import", json={"items": items}, headers=bob.headers)).json()
    second = (await client.post(f"{FAV}/import", json={"items": items}, headers=bob.headers)).json()
    assert first["imported"] == 3
    assert second["already_present"] == 3
    assert [i["manga_id"] for i in second["items"]] == [str(m.id) for m in made]


async def test_an_item_naming_the_same_manga_twice_is_imported_once(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    await manga.create(sources=[("mangadex", "one"), ("madara", "one")])
    items = [
        {"sources": [{"provider_id": "mangadex", "external_id": "one"}]},
        {"sources": [{"provider_id": "madara", "external_id": "one"}]},
    ]
    body = (await client.post(f"{FAV}/import", json={"items": items}, headers=bob.headers)).json()
    assert [i["status"] for i in body["items"]] == ["imported", "already_present"]


async def test_an_item_without_sources_matches_by_id_or_fails(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory
) -> None:
    bob = await users.bob()
    local = await manga.create("Local only")
    items = [{"manga_id": str(local.id)}, {"manga_id": str(uuid.uuid4()), "title": "Gone"}]
    body = (await client.post(f"{FAV}/import", json={"items": items}, headers=bob.headers)).json()
    assert [i["status"] for i in body["items"]] == ["imported", "failed"]
    assert "no provider source" in body["items"][1]["error"]
    assert body["failed"] == 1


async def test_it_rejects_a_malformed_import_with_422(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    source = {"provider_id": "p", "external_id": "e"}
    for body in (
        {"format": "something-else", "items": []},
        {"version": 2, "items": []},
        {"items": [{"rating": 7, "sources": [source]}]},
        {"items": [{"sources": [{"provider_id": "p" * 101, "external_id": "e"}]}]},
        {"items": [{"sources": [{"provider_id": "p", "external_id": "e\x00"}]}]},
        {"items": "all"},
    ):
        response = await client.post(f"{FAV}/import", json=body, headers=bob.headers)
        assert response.status_code == 422, body
