"""Library update runs through the API: new chapters found and shown in the feed, a running
run joined, completed series skipped, failures recorded, permissions."""

from __future__ import annotations

import httpx

from kurobara.updates.jobs import LibraryUpdater
from tests.factories import UserFactory
from tests.updates.conftest import Library, outcomes, run_status, update_now


async def test_update_now_finds_a_new_chapter_and_the_feed_shows_it(
    client: httpx.AsyncClient, users: UserFactory, library: Library, updater: LibraryUpdater
) -> None:
    bob = await users.bob()
    grown = await library.add(bob, "site-a", library.pick("site-a", 0))
    quiet = await library.add(bob, "site-a", library.pick("site-a", 1))
    first = await update_now(client, bob, updater)
    number = library.grow("site-a", library.pick("site-a", 0))

    run = await update_now(client, bob, updater)

    assert first["status"] == "done"
    assert set(outcomes(first).values()) == {("no_change", 0)}  # a first fetch is no news
    assert (run["status"], run["done"], run["total"]) == ("done", 2, 2)
    assert outcomes(run) == {grown["title"]: ("new_chapters", 1), quiet["title"]: ("no_change", 0)}
    feed = await client.get("/api/v1/updates", headers=bob.headers)
    assert feed.headers["X-Total-Count"] == "1"
    [item] = feed.json()
    assert (item["manga_id"], item["number"], item["read"]) == (grown["id"], number, False)
    assert item["manga"]["title"] == grown["title"]


async def test_a_second_request_joins_the_running_run(
    client: httpx.AsyncClient, users: UserFactory, library: Library, updater: LibraryUpdater
) -> None:
    bob = await users.bob()
    await library.add(bob, "site-a", library.pick("site-a"))
    first = await client.post("/api/v1/library/updates", headers=bob.headers)
    second = await client.post("/api/v1/library/updates", headers=bob.headers)
    running = await run_status(client, bob, first.json()["run_id"])

    await updater.drain()

    assert second.json()["run_id"] == first.json()["run_id"]
    assert (first.json()["joined"], second.json()["joined"]) == (False, True)
    assert (running["status"], running["done"], running["total"]) == ("running", 0, 1)
    assert (await run_status(client, bob, first.json()["run_id"]))["status"] == "done"
    third = await client.post("/api/v1/library/updates", headers=bob.headers)
    assert third.json()["run_id"] != first.json()["run_id"]


async def test_a_completed_series_is_skipped_with_its_reason(
    client: httpx.AsyncClient, users: UserFactory, library: Library, updater: LibraryUpdater
) -> None:
    bob = await users.bob()
    manga = await library.add(bob, "site-a", library.pick("site-a", completed=True))

    run = await update_now(client, bob, updater)

    [outcome] = run["outcomes"]
    assert (outcome["manga_id"], outcome["outcome"]) == (manga["id"], "skipped")
    assert outcome["reason"] == "completed"


async def test_completed_series_are_updated_when_the_admin_turns_the_skip_off(
    client: httpx.AsyncClient, users: UserFactory, library: Library, updater: LibraryUpdater
) -> None:
    alice, bob = await users.alice(), await users.bob()
    await library.add(bob, "site-a", library.pick("site-a", completed=True))
    changed = await client.patch(
        "/api/v1/library/updates/schedule", json={"skip_completed": False}, headers=alice.headers
    )

    run = await update_now(client, bob, updater)

    assert changed.json()["skip_completed"] is False
    assert run["outcomes"][0]["outcome"] == "no_change"


async def test_a_broken_site_is_a_failed_outcome_with_its_error_kind(
    client: httpx.AsyncClient, users: UserFactory, library: Library, updater: LibraryUpdater
) -> None:
    bob = await users.bob()
    await library.add(bob, "site-a", library.pick("site-a"))
    library.sites["site-a"].set_fault("layout")

    run = await update_now(client, bob, updater)

    [outcome] = run["outcomes"]
    assert (outcome["outcome"], outcome["error_kind"]) == ("failed", "parse")
    assert outcome["error_message"]


async def test_only_an_admin_updates_everyones_library(
    client: httpx.AsyncClient, users: UserFactory, library: Library, updater: LibraryUpdater
) -> None:
    alice, bob = await users.alice(), await users.bob()
    await library.add(bob, "site-a", library.pick("site-a"))
    await library.add(alice, "site-b", library.pick("site-b"))

    refused = await client.post(
        "/api/v1/library/updates", params={"scope": "all"}, headers=bob.headers
    )
    run = await update_now(client, alice, updater, scope="all")

    assert refused.status_code == 403
    assert (run["status"], run["total"]) == ("done", 2)


async def test_a_user_cannot_read_another_users_run(
    client: httpx.AsyncClient, users: UserFactory, library: Library, updater: LibraryUpdater
) -> None:
    bob, charlie = await users.bob(), await users.charlie()
    await library.add(bob, "site-a", library.pick("site-a"))
    started = await client.post("/api/v1/library/updates", headers=bob.headers)
    run_id = started.json()["run_id"]

    theirs = await client.get(f"/api/v1/library/updates/{run_id}", headers=charlie.headers)
    missing = await client.get(
        "/api/v1/library/updates/00000000-0000-4000-8000-000000000000", headers=bob.headers
    )
    malformed = await client.get("/api/v1/library/updates/nope", headers=bob.headers)

    assert (theirs.status_code, missing.status_code, malformed.status_code) == (404, 404, 422)


async def test_an_empty_library_is_a_run_done_at_once(
    client: httpx.AsyncClient, users: UserFactory, updater: LibraryUpdater
) -> None:
    bob = await users.bob()
    run = await update_now(client, bob, updater)
    assert (run["status"], run["done"], run["total"], run["outcomes"]) == ("done", 0, 0, [])
