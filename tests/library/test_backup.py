"""Whole-library backup: export everything a user keeps, import it elsewhere (here: into
another account, matched by source like another instance would), with a dry run first."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from kurobara.db.engine import Database
from kurobara.manga.models import MangaSource
from kurobara.reading.models import StoredChapter
from tests.factories import MangaFactory, Persona, UserFactory

LIB = "/api/v1/library"


async def _chapter(db: Database, manga_id: uuid.UUID, external_id: str) -> str:
    async with db.session() as session:
        source = await session.scalar(select(MangaSource).where(MangaSource.manga_id == manga_id))
        assert source is not None
        chapter = StoredChapter(
            source_id=source.id,
            manga_id=manga_id,
            provider_id=source.provider_id,
            external_id=external_id,
            number_text=external_id,
            position=int(external_id),
        )
        session.add(chapter)
        await session.commit()
        return str(chapter.id)


async def _alices_library(
    client: httpx.AsyncClient, alice: Persona, db: Database, manga: MangaFactory
) -> dict[str, Any]:
    one = await manga.create("One", sources=[("site", "one")])
    two = await manga.create("Two", sources=[("site", "two")])
    chapter = await _chapter(db, one.id, "1")
    await _chapter(db, one.id, "2")
    shelf = (
        await client.post("/api/v1/categories/", json={"name": "Shelf"}, headers=alice.headers)
    ).json()
    await client.post("/api/v1/categories/", json={"name": "Empty"}, headers=alice.headers)
    body = {
        "is_favorite": True,
        "rating": 4.5,
        "notes": "n",
        "custom_title": "Uno",
        "category_ids": [shelf["id"]],
    }
    await client.post(f"{LIB}/{one.id}", json=body, headers=alice.headers)
    await client.post(f"{LIB}/{two.id}", json={"notes": "plain"}, headers=alice.headers)
    marked = await client.post(
        f"/api/v1/manga/{one.id}/chapters/read",
        json={"chapter_ids": [chapter]},
        headers=alice.headers,
    )
    assert marked.status_code < 300, marked.text
    export = await client.get(f"{LIB}/export", headers=alice.headers)
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    return dict(export.json())


def _comparable(backup: dict[str, Any]) -> dict[str, Any]:
    keep = ("title", "custom_title", "rating", "notes", "is_favorite", "categories", "sources")
    entries = sorted(
        (
            {k: e[k] for k in keep} | {"read": [(c["external_id"], c["read"]) for c in reads]}
            for e in backup["entries"]
            for reads in [e["read_chapters"]]
        ),
        key=lambda e: str(e["title"]),
    )
    return {"categories": backup["categories"], "entries": entries}


async def test_export_names_everything_the_user_keeps(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, db: Database
) -> None:
    alice = await users.alice()
    backup = await _alices_library(client, alice, db, manga)
    assert backup["format"] == "kurobara.library"
    assert [c["name"] for c in backup["categories"]] == ["Shelf", "Empty"]
    one = next(e for e in backup["entries"] if e["title"] == "One")
    assert (one["custom_title"], one["rating"], one["notes"], one["is_favorite"]) == (
        "Uno",
        4.5,
        "n",
        True,
    )
    assert one["categories"] == ["Shelf"]
    assert [(c["external_id"], c["read"]) for c in one["read_chapters"]] == [("1", True)]
    assert one["sources"][0]["provider_id"] == "site"


async def test_a_dry_run_reports_and_writes_nothing_then_the_import_restores_it_all(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, db: Database
) -> None:
    alice, bob = await users.alice(), await users.bob()
    backup = await _alices_library(client, alice, db, manga)
    # A manga no instance can fetch: it fails in the report, the rest still goes in.
    backup["entries"].append({"title": "Nowhere", "sources": []})

    dry = await client.post(
        f"{LIB}/import", params={"dry_run": "true"}, json=backup, headers=bob.headers
    )
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] is True
    assert (report["imported"], report["already_present"], report["failed"]) == (2, 0, 1)
    assert report["categories_created"] == ["Shelf", "Empty"]
    assert report["read_chapters_marked"] == 1
    assert (await client.get(f"{LIB}/", headers=bob.headers)).json() == []
    assert (await client.get("/api/v1/categories/", headers=bob.headers)).json() == []

    done = (await client.post(f"{LIB}/import", json=backup, headers=bob.headers)).json()
    assert (done["dry_run"], done["imported"], done["failed"]) == (False, 2, 1)
    bobs = (await client.get(f"{LIB}/export", headers=bob.headers)).json()
    backup["entries"].pop()
    assert _comparable(bobs) == _comparable(backup)

    # Importing again changes nothing and says so.
    again = (await client.post(f"{LIB}/import", json=backup, headers=bob.headers)).json()
    assert (again["imported"], again["already_present"], again["categories_created"]) == (0, 2, [])
    assert _comparable(
        (await client.get(f"{LIB}/export", headers=bob.headers)).json()
    ) == _comparable(backup)


async def test_an_import_keeps_what_the_user_set_here(
    client: httpx.AsyncClient, users: UserFactory, manga: MangaFactory, db: Database
) -> None:
    alice, bob = await users.alice(), await users.bob()
    backup = await _alices_library(client, alice, db, manga)
    one = next(e for e in backup["entries"] if e["title"] == "One")
    await client.post(f"{LIB}/{one['manga_id']}", json={"notes": "bob's own"}, headers=bob.headers)
    await client.post(f"{LIB}/import", json=backup, headers=bob.headers)
    entry = (await client.get(f"{LIB}/{one['manga_id']}", headers=bob.headers)).json()
    assert (entry["notes"], entry["rating"], entry["is_favorite"]) == ("bob's own", 4.5, True)


async def test_a_bad_backup_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    bob = await users.bob()
    for body in (
        {"format": "kurobara.favorites", "entries": []},
        {"entries": [{"title": "x", "rating": 9}]},
        {"entries": [{"title": "x", "categories": [""]}]},
        {"categories": [{"name": "a\x00"}]},
    ):
        response = await client.post(f"{LIB}/import", json=body, headers=bob.headers)
        assert response.status_code == 422, body
    assert (await client.get("/api/v1/categories/", headers=bob.headers)).json() == []
