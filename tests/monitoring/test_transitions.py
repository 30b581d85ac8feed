"""Every transition of the state machine, end to end: fake site faults, scheduled checks,
the status every endpoint shows, and the retry interval while failing below the threshold."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from kurobara.monitoring.jobs import Monitor
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import row, status_of
from tests.monitoring.sites import PingSite


@pytest.fixture
def site_count() -> int:
    return 1


async def test_first_success_makes_an_unknown_provider_active(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor
) -> None:
    bob = await users.bob()
    assert (await status_of(client, bob.headers, "site0"))["status"] == "unknown"
    [report] = await monitor.step()
    assert report.result.ok
    body = await status_of(client, bob.headers, "site0")
    assert body["status"] == "active"
    assert body["is_healthy"] is True
    assert body["total_checks"] == body["successful_checks"] == 1
    assert body["response_time"] is not None


async def test_third_failure_marks_provider_down(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    site: PingSite,
) -> None:  # fmt: skip
    bob = await users.bob()
    await monitor.step()
    site.set_fault("error")
    for expected in ("active", "active", "down"):
        clock.advance(minutes=61)
        await monitor.step()
        body = await status_of(client, bob.headers, "site0")
        assert body["status"] == expected
    assert body["consecutive_failures"] == 3
    assert body["error_kind"] == "http_status"
    assert body["http_status"] == 500
    assert body["is_healthy"] is False
    assert body["uptime_percentage"] == 25


async def test_unknown_provider_that_never_answers_goes_down(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    site: PingSite,
) -> None:  # fmt: skip
    bob = await users.bob()
    site.set_fault("down")
    for expected in ("unknown", "unknown", "down"):
        await monitor.step()
        assert (await status_of(client, bob.headers, "site0"))["status"] == expected
        clock.advance(seconds=61)
    assert (await row(monitor.db, "site0")).error_kind == "connect"


async def test_recovery_makes_a_down_provider_active(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    site: PingSite,
) -> None:  # fmt: skip
    bob = await users.bob()
    site.set_fault("challenge")
    for _ in range(3):
        await monitor.step()
        clock.advance(seconds=61)
    assert (await status_of(client, bob.headers, "site0"))["error_kind"] == "bot_challenge"
    site.set_fault("ok")
    clock.advance(minutes=61)
    await monitor.step()
    body = await status_of(client, bob.headers, "site0")
    assert body["status"] == "active"
    assert body["consecutive_failures"] == 0
    assert body["error_kind"] is None


async def test_failing_provider_is_retried_after_the_retry_interval(
    monitor: Monitor, clock: ManualClock, site: PingSite
) -> None:
    await monitor.step()
    clock.advance(minutes=61)
    site.set_fault("error")
    await monitor.step()
    failed_at = clock.now()
    assert (await row(monitor.db, "site0")).next_check_at == failed_at + timedelta(seconds=60)
    clock.advance(seconds=59)
    assert await monitor.step() == []
    clock.advance(seconds=1)
    [report] = await monitor.step()
    assert report.result.error_kind == "http_status"


async def test_a_rate_limited_provider_is_not_counted_as_failing(
    monitor: Monitor, clock: ManualClock, site: PingSite
) -> None:
    await monitor.step()
    site.set_fault("ratelimit")
    for _ in range(3):
        clock.advance(minutes=61)
        [report] = await monitor.step()
        assert report.result.error_kind == "rate_limited"
    state = await row(monitor.db, "site0")
    assert (state.status, state.consecutive_failures) == ("active", 0)


async def test_down_provider_is_rechecked_every_down_check_interval(
    monitor: Monitor, clock: ManualClock, site: PingSite
) -> None:
    site.set_fault("error")
    for _ in range(3):
        await monitor.step()
        clock.advance(seconds=60)
    assert (await row(monitor.db, "site0")).status == "down"
    clock.advance(minutes=3, seconds=59)  # down since 09:32, due at 09:37
    assert await monitor.step() == []
    clock.advance(seconds=1)
    site.set_fault("ok")
    [report] = await monitor.step()
    assert report.status == "active"


async def test_healthy_provider_is_due_after_its_interval(
    monitor: Monitor, clock: ManualClock
) -> None:
    await monitor.step()
    clock.advance(minutes=59, seconds=59)
    assert await monitor.step() == []
    clock.advance(seconds=1)
    assert len(await monitor.step()) == 1


class TestCanary:
    @pytest.fixture
    def definitions(self, sites: list[PingSite]) -> list[dict[str, object]]:
        return [sites[0].definition("site0", health={"canary_query": "blade"})]

    async def test_broken_scraper_on_a_live_site_fails_the_canary(
        self, monitor: Monitor, site: PingSite
    ) -> None:
        [ok] = await monitor.step()
        assert ok.result.ok
        site.set_fault("layout")
        report = await monitor.checker.check("site0")
        assert not report.result.ok
        assert report.result.error_kind == "parse"
