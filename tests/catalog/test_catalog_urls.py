"""``KUROBARA_CATALOG_URLS``: a community index fetched through the shared HTTP client from a
fake catalog server on loopback, refreshed daily, its content hash shown; and the monitor
checks only the entries an admin enabled (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from fastapi import FastAPI

from kurobara.catalog import service
from kurobara.catalog.jobs import CatalogJob
from kurobara.db.engine import Database
from kurobara.monitoring.jobs import Monitor
from kurobara.providers.fakes.catalog_index import FakeCatalogIndex
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import eventually


@pytest.fixture
def settings_overrides(index: FakeCatalogIndex) -> dict[str, object]:
    return {"catalog_urls": [index.url], "catalog_bundled": False, "check_timeout": 5}


async def fetched(job: CatalogJob) -> None:
    """The index is fetched and recorded. The job's start-up step fetches it in the background:
    when that step holds the refresh's claim, a refresh of ours does nothing and returns at
    once, before the step's answer is recorded, so wait for it."""
    await job.refresh(force=False)

    async def recorded() -> bool:
        async with job.db.session() as session:
            rows = await service.list_indexes(db_session=session, urls=job.sources.urls)
        return len(rows) == len(job.sources.urls) and all(row.content_hash for row in rows)

    await eventually(recorded, seconds=30)


async def test_an_index_is_fetched_at_start_and_listed_with_its_hash(
    client: httpx.AsyncClient, users: UserFactory, job: CatalogJob, index: FakeCatalogIndex
) -> None:
    await fetched(job)
    bob = await users.bob()
    listed = (await client.get("/api/v1/catalog/", headers=bob.headers)).json()
    assert listed["bundled"] is False
    assert [i["id"] for i in listed["items"]] == [e["id"] for e in index.entries]
    assert {i["origin"] for i in listed["items"]} == {index.url}
    (shown,) = listed["indexes"]
    assert shown["content_hash"] == hashlib.sha256(index.json_body()).hexdigest()
    assert shown["entry_count"] == 6
    assert shown["error"] is None
    # One fetch: the job's start-up step or ours, never both (one wins the claim).
    assert index.fetches == 1


async def test_it_is_refreshed_daily_not_on_every_step(
    job: CatalogJob, index: FakeCatalogIndex, clock: ManualClock
) -> None:
    # The job's start-up step fetches in the background; once the site has answered it, the
    # loop stops and the test drives every step (read the count while a fetch was in flight
    # and the start-up fetch would look like one made 23 hours later).
    async def answered() -> bool:
        return index.fetches == 1

    await eventually(answered, seconds=30)
    await job.stop()
    await job.step()
    fetched = index.fetches
    clock.advance(hours=23)
    await job.step()
    assert index.fetches == fetched
    index.entries = index.entries[:2]
    clock.advance(hours=1)
    report = await job.step()
    assert index.fetches == fetched + 1
    assert [(r.ok, r.entries, r.changed) for r in report.refreshed] == [(True, 2, True)]


async def test_refresh_now_fetches_at_once_and_shows_the_new_hash(
    client: httpx.AsyncClient, users: UserFactory, job: CatalogJob, index: FakeCatalogIndex
) -> None:
    await fetched(job)
    alice = await users.alice()
    index.entries = index.entries[:1]
    response = await client.post("/api/v1/catalog/refresh", headers=alice.headers)
    assert response.status_code == 200
    (shown,) = response.json()
    assert shown["entry_count"] == 1
    assert shown["content_hash"] == hashlib.sha256(index.json_body()).hexdigest()


@pytest.mark.parametrize("fault", ["error", "garbage"])
async def test_a_failed_refresh_keeps_the_last_good_entries_and_says_why(
    client: httpx.AsyncClient,
    users: UserFactory,
    job: CatalogJob,
    index: FakeCatalogIndex,
    fault: str,
) -> None:
    await job.refresh(force=True)
    good_hash = hashlib.sha256(index.json_body()).hexdigest()
    index.fault = fault
    (result,) = await job.refresh(force=True)
    assert not result.ok
    bob = await users.bob()
    listed = (await client.get("/api/v1/catalog/", headers=bob.headers)).json()
    assert listed["total"] == 6
    (shown,) = listed["indexes"]
    assert shown["content_hash"] == good_hash
    expected = "http_status" if fault == "error" else "unreadable"
    assert shown["error"].startswith(expected)


