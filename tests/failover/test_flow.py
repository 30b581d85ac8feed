"""Issue 17's flow through the API, on SQLite and PostgreSQL, with two local fake sites that
carry the same series under different ids: link two sources, read chapters 1-3 on one, switch
that site down -> the list and the reader continue from the other with the fallback note and
chapter 4 next; keep it down past the threshold -> the Migrate proposals put the right
candidate first; accept -> progress, favorite and category are kept."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from kurobara.db.engine import Database
from kurobara.failover.jobs import MigrationScout
from kurobara.failover.models import MigrationNotice
from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.fakes.mangathemesia import FakeMangaThemesiaSite
from tests.factories import Persona
from tests.failover.conftest import (
    HERON,
    MovableClock,
    chapters,
    disable_and_scan,
    heron_in_library,
    import_manga,
    ok,
    on_both_sites,
    read_first,
    series,
    take_down,
)


def scout(app: Any, db: Database, clock: MovableClock) -> MigrationScout:
    return MigrationScout(
        db=db, registry=app.state.registry, settings=app.state.settings, clock=clock
    )


async def shelve(client: httpx.AsyncClient, who: Persona, manga_id: str) -> str:
    """Heron's entry: in the library, a favorite, on the "Weekly" category."""
    await ok(await client.post(f"/api/v1/favorites/{manga_id}", headers=who.headers), 200, 201)
    category = await ok(
        await client.post("/api/v1/categories/", json={"name": "Weekly"}, headers=who.headers),
        201,
    )
    body = {"manga_ids": [manga_id], "category_ids": [category["id"]], "mode": "move"}
    await ok(await client.patch("/api/v1/library/bulk", json=body, headers=who.headers))
    return str(category["id"])


async def test_a_dead_source_falls_back_and_then_migrates_keeping_the_reader_state(
    client: httpx.AsyncClient,
    alice: Persona,
    madara: FakeMadaraSite,
    themesia: FakeMangaThemesiaSite,
    clock: MovableClock,
    app: Any,
    db: Database,
) -> None:
    lanterns = await on_both_sites(client, alice, madara, themesia)
    assert sorted(s["provider_id"] for s in lanterns["sources"]) == ["asura", "mangaread"]
    await ok(await client.post(f"/api/v1/library/{lanterns['id']}", headers=alice.headers))
    heron = await import_manga(client, alice, "mangaread", series(madara, HERON).slug)
    await shelve(client, alice, heron["id"])

    before = await chapters(client, alice, lanterns["id"])
    assert (before["provider_id"], before["fallback"]) == ("mangaread", None)
    read = await read_first(client, alice, lanterns["id"], 3)
    heron_read = await read_first(client, alice, heron["id"], 3)

    await take_down(client, alice, madara)
    after = await chapters(client, alice, lanterns["id"])
    assert after["provider_id"] == "asura"
    assert after["fallback"]["message"].startswith("reading from Asura: MangaRead is down since ")
    assert [c["number"] for c in after["chapters"] if c["read"]] == read
    upcoming = next(c for c in after["chapters"] if not c["read"])
    assert (upcoming["number"], upcoming["provider_id"]) == (
        before["chapters"][3]["number"],
        "asura",
    )
    # The reader: MangaRead's third chapter opens as Asura's, with the note.
    third = before["chapters"][2]["id"]
    pages = await ok(
        await client.get(
            f"/api/v1/manga/{lanterns['id']}/chapters/{third}/pages", headers=alice.headers
        )
    )
    assert pages["provider_id"] == "asura"
    assert pages["page_count"] > 0
    assert pages["fallback"]["wanted_provider_id"] == "mangaread"

    clock.advance(hours=49)
    report = await scout(app, db, clock).step()
    assert (report.dead, report.new_needs) == (1, 1)
    proposals = await ok(await client.get("/api/v1/migrations", headers=alice.headers))
    assert [p["manga_id"] for p in proposals] == [heron["id"]]  # Lanterns still has Asura
    best = proposals[0]["candidates"][0]
    assert (best["provider_id"], best["title"], best["score"]) == ("asura", HERON, 100.0)
    assert best["chapter_count"] == len(series(themesia, HERON).chapters)
    assert (best["provider_status"], best["usable"]) == ("unknown", True)

    accepted = await ok(
        await client.post(
            f"/api/v1/migrations/{heron['id']}/accept",
            json={"candidate_id": best["id"]},
            headers=alice.headers,
        )
    )
    assert accepted["provider_id"] == "asura"
    assert await ok(await client.get("/api/v1/migrations", headers=alice.headers)) == []
    moved = await chapters(client, alice, heron["id"])
    assert (moved["provider_id"], moved["fallback"]) == ("asura", None)
    assert [c["number"] for c in moved["chapters"] if c["read"]] == heron_read
    entry = await ok(await client.get(f"/api/v1/library/{heron['id']}", headers=alice.headers))
    assert entry["is_favorite"] is True
    assert [c["name"] for c in entry["categories"]] == ["Weekly"]


async def test_users_are_told_once_per_outage_with_a_link(
    client: httpx.AsyncClient,
    alice: Persona,
    bob: Persona,
    madara: FakeMadaraSite,
    clock: MovableClock,
    app: Any,
    db: Database,
) -> None:
    heron = await import_manga(client, alice, "mangaread", series(madara, HERON).slug)
    for who in (alice, bob):
        await ok(await client.post(f"/api/v1/library/{heron['id']}", headers=who.headers))
    await take_down(client, alice, madara)
    clock.advance(hours=49)
    first = await scout(app, db, clock).step()
    again = await scout(app, db, clock).step()
    assert (first.notices, again.notices) == (2, 0)
    async with db.session() as session:
        notices = (await session.scalars(select(MigrationNotice))).all()
    assert sorted(str(n.user_id) for n in notices) == sorted([alice.id, bob.id])
    assert all("/migrate" in n.body and HERON in n.body for n in notices)
    assert all(n.sent_at is not None for n in notices)  # no Apprise URLs: nothing to send


async def test_nothing_is_proposed_before_the_threshold(
    client: httpx.AsyncClient,
    alice: Persona,
    madara: FakeMadaraSite,
    clock: MovableClock,
    app: Any,
    db: Database,
) -> None:
    await heron_in_library(client, alice, madara)
    await take_down(client, alice, madara)
    clock.advance(hours=47)
    assert (await scout(app, db, clock).step()).new_needs == 0
    assert await ok(await client.get("/api/v1/migrations", headers=alice.headers)) == []


async def test_an_admin_disabling_a_provider_proposes_at_once(
    client: httpx.AsyncClient,
    alice: Persona,
    madara: FakeMadaraSite,
    clock: MovableClock,
    app: Any,
    db: Database,
) -> None:
    await heron_in_library(client, alice, madara)
    await disable_and_scan(client, alice, "mangaread")
    proposals = await ok(await client.get("/api/v1/migrations", headers=alice.headers))
    assert [(p["reason"], p["candidates"][0]["provider_id"]) for p in proposals] == [
        ("disabled", "asura")
    ]
