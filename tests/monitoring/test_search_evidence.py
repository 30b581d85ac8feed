"""Failed searches are evidence (issue 13, item 3), timed with the injected clock from the
moment a fake site is switched to a fault: ``down`` within 30 s while a user searches every
5 s, within 3 min (demo settings) while nobody searches; after that no search waits on it, and
only a check brings it back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from kurobara.monitoring.jobs import Monitor
from kurobara.providers.fakes.demo import DEMO_CHECK_INTERVAL, DEMO_CHECK_TIMEOUT, demo_settings
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import row
from tests.monitoring.sites import PingSite

# A user searching every few seconds, as someone retyping a title does.
SEARCH_EVERY = timedelta(seconds=5)
WHILE_SEARCHING = timedelta(seconds=30)
WHILE_NOBODY_SEARCHES = timedelta(minutes=3)


@pytest.fixture
def definitions(sites: list[PingSite]) -> list[dict[str, Any]]:
    return [s.definition(s.name, check_interval=DEMO_CHECK_INTERVAL) for s in sites]


@pytest.fixture
def monitor_settings() -> dict[str, object]:
    # Real waits stay short (a hanging site costs the test 0.3 s per search, 1 s per check);
    # the clock is what measures, with the demo's retry interval and its jitter.
    return {
        **demo_settings(),
        "check_timeout": 1.0,
        "check_jitter_seconds": 30,
        "search_timeout": 1.0,
        "search_deadline_floor": 0.3,
    }


async def search(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/v1/search", params={"q": "blade"}, headers=headers)
    assert response.status_code == 200, response.text
    return {p["provider_id"]: p for p in response.json()["providers"]}


async def search_while(
    site: PingSite, fault: str, times: int,
    client: httpx.AsyncClient, headers: dict[str, str], clock: ManualClock,
) -> None:  # fmt: skip
    """Switch ``site`` to ``fault``, then search ``times``, ``SEARCH_EVERY`` apart."""
    site.set_fault(fault)
    for _ in range(times):
        clock.advance(seconds=SEARCH_EVERY.total_seconds())
        await search(client, headers)


@pytest.mark.parametrize("fault", ["slow", "down"])
async def test_a_failing_site_is_down_within_30_s_while_users_search(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    sites: list[PingSite], fault: str,
) -> None:  # fmt: skip
    bob = await users.bob()
    await monitor.step()
    assert (await row(monitor.db, "site0")).status == "active"
    switched = clock.now()
    sites[0].set_fault(fault)
    searches = 0
    while (await row(monitor.db, "site0")).status != "down":
        assert clock.now() - switched <= WHILE_SEARCHING, f"still up after {searches} searches"
        clock.advance(seconds=SEARCH_EVERY.total_seconds())
        outcome = (await search(client, bob.headers))["site0"]
        assert outcome["status"] in ("error", "slow")
        searches += 1
        if searches == 1:
            # The first failure asked for a check at once.
            assert (await row(monitor.db, "site0")).next_check_at == clock.now()
    assert clock.now() - switched <= WHILE_SEARCHING
    # From now on no search waits on it.
    after = await search(client, bob.headers)
    assert (after["site0"]["status"], after["site0"]["reason"]) == ("skipped", "down")
    assert after["site1"]["status"] == "ok"


async def test_a_burst_of_searches_in_one_second_is_one_observation(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    sites: list[PingSite],
) -> None:  # fmt: skip
    bob = await users.bob()
    await monitor.step()
    sites[0].set_fault("down")
    for _ in range(4):
        await search(client, bob.headers)
    state = await row(monitor.db, "site0")
    assert (state.status, state.search_failures) == ("active", 1)


async def test_a_failing_site_is_down_within_3_min_while_nobody_searches(
    monitor: Monitor, clock: ManualClock, sites: list[PingSite]
) -> None:
    await monitor.step()
    switched = clock.now()  # just after a check: the longest wait for the next one
    sites[0].set_fault("slow")
    checks = 0
    while (state := await row(monitor.db, "site0")).status != "down":
        assert state.next_check_at is not None
        # The scheduler wakes when the check is due; the hanging check runs its whole timeout.
        clock.set(max(clock.now(), state.next_check_at))
        clock.advance(seconds=DEMO_CHECK_TIMEOUT)
        await monitor.step()
        checks += 1
    assert checks == 3
    assert clock.now() - switched <= WHILE_NOBODY_SEARCHES


async def test_recovery_is_confirmed_by_a_check_not_by_a_search(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    sites: list[PingSite],
) -> None:  # fmt: skip
    bob = await users.bob()
    await monitor.step()
    await search_while(sites[0], "down", 3, client, bob.headers, clock)
    assert (await row(monitor.db, "site0")).status == "down"
    sites[0].set_fault("ok")
    response = await client.get("/api/v1/search", params={"q": "blade", "include_down": "true"},
                                headers=bob.headers)  # fmt: skip
    assert {p["provider_id"]: p["status"] for p in response.json()["providers"]}["site0"] == "ok"
    assert (await row(monitor.db, "site0")).status == "down"
    clock.set((await row(monitor.db, "site0")).next_check_at or clock.now())
    await monitor.step()
    state = await row(monitor.db, "site0")
    assert (state.status, state.search_failures) == ("active", 0)


async def test_an_answer_that_is_no_outage_is_not_counted(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock,
    sites: list[PingSite],
) -> None:  # fmt: skip
    bob = await users.bob()
    await monitor.step()
    await search_while(sites[0], "ratelimit", 4, client, bob.headers, clock)
    state = await row(monitor.db, "site0")
    assert (state.status, state.search_failures) == ("active", 0)
