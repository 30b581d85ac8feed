"""Reading progress through the API: last page and read marks per user, marking many at once
(all or nothing, idempotent, "up to"), the history, and the library's reading summary."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from kurobara.db.engine import Database
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from kurobara.reading.models import ChapterProgress
from tests.factories import Persona
from tests.reading.conftest import chapters_of, import_manga

MISSING = "00000000-0000-4000-8000-000000000000"


async def listed(
    client: httpx.AsyncClient, who: Persona, site: FakeMangaDexSite, index: int
) -> tuple[str, list[dict[str, Any]]]:
    manga = await import_manga(client, who, site.catalog.series[index].id)
    return manga["id"], (await chapters_of(client, who, manga["id"]))["chapters"]


async def patch(
    client: httpx.AsyncClient, who: Persona, chapter_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/chapters/{chapter_id}/progress", json=body, headers=who.headers
    )


async def mark(
    client: httpx.AsyncClient, who: Persona, manga_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/manga/{manga_id}/chapters/read", json=body, headers=who.headers
    )


async def test_a_page_is_kept_and_shown_in_the_list(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga_id, chapters = await listed(client, alice, site, 0)
    response = await patch(client, alice, chapters[0]["id"], {"last_page": 3})
    assert response.status_code == 200, response.text
    first = (await chapters_of(client, alice, manga_id))["chapters"][0]
    assert (first["last_page"], first["read"]) == (3, False)


async def test_reaching_the_last_page_marks_the_chapter_read(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga_id, chapters = await listed(client, alice, site, 1)
    pages = await client.get(
        f"/api/v1/manga/{manga_id}/chapters/{chapters[0]['id']}/pages", headers=alice.headers
    )
    count = pages.json()["page_count"]
    response = await patch(client, alice, chapters[0]["id"], {"last_page": count})
    assert response.json()["read"] is True


async def test_other_users_progress_is_never_visible(
    client: httpx.AsyncClient, alice: Persona, bob: Persona, site: FakeMangaDexSite
) -> None:
    manga_id, chapters = await listed(client, alice, site, 2)
    await patch(client, alice, chapters[0]["id"], {"read": True})
    theirs = (await chapters_of(client, bob, manga_id))["chapters"][0]
    history = await client.get("/api/v1/history", headers=bob.headers)
    assert theirs["read"] is False
    assert history.json() == []


async def test_unknown_chapter_or_manga_is_404_and_empty_body_422(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    _, chapters = await listed(client, alice, site, 3)
    assert (await patch(client, alice, MISSING, {"read": True})).status_code == 404
    assert (await mark(client, alice, MISSING, {"up_to": chapters[0]["id"]})).status_code == 404
    assert (await patch(client, alice, chapters[0]["id"], {})).status_code == 422
    assert (await patch(client, alice, chapters[0]["id"], {"last_page": 0})).status_code == 422


async def test_concurrent_progress_writes_leave_one_row(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, db: Database
) -> None:
    _, chapters = await listed(client, alice, site, 4)
    bodies = [{"last_page": n} for n in range(1, 6)] + [{"read": True}]
    responses = await asyncio.gather(*(patch(client, alice, chapters[0]["id"], b) for b in bodies))
    assert {r.status_code for r in responses} == {200}
    async with db.session() as session:
        rows = await session.scalar(select(func.count()).select_from(ChapterProgress))
        row = await session.scalar(select(ChapterProgress))
    assert rows == 1
    assert row is not None
    assert row.read is True


async def test_marking_is_all_or_nothing_and_refuses_other_manga(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga_id, chapters = await listed(client, alice, site, 5)
    _, others = await listed(client, alice, site, 6)
    ids = [chapters[0]["id"], others[0]["id"]]
    refused = await mark(client, alice, manga_id, {"chapter_ids": ids, "read": True})
    assert refused.status_code == 404
    assert refused.json()["detail"]["chapter_ids"] == [others[0]["id"]]
    after = (await chapters_of(client, alice, manga_id))["chapters"]
    assert not any(c["read"] for c in after)


async def test_marking_twice_is_idempotent_and_unread_undoes_it(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga_id, chapters = await listed(client, alice, site, 7)
    ids = [c["id"] for c in chapters[:2]]
    for _ in range(2):
        response = await mark(client, alice, manga_id, {"chapter_ids": ids, "read": True})
        assert response.json()["updated"] == 2
    assert [c["read"] for c in (await chapters_of(client, alice, manga_id))["chapters"][:3]] == [
        True,
        True,
        False,
    ]
    await mark(client, alice, manga_id, {"chapter_ids": ids[:1], "read": False})
    assert (await chapters_of(client, alice, manga_id))["chapters"][0]["read"] is False


async def test_up_to_marks_that_chapter_and_every_earlier_one(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga_id, chapters = await listed(client, alice, site, 8)
    response = await mark(client, alice, manga_id, {"up_to": chapters[2]["id"]})
    assert response.status_code == 200, response.text
    marks = [c["read"] for c in (await chapters_of(client, alice, manga_id))["chapters"]]
    assert marks == [True, True, True] + [False] * (len(marks) - 3)


async def test_history_lists_read_chapters_newest_first_and_clears_keeping_marks(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga_id, chapters = await listed(client, alice, site, 9)
    await patch(client, alice, chapters[0]["id"], {"read": True})
    await patch(client, alice, chapters[1]["id"], {"last_page": 2})
    history = await client.get("/api/v1/history?limit=1", headers=alice.headers)
    assert history.headers["X-Total-Count"] == "2"
    (item,) = history.json()
    assert (item["chapter_id"], item["manga_id"], item["last_page"]) == (
        chapters[1]["id"],
        manga_id,
        2,
    )
    assert item["manga"]["id"] == manga_id
    cleared = await client.delete("/api/v1/history", headers=alice.headers)
    assert cleared.status_code == 204
    assert (await client.get("/api/v1/history", headers=alice.headers)).json() == []
    assert (await chapters_of(client, alice, manga_id))["chapters"][0]["read"] is True


async def library(client: httpx.AsyncClient, who: Persona, query: str = "") -> list[Any]:
    response = await client.get(f"/api/v1/library/?{query}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: list[Any] = response.json()
    return body


async def test_library_entries_carry_unread_count_and_where_continue_goes(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga_id, chapters = await listed(client, alice, site, 10)
    await client.post(f"/api/v1/favorites/{manga_id}", headers=alice.headers)
    await patch(client, alice, chapters[0]["id"], {"read": True})
    await patch(client, alice, chapters[1]["id"], {"last_page": 4})
    (entry,) = await library(client, alice)
    assert entry["unread_count"] == len(chapters) - 1
    assert entry["next_chapter_id"] == chapters[1]["id"]
    assert entry["last_read_at"] is not None
    favorites = (await client.get("/api/v1/favorites/", headers=alice.headers)).json()
    assert favorites[0]["unread_count"] == len(chapters) - 1
    await patch(client, alice, chapters[1]["id"], {"read": True})
    (entry,) = await library(client, alice)
    assert entry["next_chapter_id"] == chapters[2]["id"]


async def test_library_sorts_by_last_read_and_filters_unread(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    read_id, read_chapters = await listed(client, alice, site, 11)
    other_id, other_chapters = await listed(client, alice, site, 12)
    for manga_id in (read_id, other_id):
        await client.post(f"/api/v1/library/{manga_id}", headers=alice.headers)
    await mark(client, alice, read_id, {"up_to": read_chapters[-1]["id"]})
    await patch(client, alice, other_chapters[0]["id"], {"last_page": 1})
    await patch(client, alice, read_chapters[-1]["id"], {"read": True})
    by_read = await library(client, alice, "sort_by=last_read_at&sort_order=desc")
    assert [e["manga_id"] for e in by_read] == [read_id, other_id]
    unread = await library(client, alice, "has_unread=true")
    done = await library(client, alice, "has_unread=false")
    assert ([e["manga_id"] for e in unread], [e["manga_id"] for e in done]) == (
        [other_id],
        [read_id],
    )
    assert done[0]["unread_count"] == 0
    assert done[0]["next_chapter_id"] is None
