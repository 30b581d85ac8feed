"""The auto-download rule through a library update: new chapters of a favorite are queued for
the users who switched the rule on, and the Downloader makes them CBZ files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kurobara.downloads.jobs import Downloader
from kurobara.updates.jobs import LibraryUpdater
from tests.factories import Persona, UserFactory
from tests.monitoring.conftest import ManualClock
from tests.updates.conftest import Library, update_now


@pytest.fixture
def updates_settings() -> dict[str, object]:
    return {"downloads_worker": False}


async def switch_rule(client: httpx.AsyncClient, who: Persona, on: bool) -> None:
    response = await client.put(
        "/api/v1/downloads/rules", json={"favorites_new_chapters": on}, headers=who.headers
    )
    assert response.status_code == 200, response.text


async def queue_of(client: httpx.AsyncClient, who: Persona) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/downloads", headers=who.headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_new_chapters_of_a_favorite_are_downloaded_for_users_with_the_rule_on(
    client: httpx.AsyncClient,
    app: FastAPI,
    clock: ManualClock,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
) -> None:
    alice, bob, charlie = await users.alice(), await users.bob(), await users.charlie()
    index = library.pick("site-a", 0)
    await library.add(alice, "site-a", index, favorite=True)
    await library.add(bob, "site-a", index, favorite=True)
    await library.add(charlie, "site-a", index)  # in the library, not a favorite
    await switch_rule(client, alice, True)
    await switch_rule(client, charlie, True)
    await update_now(client, alice, updater)  # the first fetch: the back catalog is no news
    number = library.grow("site-a", index)

    await update_now(client, alice, updater)

    [row] = await queue_of(client, alice)
    assert (row["chapter_number"], row["origin"], row["state"]) == (number, "rule", "queued")
    assert await queue_of(client, bob) == []  # rule off
    assert await queue_of(client, charlie) == []  # not a favorite
    state = app.state
    worker = Downloader(
        db=state.db, registry=state.registry, images=state.images, settings=state.settings,
        clock=clock, owner="one",
    )  # fmt: skip
    assert await worker.step() == 1
    [done] = await queue_of(client, alice)
    assert done["state"] == "done"
