"""The reading loop in a real Chromium, as the issue's "done when" tries it: read marks on the
manga page, the unread badge and Continue on the library card, a chapter added on a fake site
found by "Update now" on the Updates page, and the History page — desktop and phone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import TLS
from tests.factories import PASSWORD
from tests.web.conftest import PHONE, FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token
from tests.web.test_browser_reader import mangadex, two_manga, wait_counter

pytestmark = pytest.mark.browser


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    # The library updater runs beside the monitor; chapter lists are refreshed on every look,
    # so a site switched down shows at once as a stale list.
    return fake_sites.env(KUROBARA_MONITOR_ENABLED="true", KUROBARA_CHAPTER_CACHE_SECONDS="0")


async def test_mark_read_continue_update_now_and_history(
    page: Any, server: Server, shots: Screenshots, fake_sites: FakeSites
) -> None:
    server.register("gina", PASSWORD)
    headers = api_token(server, "gina")
    manga, _ = two_manga(server, headers, mangadex(fake_sites))
    async with httpx.AsyncClient(base_url=server.url, headers=headers, verify=TLS) as client:
        assert (await client.post(f"/api/v1/favorites/{manga['id']}")).status_code == 200
    chapters = manga["chapters"]
    total = len(chapters)

    await page.goto(f"/manga/{manga['id']}")
    await log_in(page, "gina")
    await page.wait_for_url(f"**/manga/{manga['id']}")
    items = page.locator("[data-chapter-list] li")
    await items.first.wait_for()
    # Newest first: the second-oldest chapter is the last but one.
    await items.nth(total - 2).hover()
    await items.nth(total - 2).get_by_role("button", name="Mark read up to").click()
    await page.wait_for_function("() => document.querySelectorAll('li.is-read').length === 2")
    await shots("manga-marked")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    card = page.locator("[data-collection] .cover-card").first
    assert await card.locator("[data-unread]").text_content() == f"{total - 2} unread"
    await shots("library-unread")
    await card.locator("[data-continue]").click()
    await page.wait_for_url(f"**/read/{chapters[2]['id']}")
    await wait_counter(page, "1 / " + str(await page.locator("[data-page]").count()))

    # A new chapter on the site; Update now finds it.
    site = fake_sites.site("mangadex")
    site.add_chapter(manga["sources"][0]["external_id"])
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Updates").click()
    await page.wait_for_url("**/updates")
    await page.get_by_role("button", name="Update now").click()
    summary = page.locator("[data-run-summary]")
    await summary.get_by_text("1 new chapter in 1 series").wait_for(timeout=30_000)
    await expect(page.locator("[data-update]")).to_have_count(1)
    await shots("updates")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    await page.wait_for_url("**/history")
    assert await page.locator("[data-history-item]").count() >= 1
    await shots("history")
    page.on("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Clear history").click()
    await page.get_by_text("History cleared.").wait_for()

    # Notification settings, saved through the API and shown again after a reload.
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    notify = page.locator("[data-notify]")
    await notify.get_by_label("Favorites", exact=True).check()
    await notify.get_by_label("Apprise URLs").fill("json://127.0.0.1:9/new-chapters")
    await notify.get_by_role("button", name="Save notifications").click()
    await notify.get_by_text("Notifications saved.").wait_for()
    await page.reload()
    assert await notify.get_by_label("Apprise URLs").input_value() == (
        "json://127.0.0.1:9/new-chapters"
    )
    assert await notify.locator("input[value=favorites]").is_checked()
    await shots("settings-notifications")

    await page.set_viewport_size(PHONE)
    await page.emulate_media(color_scheme="dark")
    await page.goto("/updates")
    await shots("updates-phone-dark")
    await page.goto("/library")
    await shots("library-phone-dark")
    await page.goto(f"/manga/{manga['id']}")
    await items.first.wait_for()
    await shots("manga-phone-dark")

    # The site goes down: the stored list stays, under a banner that says so (the cover comes
    # through the image proxy, from its cache: the browser never asks the site).
    site.set_fault("down")
    await page.reload()
    banner = page.locator("[data-chapters-stale]")
    await banner.wait_for()
    assert "stored here" in await banner.inner_text()
    await expect(items).to_have_count(total + 1)
    await shots("manga-stale-phone-dark")