async def test_invalid_entries_of_an_index_are_reported_and_the_rest_served(
    client: httpx.AsyncClient, users: UserFactory, job: CatalogJob, index: FakeCatalogIndex
) -> None:
    index.entries = [*index.entries[:2], {"id": "Bad Id", "name": "x", "kind": "madara"}]
    await job.refresh(force=True)
    bob = await users.bob()
    listed = (await client.get("/api/v1/catalog/", headers=bob.headers)).json()
    assert listed["total"] == 2
    (shown,) = listed["indexes"]
    assert len(shown["rejected"]) == 1
    assert "entry 3" in shown["rejected"][0]


async def test_the_yaml_form_of_an_index_reads_the_same(
    index: FakeCatalogIndex, job: CatalogJob
) -> None:
    job.sources.urls.append(index.yaml_url)
    results = await job.refresh(force=True)
    assert [(r.url, r.entries) for r in results] == [(index.url, 6), (index.yaml_url, 6)]


async def test_the_monitor_checks_only_enabled_entries_and_they_are_down_with_dns(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    job: CatalogJob,
    index: FakeCatalogIndex,
    clock: ManualClock,
) -> None:
    await fetched(job)
    alice = await users.alice()
    enabled = [e["id"] for e in index.entries[:2]]
    for entry_id in enabled:
        response = await client.post(f"/api/v1/catalog/{entry_id}/enable", headers=alice.headers)
        assert response.status_code == 200, response.text
    state = app.state
    monitor = Monitor(
        db=state.db, registry=state.registry, http=state.http, settings=state.settings,
        clock=clock, checker=state.checker,
    )  # fmt: skip
    reports = await monitor.step()
    assert sorted(r.provider_id for r in reports) == sorted(enabled)
    assert {r.result.error_kind for r in reports} == {"dns"}
    statuses = await client.get("/api/v1/providers/status", headers=alice.headers)
    assert sorted(s["provider_id"] for s in statuses.json()) == sorted(enabled)


async def test_an_entry_stays_enabled_when_its_index_drops_it_and_can_still_be_disabled(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    job: CatalogJob,
    index: FakeCatalogIndex,
) -> None:
    await fetched(job)
    alice = await users.alice()
    kept = index.entries[0]["id"]
    enabled = await client.post(f"/api/v1/catalog/{kept}/enable", headers=alice.headers)
    assert enabled.status_code == 200
    index.entries = index.entries[1:]
    await job.refresh(force=True)
    await job.sync()
    assert kept in app.state.registry
    listed = await client.get(
        "/api/v1/catalog/", params={"state": "enabled"}, headers=alice.headers
    )
    assert [(i["id"], i["origin"]) for i in listed.json()["items"]] == [(kept, index.url)]
    response = await client.post(f"/api/v1/catalog/{kept}/disable", headers=alice.headers)
    assert response.status_code == 200
    assert kept not in app.state.registry
    gone = await client.post(f"/api/v1/catalog/{kept}/enable", headers=alice.headers)
    assert gone.status_code == 404


async def test_a_sync_that_read_before_an_enable_does_not_take_the_entry_away(
    client: httpx.AsyncClient,
    users: UserFactory,
    app: FastAPI,
    db: Database,
    job: CatalogJob,
    index: FakeCatalogIndex,
) -> None:
    """The periodic sync reads the enabled entries, then ends its read; an admin's enable that
    lands in between must survive the sync's pass over the registry."""
    await fetched(job)
    alice = await users.alice()
    kept = index.entries[0]["id"]
    async with db.session() as session:
        end_read = session.rollback

        async def end_read_while_an_admin_enables() -> None:
            session.rollback = end_read  # type: ignore[method-assign]
            await end_read()
            enabled = await client.post(f"/api/v1/catalog/{kept}/enable", headers=alice.headers)
            assert enabled.status_code == 200

        session.rollback = end_read_while_an_admin_enables  # type: ignore[method-assign]
        synced = await service.sync_enabled(
            db_session=session, registry=app.state.registry, http=app.state.http
        )
    assert kept in app.state.registry
    assert synced.removed == []
