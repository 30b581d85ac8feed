"""The Browse page in a real Chromium against the demo's fake sites: reached from Search, each
provider's popular and latest lists as cover cards, a failing site saying what happened, and the
Settings switch that lets NSFW titles in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.web.conftest import FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    return fake_sites.env(KUROBARA_SEARCH_TIMEOUT="4")


def cards(page: Any) -> Any:
    return page.locator("[data-results] .cover-card")


async def test_browse_lists_failures_and_the_nsfw_setting(
    page: Any, server: Server, fake_sites: FakeSites, shots: Screenshots
) -> None:
    server.register("fay", PASSWORD)
    await page.goto("/search")
    await log_in(page, "fay")
    await page.wait_for_url("**/search")
    await page.locator("[data-browse-link]").click()
    await page.wait_for_url("**/browse")

    dex = fake_sites.site("mangadex")
    tab = page.locator(f'[data-browse-provider="{dex.name}"]')
    assert await tab.get_attribute("aria-current") == "page"
    # The html kind has no lists: it is not offered.
    assert (
        await page.locator(f'[data-browse-provider="{fake_sites.site("html").name}"]').count() == 0
    )
    popular = await cards(page).all_inner_texts()
    assert popular
    most_followed = next(s.title for s in dex.catalog.popular() if dex.ratings[s.id] != "erotica")
    assert most_followed in popular[0]
    await shots("browse-popular")

    await page.locator('[data-browse-list="latest"]').click()
    await page.wait_for_url("**list=latest")
    latest = await cards(page).all_inner_texts()
    assert latest
    assert latest != popular

    madara = fake_sites.site("madara")
    await page.locator(f'[data-browse-provider="{madara.name}"]').click()
    await page.wait_for_url(f"**provider={madara.name}**")
    assert await cards(page).count() > 0
    # Its covers come through the image proxy: let them load before the site goes away.
    await page.wait_for_load_state("networkidle")
    madara.set_fault("down")
    await page.reload()
    problem = page.locator('[data-browse-status="error"]')
    assert f"{madara.title} refused the connection" in await problem.inner_text()
    await shots("browse-failing")
    madara.set_fault("ok")

    await page.goto(f"/browse?provider={dex.name}&list=popular")
    hidden = await cards(page).count()
    await page.goto("/settings")
    box = page.locator("[data-show-nsfw]")
    await page.wait_for_function("() => !document.querySelector('[data-show-nsfw]').disabled")
    assert not await box.is_checked()
    await box.check()
    await page.get_by_text("NSFW shown.").wait_for()
    await shots("settings-nsfw")
    await page.goto(f"/browse?provider={dex.name}&list=popular")
    shown = await cards(page).count()
    nsfw_in_page = sum(1 for s in dex.catalog.popular()[:24] if dex.ratings[s.id] == "erotica")
    assert nsfw_in_page > 0
    assert shown == hidden + nsfw_in_page
