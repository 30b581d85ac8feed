"""Several updaters on one database refresh each source once, and a run whose updater died
mid-way resumes from its leases: nothing lost beyond the sources in flight, none repeated."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI

from kurobara.updates import claims
from kurobara.updates.jobs import LibraryUpdater
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.updates.conftest import Library, run_status, update_now


def replica(app: FastAPI, clock: ManualClock, owner: str) -> LibraryUpdater:
    state = app.state
    return LibraryUpdater(
        db=state.db, registry=state.registry, settings=state.settings, clock=clock, owner=owner
    )


async def test_three_replicas_refresh_each_source_exactly_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
    clock: ManualClock,
) -> None:
    bob = await users.bob()
    for site in ("site-a", "site-b"):
        for nth in range(3):
            await library.add(bob, site, library.pick(site, nth))
    await update_now(client, bob, updater)  # first fetches
    before = {name: site.requests for name, site in library.sites.items()}

    started = await client.post("/api/v1/library/updates", headers=bob.headers)
    workers = [replica(app, clock, f"replica-{i}") for i in range(3)]
    ran = await asyncio.gather(*(worker.drain() for worker in workers))
    run = await run_status(client, bob, started.json()["run_id"])

    assert sum(ran) == 6
    assert (run["status"], run["done"], run["total"]) == ("done", 6, 6)
    # one chapter-list request per source (the html kind reads one page)
    assert {n: s.requests - before[n] for n, s in library.sites.items()} == {
        "site-a": 3,
        "site-b": 3,
    }


async def test_a_run_resumes_from_the_leases_of_an_updater_that_died(
    app: FastAPI,
    client: httpx.AsyncClient,
    users: UserFactory,
    library: Library,
    updater: LibraryUpdater,
    clock: ManualClock,
) -> None:
    bob = await users.bob()
    for nth in range(3):
        await library.add(bob, "site-a", library.pick("site-a", nth))
    started = await client.post("/api/v1/library/updates", headers=bob.headers)
    now = clock.now()
    async with app.state.db.session() as session:  # a replica claims one source, then dies
        [lost] = await claims.claim(
            db_session=session,
            provider_id="site-a",
            owner="dead",
            now=now,
            limit=1,
            lease_until=now + timedelta(minutes=2),
        )

    first = await updater.drain()
    waiting = await run_status(client, bob, started.json()["run_id"])
    clock.advance(minutes=5)  # the dead replica's lease expires
    second = await updater.drain()
    run = await run_status(client, bob, started.json()["run_id"])

    assert (first, waiting["status"], waiting["done"]) == (2, "running", 2)
    assert second == 1
    assert (run["status"], run["done"]) == ("done", 3)
    assert str(lost) in {o["source_id"] for o in run["outcomes"]}
