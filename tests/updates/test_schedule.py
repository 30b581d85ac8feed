"""The schedule: every KUROBARA_LIBRARY_UPDATE_HOURS (default 12), 1..168 set by the admin, a
scheduled run of everyone's library started once per slot by whichever updater ticks first."""

from __future__ import annotations

import httpx
import pytest

from kurobara.updates.jobs import LibraryUpdater
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.updates.conftest import Library


async def scheduled(client: httpx.AsyncClient, who: object) -> list[dict[str, object]]:
    runs = await client.get("/api/v1/library/updates", headers=who.headers)  # type: ignore[attr-defined]
    return [r for r in runs.json() if r["trigger"] == "scheduled"]


async def test_the_default_is_every_12_hours_and_only_the_admin_changes_it(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    alice, bob = await users.alice(), await users.bob()
    default = await client.get("/api/v1/library/updates/schedule", headers=bob.headers)
    refused = await client.patch(
        "/api/v1/library/updates/schedule", json={"interval_hours": 24}, headers=bob.headers
    )
    changed = await client.patch(
        "/api/v1/library/updates/schedule", json={"interval_hours": 24}, headers=alice.headers
    )
    assert default.json()["interval_hours"] == 12
    assert refused.status_code == 403
    assert changed.json()["interval_hours"] == 24


@pytest.mark.parametrize("hours", [0, 169, "often", None])
async def test_an_interval_outside_1_to_168_hours_is_refused(
    client: httpx.AsyncClient, users: UserFactory, hours: object
) -> None:
    alice = await users.alice()
    response = await client.patch(
        "/api/v1/library/updates/schedule",
        json={"interval_hours": hours} if hours is not None else {"nope": 1},
        headers=alice.headers,
    )
    assert response.status_code == 422


async def test_scheduled_runs_start_once_per_interval_across_updaters(
    client: httpx.AsyncClient,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
    clock: ManualClock,
) -> None:
    alice, bob = await users.alice(), await users.bob()
    await library.add(bob, "site-a", library.pick("site-a"))
    await client.patch(
        "/api/v1/library/updates/schedule", json={"interval_hours": 6}, headers=alice.headers
    )
    other = LibraryUpdater(
        db=updater.db, registry=updater.registry, settings=updater.settings, clock=clock, owner="b"
    )

    await updater.drain()
    await other.drain()
    first = await scheduled(client, bob)
    clock.advance(hours=5)
    await updater.drain()
    early = await scheduled(client, bob)
    clock.advance(hours=1, seconds=1)
    await other.drain()
    await updater.drain()
    later = await scheduled(client, bob)

    assert [(r["status"], r["total"]) for r in first] == [("done", 1)]
    assert len(early) == 1
    assert len(later) == 2
