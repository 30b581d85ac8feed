"""Updates ask the monitor first: a down or disabled provider is not asked (its manga are
skipped with the reason), and the monitor seeing it come back starts their refresh at once.
A 429 pauses the provider's updates instead of failing them."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from kurobara.updates.jobs import LibraryUpdater
from kurobara.updates.models import ProviderPause
from tests.factories import Persona, UserFactory
from tests.monitoring.conftest import ManualClock
from tests.updates.conftest import Library, outcomes, run_status, update_now


async def check(app: FastAPI, clock: ManualClock, provider_id: str, times: int = 1) -> None:
    for _ in range(times):
        clock.advance(minutes=2)
        await app.state.checker.check(provider_id)


async def recent(client: httpx.AsyncClient, who: Persona) -> list[dict[str, object]]:
    response = await client.get("/api/v1/library/updates", headers=who.headers)
    assert response.status_code == 200, response.text
    runs: list[dict[str, object]] = response.json()
    return runs


async def test_a_down_provider_is_skipped_then_refreshed_when_it_comes_back(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
    clock: ManualClock,
) -> None:
    bob = await users.bob()
    index = library.pick("site-b")
    kept = await library.add(bob, "site-a", library.pick("site-a"))
    gone = await library.add(bob, "site-b", index)
    await update_now(client, bob, updater)
    library.sites["site-b"].set_fault("down")
    await check(app, clock, "site-b", times=3)
    requests = library.sites["site-b"].requests

    skipped = await update_now(client, bob, updater)
    asked_while_down = library.sites["site-b"].requests - requests
    library.grow("site-b", index)
    library.sites["site-b"].set_fault("ok")
    await check(app, clock, "site-b")  # down -> active
    ran = await updater.step()

    assert outcomes(skipped)[kept["title"]] == ("no_change", 0)
    [down] = [o for o in skipped["outcomes"] if o["manga_id"] == gone["id"]]
    assert (down["outcome"], down["reason"], down["error_kind"]) == (
        "skipped",
        "provider_down",
        "connect",
    )
    assert asked_while_down == 0
    assert ran == 1
    [recovery] = [r for r in await recent(client, bob) if r["trigger"] == "provider_up"]
    assert (recovery["provider_id"], recovery["status"]) == ("site-b", "done")
    assert outcomes(recovery) == {gone["title"]: ("new_chapters", 1)}


async def test_a_disabled_provider_is_skipped_without_a_request(
    client: httpx.AsyncClient, users: UserFactory, library: Library, updater: LibraryUpdater
) -> None:
    alice, bob = await users.alice(), await users.bob()
    await library.add(bob, "site-a", library.pick("site-a"))
    switched = await client.patch(
        "/api/v1/providers/site-a/status", json={"is_enabled": False}, headers=alice.headers
    )
    requests = library.sites["site-a"].requests

    run = await update_now(client, bob, updater)

    assert switched.status_code == 200, switched.text
    assert [(o["outcome"], o["reason"]) for o in run["outcomes"]] == [
        ("skipped", "provider_disabled")
    ]
    assert library.sites["site-a"].requests == requests


@pytest.fixture
def updates_settings() -> dict[str, object]:
    # The shared HTTP client pauses a 429'd site on the real clock too; with no client pause
    # the updater's own pause (on the test's clock) is what these tests watch.
    return {"http_max_retry_after": 0}


async def test_a_429_pauses_the_providers_updates_instead_of_failing_them(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
    clock: ManualClock,
) -> None:
    bob = await users.bob()
    await library.add(bob, "site-a", library.pick("site-a"))
    library.sites["site-a"].set_fault("ratelimit")  # 429, Retry-After: 30

    started = await client.post("/api/v1/library/updates", headers=bob.headers)
    await updater.drain()
    paused = await run_status(client, bob, started.json()["run_id"])
    requests = library.sites["site-a"].requests
    clock.advance(seconds=10)
    still = await updater.step()
    asked_during_pause = library.sites["site-a"].requests - requests
    library.sites["site-a"].set_fault("ok")
    clock.advance(seconds=25)
    await updater.drain()
    resumed = await run_status(client, bob, started.json()["run_id"])

    async with app.state.db.session() as session:
        pause = await session.scalar(select(ProviderPause))
    assert (paused["status"], paused["done"], paused["outcomes"][0]["outcome"]) == (
        "running",
        0,
        None,
    )
    assert still == 0
    assert asked_during_pause == 0
    assert pause is not None
    assert (resumed["status"], resumed["outcomes"][0]["outcome"]) == ("done", "no_change")
