"""Linking sources through the API: a listing of the same series on another provider becomes a
second source (never merging two manga), match suggestions rank it first, a chosen source
answers while it is healthy, unlinking keeps read marks by number, and bad input is a 4xx."""

from __future__ import annotations

import uuid

import httpx

from kurobara.providers.fakes.madara import FakeMadaraSite
from kurobara.providers.fakes.mangathemesia import FakeMangaThemesiaSite
from tests.factories import Persona
from tests.failover.conftest import (
    HERON,
    LANTERNS,
    chapters,
    disable_and_scan,
    heron_in_library,
    import_manga,
    link,
    ok,
    on_both_sites,
    read_first,
    series,
)


async def test_a_listing_of_another_manga_is_refused_not_merged(
    client: httpx.AsyncClient,
    alice: Persona,
    madara: FakeMadaraSite,
    themesia: FakeMangaThemesiaSite,
) -> None:
    lanterns = await import_manga(client, alice, "mangaread", series(madara, LANTERNS).slug)
    other = await import_manga(client, alice, "asura", series(themesia, LANTERNS).slug)
    refused = await link(client, alice, lanterns["id"], "asura", series(themesia, LANTERNS).slug)
    assert refused.status_code == 409
    assert refused.json()["detail"]["manga_id"] == other["id"]
    again = await link(client, alice, other["id"], "asura", series(themesia, LANTERNS).slug)
    assert again.status_code == 200


async def test_bad_links_are_clear_4xx(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite
) -> None:
    heron = await import_manga(client, alice, "mangaread", series(madara, HERON).slug)
    unknown_provider = await link(client, alice, heron["id"], "nowhere", "x")
    unknown_listing = await link(client, alice, heron["id"], "asura", "no-such-series")
    unknown_manga = await link(client, alice, str(uuid.uuid4()), "asura", "x")
    empty = await client.post(
        f"/api/v1/manga/{heron['id']}/sources", json={"provider_id": ""}, headers=alice.headers
    )
    assert [r.status_code for r in (unknown_provider, unknown_listing, unknown_manga, empty)] == [
        404,
        404,
        404,
        422,
    ]


async def test_matches_rank_the_same_series_first_and_link_nothing(
    client: httpx.AsyncClient, alice: Persona, madara: FakeMadaraSite
) -> None:
    heron = await import_manga(client, alice, "mangaread", series(madara, HERON).slug)
    matches = await ok(
        await client.get(f"/api/v1/manga/{heron['id']}/matches", headers=alice.headers)
    )
    assert (matches[0]["provider_id"], matches[0]["title"]) == ("asura", HERON)
    assert matches[0]["score"] >= 90
    assert all(m["provider_id"] != "mangaread" for m in matches)
    manga = await ok(await client.get(f"/api/v1/manga/{heron['id']}", headers=alice.headers))
    assert len(manga["sources"]) == 1


async def test_a_chosen_source_answers_and_read_marks_follow_the_number(
    client: httpx.AsyncClient,
    alice: Persona,
    bob: Persona,
    madara: FakeMadaraSite,
    themesia: FakeMangaThemesiaSite,
) -> None:
    lanterns = await on_both_sites(client, alice, madara, themesia)
    read = await read_first(client, alice, lanterns["id"], 2)
    asura = next(s["id"] for s in lanterns["sources"] if s["provider_id"] == "asura")
    chosen = await ok(
        await client.put(
            f"/api/v1/manga/{lanterns['id']}/preferred-source",
            json={"source_id": asura},
            headers=alice.headers,
        )
    )
    assert chosen["source_id"] == asura
    mine = await chapters(client, alice, lanterns["id"])
    assert (mine["provider_id"], mine["fallback"]) == ("asura", None)
    assert [c["number"] for c in mine["chapters"] if c["read"]] == read
    assert [s["chosen"] for s in mine["sources"] if s["provider_id"] == "asura"] == [True]
    # Bob chose nothing: the first linked source answers him, with nothing read.
    his = await chapters(client, bob, lanterns["id"])
    assert his["provider_id"] == "mangaread"
    assert not any(c["read"] for c in his["chapters"])


async def test_unlinking_keeps_read_marks_and_the_last_source_stays(
    client: httpx.AsyncClient,
    alice: Persona,
    bob: Persona,
    madara: FakeMadaraSite,
    themesia: FakeMangaThemesiaSite,
) -> None:
    lanterns = await on_both_sites(client, alice, madara, themesia)
    read = await read_first(client, alice, lanterns["id"], 3)
    first = next(s["id"] for s in lanterns["sources"] if s["provider_id"] == "mangaread")
    url = f"/api/v1/manga/{lanterns['id']}/sources/{first}"
    assert (await client.delete(url, headers=bob.headers)).status_code == 403
    assert (await client.delete(url, headers=alice.headers)).status_code == 204
    left = await chapters(client, alice, lanterns["id"])
    assert left["provider_id"] == "asura"
    assert [c["number"] for c in left["chapters"] if c["read"]] == read
    last = left["sources"][0]["source_id"]
    only = await client.delete(
        f"/api/v1/manga/{lanterns['id']}/sources/{last}", headers=alice.headers
    )
    assert only.status_code == 409


async def test_proposals_are_each_users_own(
    client: httpx.AsyncClient, alice: Persona, bob: Persona, madara: FakeMadaraSite
) -> None:
    heron = await heron_in_library(client, alice, madara)
    await disable_and_scan(client, alice, "mangaread")
    assert (await client.post("/api/v1/migrations/scan", headers=bob.headers)).status_code == 403
    assert await ok(await client.get("/api/v1/migrations", headers=bob.headers)) == []
    candidate = (await ok(await client.get("/api/v1/migrations", headers=alice.headers)))[0][
        "candidates"
    ][0]
    stolen = await client.post(
        f"/api/v1/migrations/{heron['id']}/accept",
        json={"candidate_id": candidate["id"]},
        headers=bob.headers,
    )
    assert stolen.status_code == 404
    batch = await ok(
        await client.post(
            "/api/v1/migrations/accept-best", json={"min_score": 95}, headers=alice.headers
        )
    )
    assert ([a["manga_id"] for a in batch["accepted"]], batch["left"]) == ([heron["id"]], [])
    too_high = await client.post(
        "/api/v1/migrations/accept-best", json={"min_score": 101}, headers=alice.headers
    )
    assert too_high.status_code == 422


async def test_library_counts_unread_chapters_by_number_across_sources(
    client: httpx.AsyncClient,
    alice: Persona,
    madara: FakeMadaraSite,
    themesia: FakeMangaThemesiaSite,
) -> None:
    lanterns = await on_both_sites(client, alice, madara, themesia)
    await ok(await client.post(f"/api/v1/library/{lanterns['id']}", headers=alice.headers))
    await read_first(client, alice, lanterns["id"], 3)
    listing = await chapters(client, alice, lanterns["id"])
    entry = await ok(await client.get(f"/api/v1/library/{lanterns['id']}", headers=alice.headers))
    assert entry["unread_count"] == len(listing["chapters"]) - 3
    unread = await ok(
        await client.get("/api/v1/library/", params={"has_unread": "true"}, headers=alice.headers)
    )
    assert [e["manga_id"] for e in unread] == [lanterns["id"]]
