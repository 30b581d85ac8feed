"""``POST /providers/{id}/test``: one check across replicas, no database connection held while
it runs, a crashed replica's lease ended by a completed check, and a per-user rate limit."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from kurobara.app import create_app
from kurobara.config import Settings
from kurobara.db.engine import Database
from kurobara.monitoring import claims, identity, rules
from kurobara.monitoring.checker import Checker
from kurobara.monitoring.jobs import Monitor
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import eventually, row, status_of
from tests.monitoring.sites import PingSite

# Long: the other replica's check here lasts as long as the test holds it, which a loaded
# machine can stretch to seconds, and it must not end by timing out meanwhile.
TIMEOUT = 30.0


@pytest.fixture
def monitor_settings() -> dict[str, object]:
    return {"check_timeout": TIMEOUT}


def other_replica(app: FastAPI, clock: ManualClock, db: Database) -> Checker:
    state = app.state
    return Checker(db=db, registry=state.registry, settings=state.settings, clock=clock)


def site_asked(site: PingSite) -> Callable[[], Awaitable[bool]]:
    async def asked() -> bool:
        return site.requests > 0

    return asked


async def lease(db: Database, provider_id: str, owner: str, clock: ManualClock) -> None:
    now = clock.now()
    async with db.session() as session:
        assert await claims.claim(
            db_session=session, provider_id=provider_id, owner=owner, now=now,
            lease_until=rules.lease_expiry(now, check_timeout=TIMEOUT),
        )  # fmt: skip


def joined(caplog: pytest.LogCaptureFixture) -> Callable[[], Awaitable[bool]]:
    """Whether a press has found another replica's check in flight and waits for it."""

    async def waiting() -> bool:
        return any("checked elsewhere" in r.getMessage() for r in caplog.records)

    return waiting


async def test_presses_on_two_replicas_share_one_check(
    app: FastAPI, monitor: Monitor, clock: ManualClock, db_url: str, site: PingSite,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="kurobara.monitoring")
    # The first check lasts until the second press waits on it: on a loaded machine a fixed
    # delay could end before the second press first looked, which then rightly checked again.
    site.gate = threading.Event()
    other_db = Database(db_url)
    try:
        both = asyncio.gather(
            monitor.checker.check("site0"), other_replica(app, clock, other_db).check("site0")
        )
        await eventually(joined(caplog))
        site.gate.set()
        here, there = await both
    finally:
        site.gate.set()
        await other_db.dispose()
    assert site.requests == 1
    assert here.timestamp == there.timestamp
    assert there.status == here.status == "active"
    assert (await row(monitor.db, "site0")).total_checks == 1


async def test_a_press_while_another_replica_checks_returns_that_check(
    app: FastAPI, client: httpx.AsyncClient, users: UserFactory, clock: ManualClock,
    db_url: str, site: PingSite, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="kurobara.monitoring")
    alice = await users.alice()
    site.gate = threading.Event()  # the other replica's check lasts until the press waits on it
    other_db = Database(db_url)
    try:
        running = asyncio.create_task(other_replica(app, clock, other_db).check("site0"))
        await eventually(site_asked(site))
        pressing = asyncio.create_task(
            client.post("/api/v1/providers/site0/test", headers=alice.headers)
        )
        await eventually(joined(caplog))
        site.gate.set()
        theirs = await running
        pressed = await pressing
    finally:
        site.gate.set()
        await other_db.dispose()
    assert pressed.status_code == 200
    assert pressed.json()["timestamp"] == theirs.timestamp.isoformat().replace("+00:00", "Z")
    assert pressed.json()["status"] == "active"
    assert site.requests == 1


async def test_a_completed_check_ends_a_dead_replicas_testing(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock
) -> None:
    bob = await users.bob()
    await lease(monitor.db, "site0", "crashed-replica/serve:1:dead", clock)
    assert (await status_of(client, bob.headers, "site0"))["status"] == "testing"
    # Past its check's timeout: that check cannot be running any more.
    clock.advance(seconds=TIMEOUT + 1)
    pressed = await client.post("/api/v1/providers/site0/test", headers=bob.headers)
    assert pressed.json()["is_success"] is True
    assert (await status_of(client, bob.headers, "site0"))["status"] == "active"
    assert (await row(monitor.db, "site0")).lease_owner is None


