"""Images in a real Chromium as the issue's "done when" tries them: every ``<img>`` on the
library, search, manga and reader pages is same-origin (the fake sites refuse a browser's
cross-site image requests, so an image that loads came through the proxy), and with every
fake site down the library's covers still show, from the cache."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.web.conftest import FakeSites, Screenshots, Server
from tests.web.test_browser_account import log_in
from tests.web.test_browser_browse import api_token, favorite_results, search_for

pytestmark = pytest.mark.browser

ALL_LOADED = """() => {
  const images = [...document.images];
  return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


@pytest.fixture
def server_env(fake_sites: FakeSites) -> dict[str, str]:
    return fake_sites.env()


async def image_sources(page: Any) -> list[str]:
    sources: list[str] = await page.evaluate("() => [...document.images].map((img) => img.src)")
    return sources


async def assert_same_origin_and_loaded(page: Any, server: Server) -> None:
    for img in await page.locator("img").all():
        await img.scroll_into_view_if_needed()
    await page.wait_for_function(ALL_LOADED)
    sources = await image_sources(page)
    assert sources
    assert all(src.startswith(server.url + "/") for src in sources), sources


async def test_every_image_is_same_origin_and_covers_outlive_their_sites(
    page: Any, server: Server, shots: Screenshots, fake_sites: FakeSites
) -> None:
    server.register("iris", PASSWORD)
    headers = api_token(server, "iris")
    favorite_results(server, headers, "e", 4)

    await page.goto("/library")
    await log_in(page, "iris")
    await page.wait_for_url("**/library")
    await page.locator("[data-collection] .cover-card").first.wait_for()
    await assert_same_origin_and_loaded(page, server)
    await shots("library")

    await page.goto("/search")
    await search_for(page, "e")
    await assert_same_origin_and_loaded(page, server)

    await page.locator("[data-results] .cover-card a").first.click()
    await page.wait_for_url("**/manga/*")
    await assert_same_origin_and_loaded(page, server)
    await page.locator("[data-chapter-list] li a").first.click()
    await page.wait_for_url("**/read/**")
    await page.locator("[data-page] img").first.wait_for()
    first_page = page.locator("[data-page] img").first
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await first_page.element_handle()
    )
    assert all(src.startswith(server.url + "/") for src in await image_sources(page))
    await shots("reader")

    await page.goto("/settings")
    saver = page.get_by_label("Data saver (compressed MangaDex pages)")
    await page.wait_for_function("() => !document.querySelector('[data-data-saver]').disabled")
    await saver.check()
    await page.get_by_text("Data saver on.").wait_for()
    with server.api() as api:
        prefs = api.get("/api/v1/images/preferences", headers=headers).json()
    assert prefs == {"data_saver": True}
    await shots("settings-images")

    for site in fake_sites.hub.sites.values():
        site.set_fault("down")
    await page.goto("/library")
    await page.locator("[data-collection] .cover-card").first.wait_for()
    await assert_same_origin_and_loaded(page, server)
    await shots("library-sites-down")
