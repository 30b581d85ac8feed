"""The chapter list as data, through the API: stable ids, answered from the database, kept and
flagged stale when the provider fails or is down, vanished chapters kept; pages by chapter id;
and the admin's enable switch honoured for chapters and pages (issue 10 item 2)."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from kurobara.db.engine import Database
from kurobara.monitoring.models import ProviderStatus
from kurobara.providers.fakes.mangadex import FakeMangaDexSite
from tests.factories import Persona
from tests.reading.conftest import MovableClock, chapters_of, import_manga


async def set_status(db: Database, provider_id: str = "md", **values: object) -> None:
    async with db.session() as session:
        await session.execute(
            update(ProviderStatus).where(ProviderStatus.provider_id == provider_id).values(**values)
        )
        await session.commit()


async def disable(client: httpx.AsyncClient, admin: Persona, provider_id: str, on: bool) -> None:
    response = await client.patch(
        f"/api/v1/providers/{provider_id}/status", json={"is_enabled": on}, headers=admin.headers
    )
    assert response.status_code == 200, response.text


async def test_ids_are_stable_and_the_list_is_fresh(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    manga = await import_manga(client, alice, site.catalog.series[0].id)
    first = await chapters_of(client, alice, manga["id"])
    again = await chapters_of(client, alice, manga["id"])
    assert [c["id"] for c in first["chapters"]] == [c["id"] for c in again["chapters"]]
    assert (first["stale"], first["error_kind"]) == (False, None)
    assert {(c["read"], c["last_page"], c["removed_at"]) for c in first["chapters"]} == {
        (False, None, None)
    }


async def test_a_failing_provider_answers_the_stored_list_as_stale(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, clock: MovableClock
) -> None:
    manga = await import_manga(client, alice, site.catalog.series[1].id)
    first = await chapters_of(client, alice, manga["id"])
    clock.advance(3600)
    site.set_fault("layout")
    stale = await chapters_of(client, alice, manga["id"])
    assert (stale["stale"], stale["error_kind"]) == (True, "parse")
    assert [c["id"] for c in stale["chapters"]] == [c["id"] for c in first["chapters"]]


async def test_a_down_provider_is_not_asked_and_the_list_says_so(
    client: httpx.AsyncClient,
    alice: Persona,
    site: FakeMangaDexSite,
    db: Database,
    clock: MovableClock,
) -> None:
    manga = await import_manga(client, alice, site.catalog.series[2].id)
    first = await chapters_of(client, alice, manga["id"])
    clock.advance(3600)
    await set_status(db, status="down", error_kind="timeout")
    before = site.requests
    body = await chapters_of(client, alice, manga["id"])
    assert (body["stale"], body["provider_status"], body["error_kind"]) == (True, "down", "timeout")
    assert len(body["chapters"]) == len(first["chapters"])
    assert site.requests == before


async def test_vanished_chapters_stay_with_removed_at(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, clock: MovableClock
) -> None:
    series = site.catalog.series[3]
    manga = await import_manga(client, alice, series.id)
    await chapters_of(client, alice, manga["id"])
    gone = site.feeds[series.id][0]
    site.feeds[series.id] = site.feeds[series.id][1:]
    clock.advance(3600)
    body = await chapters_of(client, alice, manga["id"])
    removed = [c for c in body["chapters"] if c["removed_at"] is not None]
    assert [c["external_id"] for c in removed] == [gone.id]


async def test_pages_take_the_chapter_id(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    series = site.catalog.series[4]
    manga = await import_manga(client, alice, series.id)
    chapter = (await chapters_of(client, alice, manga["id"]))["chapters"][0]
    response = await client.get(
        f"/api/v1/manga/{manga['id']}/chapters/{chapter['id']}/pages", headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["chapter_id"] == chapter["id"]
    assert len(response.json()["pages"]) == site.feeds[series.id][0].chapter.pages


async def test_a_provider_the_admin_disabled_serves_neither_chapters_nor_pages(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite, clock: MovableClock
) -> None:
    series = site.catalog.series[5]
    manga = await import_manga(client, alice, series.id)
    chapter = site.feeds[series.id][0]
    await disable(client, alice, "md", on=False)
    before = site.requests
    listed = await client.get(f"/api/v1/manga/{manga['id']}/chapters", headers=alice.headers)
    pages = await client.get(
        f"/api/v1/manga/{manga['id']}/chapters/{chapter.id}/pages", headers=alice.headers
    )
    assert site.requests == before
    assert (listed.status_code, pages.status_code) == (503, 503)


async def test_a_provider_enabled_by_the_admin_serves_despite_its_definition(
    client: httpx.AsyncClient, alice: Persona, site: FakeMangaDexSite
) -> None:
    series = site.catalog.series[6]
    manga = await import_manga(client, alice, series.id, provider_id="md-off")
    await disable(client, alice, "md-off", on=True)
    body = await chapters_of(client, alice, manga["id"])
    assert body["provider_id"] == "md-off"
    assert len(body["chapters"]) > 0
