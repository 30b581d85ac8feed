"""History: a raw row per check, hourly rollups across an hour boundary, uptime windows and
percentiles from the rollups, and retention of both."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from kurobara.monitoring.jobs import Monitor
from kurobara.monitoring.models import ProviderCheck, ProviderCheckHourly
from tests.factories import UserFactory
from tests.monitoring.conftest import START, ManualClock
from tests.monitoring.sites import PingSite


@pytest.fixture
def site_count() -> int:
    return 1


async def test_rollups_split_checks_at_the_hour_boundary(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    site: PingSite,
) -> None:  # fmt: skip
    bob = await users.bob()
    await monitor.checker.check("site0")  # 09:30
    clock.set(START.replace(minute=59, second=59))
    await monitor.checker.check("site0")
    clock.advance(seconds=2)  # 10:00:01
    site.set_fault("error")
    await monitor.checker.check("site0")
    body = (await client.get("/api/v1/providers/site0/history", headers=bob.headers)).json()
    hours = [(h["hour"], h["checks"], h["successes"]) for h in body["hours"]]
    assert hours == [("2026-03-10T09:00:00Z", 2, 2), ("2026-03-10T10:00:00Z", 1, 0)]
    assert body["hours"][0]["uptime_percentage"] == 100.0
    assert body["hours"][0]["p50_response_time"] is not None
    assert body["hours"][1]["p95_response_time"] is None  # failures carry no timing
    assert body["uptime_percentage"] == 66.67
    assert body["total_checks"] == 3
    assert [c["ok"] for c in body["checks"]] == [False, True, True]
    assert body["checks"][0]["error_kind"] == "http_status"


async def test_uptime_windows_come_from_the_rollups(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    site: PingSite,
) -> None:  # fmt: skip
    bob = await users.bob()
    site.set_fault("error")
    await monitor.checker.check("site0")  # 20 days ago: only the 30 d window sees it
    clock.advance(days=17)
    site.set_fault("ok")
    await monitor.checker.check("site0")  # 3 days ago
    clock.advance(days=3)
    await monitor.checker.check("site0")
    [provider] = (await client.get("/api/v1/providers/", headers=bob.headers)).json()
    assert (provider["uptime_24h"], provider["uptime_7d"], provider["uptime_30d"]) == (
        100.0,
        100.0,
        66.67,
    )
    week = await client.get(
        "/api/v1/providers/site0/history", params={"window": "7d"}, headers=bob.headers
    )
    assert week.json()["total_checks"] == 2


class TestRetention:
    @pytest.fixture
    def monitor_settings(self) -> dict[str, object]:
        return {"history_retention_days": 2, "rollup_retention_days": 5}

    async def test_old_checks_and_rollups_are_pruned_by_their_settings(
        self, monitor: Monitor, clock: ManualClock
    ) -> None:
        for _ in range(4):  # one check a day
            await monitor.checker.check("site0")
            clock.advance(days=1)
        clock.advance(days=2)  # checks are now 2..5 days old
        pruned = await monitor.prune()
        assert (pruned.checks, pruned.rollups) == (4, 1)
        async with monitor.db.session() as session:
            raw = await session.scalar(select(func.count()).select_from(ProviderCheck))
            hours = await session.scalar(select(func.count()).select_from(ProviderCheckHourly))
        assert (raw, hours) == (0, 3)
        assert (await monitor.prune()).checks == 0


async def test_retention_defaults_keep_a_week_of_checks_and_90_days_of_rollups(
    monitor: Monitor, clock: ManualClock
) -> None:
    await monitor.checker.check("site0")
    clock.advance(days=7, seconds=-1)
    assert (await monitor.prune()).checks == 0
    clock.advance(seconds=2)
    assert (await monitor.prune()).checks == 1
    clock.set(START + timedelta(days=90, hours=1))
    assert (await monitor.prune()).rollups == 1
