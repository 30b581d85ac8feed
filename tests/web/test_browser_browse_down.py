"""A provider whose site is down, in a real Chromium: the monitor marks it down at start-up, the
search page grays it out with its reason, and "search down providers anyway" asks it again."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.async_api import expect

from tests.factories import PASSWORD
from tests.web.conftest import FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token

pytestmark = pytest.mark.browser


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    # Down before the server starts; one failed start-up check is enough to call it down.
    fake_sites.site("madara").set_fault("down")
    return fake_sites.env(
        KUROBARA_MONITOR_ENABLED="true",
        KUROBARA_MAX_CONSECUTIVE_FAILURES="1",
        KUROBARA_CHECK_JITTER_SECONDS="0",
        KUROBARA_CHECK_TIMEOUT="3",
    )


def wait_until_down(server: Server, provider_id: str) -> None:
    headers = api_token(server, "bob")
    deadline = time.monotonic() + 20
    with server.api() as client:
        while time.monotonic() < deadline:
            providers = client.get("/api/v1/providers/", headers=headers).json()
            if any(p["provider_id"] == provider_id and p["status"] == "down" for p in providers):
                return
            time.sleep(0.2)
    pytest.fail(f"{provider_id} never became down")


async def test_a_down_provider_is_grayed_out_and_can_be_searched_anyway(
    page: Any, server: Server, fake_sites: FakeSites, shots: Screenshots
) -> None:
    madara = fake_sites.site("madara").name
    server.register("bob", PASSWORD)
    wait_until_down(server, madara)
    await page.goto("/search?q=e")
    await log_in(page, "bob")
    await page.wait_for_url("**/search?q=e")
    chip = page.locator(f'[data-provider="{madara}"]')
    await page.locator("[data-results] .cover-card").first.wait_for()
    assert await chip.get_attribute("data-outcome") == "skipped"
    assert "is-unavailable" in (await chip.get_attribute("class") or "")
    assert await chip.locator("[data-outcome]").inner_text() == "left out: down"
    assert await chip.locator(".badge").get_attribute("data-status") == "down"
    await shots("search-provider-down")

    await page.get_by_label("Search down providers anyway").check()
    await page.wait_for_function(
        "(el) => el.dataset.outcome === 'error'", arg=await chip.element_handle()
    )
    assert "failed: connect" in await chip.locator("[data-outcome]").inner_text()
    assert "is-unavailable" in (await chip.get_attribute("class") or "")
    assert "include_down=true" in page.url
    # The other providers answer as they will; the search is over once every one has.
    await expect(page.locator("[data-provider-strip] [data-outcome='ok']")).to_have_count(3)
    await shots("search-down-anyway")
