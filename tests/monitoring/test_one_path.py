"""Every write the UI offers goes through the same service function as the API: the Settings
form's check interval moves the schedule exactly as ``PATCH /providers/check-interval`` does."""

from __future__ import annotations

from datetime import timedelta

import httpx

from kurobara.monitoring import claims
from kurobara.monitoring.jobs import Monitor
from tests.factories import UserFactory
from tests.monitoring.conftest import ManualClock
from tests.monitoring.helpers import row
from tests.monitoring.sites import PingSite
from tests.web.helpers import post_form, web_login


async def test_the_settings_form_brings_the_next_check_forward(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock
) -> None:
    bob = await users.bob()
    alice = await users.alice()
    for persona in (alice, bob):
        await client.patch("/api/v1/providers/check-interval", json={"interval": 43200},
                           headers=persona.headers)  # fmt: skip
    await monitor.step()
    assert (await row(monitor.db, "site0")).next_check_at == clock.now() + timedelta(days=30)
    await web_login(client, "bob")
    response = await post_form(client, "/settings/check-interval", {"interval": "30"})
    assert response.status_code == 303
    assert (await row(monitor.db, "site0")).next_check_at == clock.now() + timedelta(minutes=30)


async def test_the_settings_form_resets_the_checkers_cached_interval(
    client: httpx.AsyncClient, users: UserFactory, monitor: Monitor, clock: ManualClock
) -> None:
    bob = await users.bob()
    await client.patch("/api/v1/providers/check-interval", json={"interval": 43200},
                       headers=bob.headers)  # fmt: skip
    alice = await users.alice()
    await client.patch("/api/v1/providers/check-interval", json={"interval": 43200},
                       headers=alice.headers)  # fmt: skip
    await monitor.step()
    await web_login(client, "bob")
    await post_form(client, "/settings/check-interval", {"interval": "30"})
    await monitor.checker.check("site0")  # within the cache's life: it must be read afresh
    assert (await row(monitor.db, "site0")).next_check_at == clock.now() + timedelta(minutes=30)


async def test_the_search_page_leaves_out_a_down_provider_even_while_it_is_tested(
    client: httpx.AsyncClient,
    users: UserFactory,
    monitor: Monitor,
    clock: ManualClock,
    site: PingSite,
) -> None:
    await users.bob()
    site.set_fault("error")
    for _ in range(3):
        clock.advance(minutes=61)
        await monitor.step()
    async with monitor.db.session() as session:
        now = clock.now()
        await claims.claim(db_session=session, provider_id="site0", owner="elsewhere", now=now,
                           lease_until=now + timedelta(minutes=1))  # fmt: skip
    await web_login(client, "bob")
    page = await client.get("/search")
    chip = page.text.split('data-provider="site0"', 1)[1].split("</li>", 1)[0]
    assert "left out: down" in chip  # what search itself does: search_skips says down