def ended_pid() -> int:
    """The pid of a process that has ended (an earlier life of a server, say)."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


async def test_a_restarted_process_reclaims_its_own_dead_leases_at_once(
    app: FastAPI, settings: Settings, clock: ManualClock
) -> None:
    replica = identity.replica_id(settings)
    mine_before = identity.lineage(replica, "serve") + f"{ended_pid()}:0badcafe"
    theirs = "another-replica/serve:7:live"
    await lease(app.state.db, "site0", mine_before, clock)
    await lease(app.state.db, "site1", theirs, clock)
    restarted = create_app(settings)
    restarted.state.clock = clock
    async with restarted.router.lifespan_context(restarted):
        assert (await row(restarted.state.db, "site0")).lease_owner is None
        assert (await row(restarted.state.db, "site1")).lease_owner == theirs


async def test_a_worker_starting_beside_others_leaves_their_leases_alone(
    app: FastAPI, settings: Settings, clock: ManualClock
) -> None:
    # The workers of `serve --workers 2` share a data dir, so one replica id and lineage: a
    # worker starting (or restarted by the supervisor) while another checks must not take
    # that check's lease back. The other worker is a process that runs: this one's parent.
    replica = identity.replica_id(settings)
    other_worker = identity.lineage(replica, "serve") + f"{os.getppid()}:5ca1ab1e"
    await lease(app.state.db, "site0", other_worker, clock)
    starting = create_app(settings.model_copy(update={"workers": 2}))
    starting.state.clock = clock
    async with starting.router.lifespan_context(starting):
        assert (await row(starting.state.db, "site0")).lease_owner == other_worker


async def test_the_replica_id_survives_a_restart(settings: Settings) -> None:
    assert identity.replica_id(settings) == identity.replica_id(settings)
    configured = settings.model_copy(update={"replica_id": "web-1"})
    assert identity.replica_id(configured) == "web-1"


class TestConnections:
    @pytest.fixture
    def site_count(self) -> int:
        return 1

    async def test_many_presses_neither_exhaust_the_pool_nor_stall_other_requests(
        self, client: httpx.AsyncClient, users: UserFactory, site: PingSite
    ) -> None:
        alice = await users.alice()
        site.slow_seconds = 1.0
        site.set_fault("slow")
        presses = [
            asyncio.create_task(client.post("/api/v1/providers/site0/test", headers=alice.headers))
            for _ in range(45)
        ]
        await eventually(site_asked(site))
        me = await client.get("/api/v1/users/me", headers=alice.headers)
        assert me.status_code == 200
        assert not all(p.done() for p in presses)  # /users/me answered while the check ran
        responses = await asyncio.gather(*presses)
        assert [r.status_code for r in responses] == [200] * 45
        assert site.requests == 1


class TestRateLimit:
    @pytest.fixture
    def monitor_settings(self) -> dict[str, object]:
        return {"manual_test_limit": 3, "manual_test_window_seconds": 60}

    async def test_a_user_may_test_a_provider_a_few_times_a_minute(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        bob = await users.bob()
        answers = [
            await client.post("/api/v1/providers/site0/test", headers=bob.headers) for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["Retry-After"]) > 0
        assert "Too many tests of 'site0'" in answers[-1].json()["detail"]
        other = await client.post("/api/v1/providers/site1/test", headers=bob.headers)
        assert other.status_code == 200  # per provider

    async def test_admins_are_not_rate_limited(
        self, client: httpx.AsyncClient, users: UserFactory
    ) -> None:
        alice = await users.alice()
        for _ in range(5):
            response = await client.post("/api/v1/providers/site0/test", headers=alice.headers)
            assert response.status_code == 200


async def test_a_check_answers_with_the_uptime_the_row_shows(
    client: httpx.AsyncClient, users: UserFactory, site: PingSite
) -> None:
    alice = await users.alice()
    first = (await client.post("/api/v1/providers/site0/test", headers=alice.headers)).json()
    site.set_fault("error")
    second = (await client.post("/api/v1/providers/site0/test", headers=alice.headers)).json()
    assert (first["uptime_24h"], second["uptime_24h"], second["uptime_30d"]) == (100, 50, 50)
    listed = await status_of(client, alice.headers, "site0")
    assert listed["uptime_24h"] == second["uptime_24h"]
