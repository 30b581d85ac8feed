"""The scheduler: claims in the database, leases, bounded concurrency, intervals from user
preferences and admin overrides, early checks, and a clean stop."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, update

from kurobara.db.engine import Database
from kurobara.monitoring import claims, rules, service
from kurobara.monitoring.jobs import Monitor
from kurobara.monitoring.models import ProviderCheck, ProviderStatus
from kurobara.providers.registry import ProviderRegistry
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import checked_in_ticks, eventually, row, status_of
from tests.monitoring.sites import PingSite


async def checks_by_provider(db: Database) -> Counter[str]:
    async with db.session() as session:
        ids = (await session.scalars(select(ProviderCheck.provider_id))).all()
    return Counter(ids)


def second_monitor(app: FastAPI, clock: ManualClock, db: Database) -> Monitor:
    """Another replica: its own engine, checker and lease owner on the same database."""
    state = app.state
    return Monitor(
        db=db, registry=state.registry, http=state.http, settings=state.settings, clock=clock
    )


class TestReplicas:
    @pytest.fixture
    def definitions(self, sites: list[PingSite]) -> list[dict[str, Any]]:
        return [sites[i % 2].definition(f"p{i:02d}") for i in range(12)]

    @pytest.fixture
    def monitor_settings(self) -> dict[str, object]:
        return {"check_concurrency": 4}

    async def test_two_schedulers_never_check_a_provider_twice_in_one_slot(
        self, app: FastAPI, monitor: Monitor, clock: ManualClock, db_url: str
    ) -> None:
        other_db = Database(db_url)
        other = second_monitor(app, clock, other_db)
        try:
            for _ in range(4):
                await asyncio.gather(monitor.step(), other.step(), monitor.step(), other.step())
        finally:
            await other_db.dispose()
        counts = await checks_by_provider(monitor.db)
        assert counts == Counter({f"p{i:02d}": 1 for i in range(12)})

    async def test_a_dead_replicas_lease_expires_and_another_takes_over(
        self, app: FastAPI, monitor: Monitor, clock: ManualClock
    ) -> None:
        now = clock.now()
        async with monitor.db.session() as session:
            won = await claims.claim_due(
                db_session=session, owner="dead-replica", now=now, limit=12,
                lease_until=rules.lease_expiry(now, check_timeout=1),
                provider_ids=monitor.registry.ids(),
            )  # fmt: skip
        assert len(won.provider_ids) == 12
        assert await monitor.step() == []
        clock.advance(seconds=32)
        assert len(await monitor.step()) == 4
        assert (await row(monitor.db, "p00")).lease_owner is None

    async def test_a_claim_passes_over_other_registries_due_first_and_says_how_many(
        self, monitor: Monitor, clock: ManualClock
    ) -> None:
        """The registry is tested on the rows a claim reads: a replica whose providers fall due
        after eleven of another registry's still gets them, and the next claim reads those
        eleven in its first read."""
        now = clock.now()
        async with monitor.db.session() as session:
            for i in range(12):
                await session.execute(
                    update(ProviderStatus)
                    .where(ProviderStatus.provider_id == f"p{i:02d}")
                    .values(next_check_at=now - timedelta(minutes=12 - i))
                )
            await session.commit()
        reads: list[str] = []

        def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().startswith("SELECT provider_status.id"):
                reads.append(statement)

        ours = ["p11", "p10"]
        event.listen(monitor.db.engine.sync_engine, "before_cursor_execute", count)
        try:
            async with monitor.db.session() as session:
                first = await claims.claim_due(
                    db_session=session, owner="small-replica", now=now, limit=1,
                    lease_until=rules.lease_expiry(now, check_timeout=1), provider_ids=ours,
                )  # fmt: skip
            assert first == claims.Won(["p10"], others=10)
            assert len(reads) == 5  # 1 row, then 2, 4, 8, 16: ten of another registry first
            reads.clear()
            async with monitor.db.session() as session:
                second = await claims.claim_due(
                    db_session=session, owner="small-replica", now=now, limit=1,
                    lease_until=rules.lease_expiry(now, check_timeout=1), provider_ids=ours,
                    others=first.others,
                )  # fmt: skip
        finally:
            event.remove(monitor.db.engine.sync_engine, "before_cursor_execute", count)
        assert second == claims.Won(["p11"], others=10)
        assert len(reads) == 1
        assert (await row(monitor.db, "p00")).lease_owner is None
        assert (await row(monitor.db, "p11")).lease_owner == "small-replica"

    async def test_at_most_concurrency_checks_run_at_once(
        self, monitor: Monitor, sites: list[PingSite]
    ) -> None:
        for site in sites:
            site.slow_seconds = 0.3
            site.set_fault("slow")
        reports = await monitor.step()
        assert len(reports) == 4
        assert sum(s.requests for s in sites) == 4


class TestAReplicaDies:
    """Twelve providers, four checks at a time per replica; one replica is killed mid-check."""

    # Long enough that no check ends by timing out while the test holds it (under heavy load
    # a short one did, and the doomed replica then recorded a result).
    TIMEOUT = 30.0

    @pytest.fixture
    def definitions(self, sites: list[PingSite]) -> list[dict[str, Any]]:
        return [sites[i % 2].definition(f"p{i:02d}") for i in range(12)]

    @pytest.fixture
    def monitor_settings(self) -> dict[str, object]:
        return {"check_concurrency": 4, "check_timeout": self.TIMEOUT}

    async def test_three_replicas_lose_and_duplicate_nothing_when_one_dies(
        self, app: FastAPI, monitor: Monitor, clock: ManualClock, db_url: str,
        sites: list[PingSite],
    ) -> None:  # fmt: skip
        for site in sites:
            site.gate = threading.Event()  # checks stay in flight until released
        engines = [Database(db_url), Database(db_url)]
        second, doomed = (second_monitor(app, clock, engine) for engine in engines)
        try:
            dying = asyncio.create_task(doomed.step())

            async def doomed_checks_at_the_sites() -> bool:
                return sum(site.requests for site in sites) == 4

            await eventually(doomed_checks_at_the_sites)
            await doomed.checker.cancel_all()  # killed mid-check: no results, leases left behind
            await asyncio.gather(dying, return_exceptions=True)
            for site in sites:
                site.gate.set()
            # Two replicas stepping at once may split the due work unevenly within one tick (on
            # SQLite one claim can wait out the other's write); a few ticks must clear it.
            assert await checked_in_ticks(monitor, second) == 8
            # The dead replica's leases expire (the others' next checks are an hour away).
            clock.set(rules.lease_expiry(clock.now(), check_timeout=self.TIMEOUT))
            clock.advance(seconds=1)
            assert await checked_in_ticks(monitor, second) == 4
        finally:
            for site in sites:
                if site.gate is not None:
                    site.gate.set()
            for engine in engines:
                await engine.dispose()
        counts = await checks_by_provider(monitor.db)
        assert counts == Counter({f"p{i:02d}": 1 for i in range(12)})


async def test_disabled_provider_is_not_checked(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, site: PingSite
) -> None:
    alice = await users.alice()
    await client.patch("/api/v1/providers/site0/status", json={"is_enabled": False},
                       headers=alice.headers)  # fmt: skip
    reports = await monitor.step()
    assert [r.provider_id for r in reports] == ["site1"]
    assert site.requests == 0
    body = await status_of(client, alice.headers, "site0")
    assert body["is_enabled"] is False
    assert body["is_healthy"] is False


async def test_enabling_a_provider_makes_it_due_now(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock
) -> None:
    alice = await users.alice()
    await monitor.step()
    path = "/api/v1/providers/site0/status"
    await client.patch(path, json={"is_enabled": False}, headers=alice.headers)
    await client.patch(path, json={"is_enabled": True}, headers=alice.headers)
    assert [r.provider_id for r in await monitor.step()] == ["site0"]


async def test_user_preference_sets_the_effective_interval(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock
) -> None:
    bob = await users.bob()
    charlie = await users.charlie()
    for persona in (await users.alice(), bob, charlie):
        await client.patch("/api/v1/providers/check-interval", json={"interval": 1440},
                           headers=persona.headers)  # fmt: skip
    await monitor.step()
    assert (await status_of(client, bob.headers, "site0"))["check_interval"] == 1440
    clock.advance(minutes=120)
    assert await monitor.step() == []
    response = await client.patch(
        "/api/v1/providers/check-interval", json={"interval": 120}, headers=charlie.headers
    )
    assert response.json()["effective_check_interval"] == 120
    body = await status_of(client, bob.headers, "site0")
    assert body["effective_check_interval"] == body["check_interval"] == 120
    assert len(await monitor.step()) == 2  # brought forward to last check + 120 min


async def test_admin_override_beats_user_preferences(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock
) -> None:
    alice = await users.alice()
    await client.patch("/api/v1/providers/check-interval", json={"interval": 30},
                       headers=alice.headers)  # fmt: skip
    await client.patch("/api/v1/providers/site0/status", json={"check_interval": 5},
                       headers=alice.headers)  # fmt: skip
    await monitor.step()
    assert (await row(monitor.db, "site0")).next_check_at == clock.now() + timedelta(minutes=5)
    assert (await row(monitor.db, "site1")).next_check_at == clock.now() + timedelta(minutes=30)
    clock.advance(minutes=5)
    assert [r.provider_id for r in await monitor.step()] == ["site0"]


async def test_shortening_the_override_reschedules_from_the_last_check(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock
) -> None:
    alice = await users.alice()
    await monitor.step()
    clock.advance(minutes=10)
    await client.patch("/api/v1/providers/site0/status", json={"check_interval": 10},
                       headers=alice.headers)  # fmt: skip
    assert [r.provider_id for r in await monitor.step()] == ["site0"]


async def test_without_users_the_default_interval_applies(
    monitor: Monitor, clock: ManualClock
) -> None:
    await monitor.step()
    assert (await row(monitor.db, "site0")).next_check_at == clock.now() + timedelta(minutes=60)


async def test_a_check_in_flight_shows_testing_and_keeps_the_completed_status(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, site: PingSite
) -> None:
    bob = await users.bob()
    await monitor.step()
    site.gate = threading.Event()  # the check lasts until the test has looked at it
    running = asyncio.create_task(monitor.checker.check("site0"))

    async def leased() -> bool:
        return (await row(monitor.db, "site0")).lease_owner is not None

    try:
        await eventually(leased)
        assert (await status_of(client, bob.headers, "site0"))["status"] == "testing"
        assert (await row(monitor.db, "site0")).status == "active"
    finally:
        site.gate.set()
    await running
    assert (await status_of(client, bob.headers, "site0"))["status"] == "active"


async def test_stopping_cancels_checks_and_leaves_nothing_testing(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, sites: list[PingSite]
) -> None:
    bob = await users.bob()
    for site in sites:
        site.set_fault("slow")
    await monitor.start(sweep=True)

    async def both_in_flight() -> bool:
        return sum(s.requests for s in sites) >= 2

    await eventually(both_in_flight)
    statuses = (await client.get("/api/v1/providers/status", headers=bob.headers)).json()
    assert {s["status"] for s in statuses} == {"testing"}
    await monitor.stop()
    statuses = (await client.get("/api/v1/providers/status", headers=bob.headers)).json()
    assert {s["status"] for s in statuses} == {"unknown"}
    assert sum((await checks_by_provider(monitor.db)).values()) == 0


async def test_early_check_request_coalesces_with_due_checks(
    monitor: Monitor, clock: ManualClock
) -> None:
    await monitor.step()
    async with monitor.db.session() as session:
        first = await claims.request_early_check(
            db_session=session, provider_id="site0", now=clock.now()
        )
        second = await claims.request_early_check(
            db_session=session, provider_id="site0", now=clock.now()
        )
    assert (first, second) == (True, False)
    assert [r.provider_id for r in await monitor.step()] == ["site0"]
    assert await monitor.step() == []


async def test_manual_check_reschedules_the_next_slot(monitor: Monitor, clock: ManualClock) -> None:
    await monitor.step()
    clock.advance(minutes=50)
    await monitor.checker.check("site0")
    clock.advance(minutes=10)
    assert [r.provider_id for r in await monitor.step()] == ["site1"]


async def test_a_replica_claims_only_the_providers_it_has(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory, monitor: Monitor,
    clock: ManualClock, db_url: str,
) -> None:  # fmt: skip
    bob = await users.bob()
    state = app.state
    smaller = ProviderRegistry([state.registry.get("site0")])
    other_db = Database(db_url)
    try:
        async with other_db.session() as session:  # its start-up sync must not hide site1
            await service.sync_registry(db_session=session, registry=smaller,
                                        settings=state.settings)  # fmt: skip
        other = Monitor(
            db=other_db, registry=smaller, http=state.http, settings=state.settings, clock=clock
        )
        assert [r.provider_id for r in await other.step()] == ["site0"]
    finally:
        await other_db.dispose()
    assert (await row(monitor.db, "site1")).lease_owner is None
    assert (await status_of(client, bob.headers, "site1"))["status"] == "unknown"
    assert [r.provider_id for r in await monitor.step()] == ["site1"]
